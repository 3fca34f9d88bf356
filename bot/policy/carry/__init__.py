"""`yibao policy new`: carry a locality's newest pack forward to next year's notice.

`carry_forward(raw_pack, old_text, new_text, year=..., source_name=...)` returns the draft mapping and
the checklist (kept / changed / missing / review); `dump_draft` renders it as YAML. Pure: the CLI does
the reading and writing. See docs/policy-packs.md, "Next year's pack".
"""

from __future__ import annotations

from bot.policy.carry.draft import dump_draft, plain, review_entries
from bot.policy.carry.forward import CarryResult, Change, Missing, Review, carry_forward

__all__ = ["CarryResult", "Change", "Missing", "Review", "carry_forward", "dump_draft", "plain", "review_entries"]
