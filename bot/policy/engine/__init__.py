"""The policy engine: pure functions answering residents' questions from the locality's policy pack.

No I/O per call (packs are loaded and validated once per process); the date asked about is always
passed in (`on` / `paid_on`), never read from a clock here. `loc` is a locality id (or Chinese name)
or a PolicyPack. Every answer is an `Answer`: ok/refusal, figures, explanation_zh, citations, trace.
"""

from __future__ import annotations

from bot.policy.engine.amount import amount
from bot.policy.engine.answers import Answer, Citation, SubsidyShare
from bot.policy.engine.continuity import History, benefit_start_with_history, incentive, waiting_period
from bot.policy.engine.dates import benefit_start, deadline
from bot.policy.engine.eligibility import eligibility, school_area
from bot.policy.engine.info import contacts, explain_pay_first, payment_info, summary
from bot.policy.engine.not_covered import TOPICS as NOT_IN_DOCUMENT_TOPICS
from bot.policy.engine.not_covered import not_in_document
from bot.policy.engine.person import Person
from bot.policy.engine.refund import REASONS_ZH as REFUND_REASONS
from bot.policy.engine.refund import refund
from bot.policy.engine.table import amount_table
from bot.policy.engine.tasks import task_target

__all__ = [
    "NOT_IN_DOCUMENT_TOPICS",
    "REFUND_REASONS",
    "Answer",
    "Citation",
    "History",
    "Person",
    "SubsidyShare",
    "amount",
    "amount_table",
    "benefit_start",
    "benefit_start_with_history",
    "contacts",
    "deadline",
    "eligibility",
    "explain_pay_first",
    "not_in_document",
    "incentive",
    "payment_info",
    "refund",
    "school_area",
    "summary",
    "task_target",
    "waiting_period",
]
