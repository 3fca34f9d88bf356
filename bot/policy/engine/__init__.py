"""The policy engine: pure functions answering residents' questions from the locality's policy pack.

No I/O per call (packs are loaded and validated once per process); the date asked about is always
passed in (`on` / `paid_on`), never read from a clock here.
"""

from __future__ import annotations

from bot.policy.engine.amount import amount
from bot.policy.engine.answers import Answer, Citation, SubsidyShare
from bot.policy.engine.person import Person

__all__ = ["Answer", "Citation", "Person", "SubsidyShare", "amount"]
