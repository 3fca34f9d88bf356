"""Answer objects: figures, a short Chinese explanation, the citations and a trace of the rules used.

One `Answer` class serves every question so handlers render them the same way; `question` says which
fields apply, and `to_json()` emits only those (never a money key on a refusal).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

QUESTION_KEYS: dict[str, tuple[str, ...]] = {
    "amount": (
        "personal",
        "total",
        "subsidy",
        "government",
        "total_derived",
        "subsidy_by",
        "pay_first",
        "reimbursed_later",
        "net",
        "winner",
        "set_aside",
        "not_in_document",
        "newborn_fees",
    ),
    "deadline": (
        "deadline",
        "days_left",
        "days_overdue",
        "missed",
        "extended",
        "periods",
        "missed_consequence",
        "extensions",
    ),
    "benefit_start": ("paid_on", "benefit_start", "benefit_end", "rule"),
    "eligibility": ("eligible", "group", "enroll_where", "conditions"),
    "refund": ("reason", "refund_allowed", "event_on", "cutoff", "requires"),
    "payment_info": ("items",),
    "contacts": ("items",),
    "explain_pay_first": ("items",),
    "summary": ("personal", "total", "deadline", "periods", "benefit_start", "benefit_end"),
    "amount_table": ("rows",),
    "task_target": ("items",),
    "not_in_document": ("topic", "items"),
    "waiting_period": ("paid_on", "benefit_start", "benefit_end", "rule"),
    "incentive": (),
}
# Emitted for every question when set: the fact the answer hinges on, for the dialogue to ask next.
COMMON_KEYS = ("needs",)


@dataclass(frozen=True)
class Citation:
    document: str  # the document number, e.g. 五政办秘〔2023〕50号
    locator: str  # the clause, e.g. 二（二）2
    quote: str  # the verbatim sentence

    def to_json(self) -> dict[str, str]:
        return {"document": self.document, "locator": self.locator, "quote": self.quote}


@dataclass(frozen=True)
class SubsidyShare:
    payer: str
    amount: Decimal
    part: str  # "government" (the financing subsidy) | "personal_aid" (help on the personal part)


@dataclass(frozen=True)
class Answer:
    question: str
    ok: bool
    refusal: str | None = None
    locality: str | None = None
    coverage_year: int | None = None
    explanation_zh: str = ""
    citations: tuple[Citation, ...] = ()
    trace: tuple[str, ...] = ()
    # amount
    personal: Decimal | None = None  # what the person pays now
    total: Decimal | None = None  # financing standard per person
    total_derived: bool | None = None  # True when the document does not state the total
    government: Decimal | None = None
    subsidy: Decimal | None = None  # help on the personal contribution (0 when none)
    subsidy_by: tuple[SubsidyShare, ...] | None = None
    pay_first: bool | None = None  # 先缴后补: pays `personal` now, gets `reimbursed_later` back
    reimbursed_later: Decimal | None = None
    net: Decimal | None = None  # what the person bears in the end
    winner: str | None = None
    set_aside: tuple[str, ...] | None = None
    not_in_document: tuple[str, ...] | None = None
    # deadline
    deadline: dt.date | None = None
    days_left: int | None = None
    days_overdue: int | None = None
    missed: bool | None = None
    extended: bool | None = None
    periods: tuple[dict[str, Any], ...] | None = None
    missed_consequence_zh: str | None = None
    # benefit start
    paid_on: dt.date | None = None
    benefit_start: dt.date | None = None
    benefit_end: dt.date | None = None
    rule: str | None = None
    newborn_fees: tuple[dict[str, Any], ...] | None = None  # by coverage year, for a newborn's birth year
    # deadline: later dates for named groups (migrant workers), each with its citation
    extensions: tuple[dict[str, Any], ...] | None = None
    # eligibility
    eligible: bool | None = None
    group: str | None = None
    enroll_where: str | None = None
    conditions: tuple[str, ...] | None = None  # what the group requires, as the resident must meet it
    # refund
    reason: str | None = None
    refund_allowed: bool | None = None
    event_on: dt.date | None = None  # the day of the death, second payment, ... (not the day asked)
    cutoff: dt.date | None = None  # the event must be before this day
    requires: str | None = None  # documents to bring
    # amount table: one row per category (code, name, personal, subsidy, pay_first, ...)
    rows: tuple[dict[str, Any], ...] | None = None
    # not_in_document
    topic: str | None = None
    # an answer that hinges on one fact the question did not give (e.g. "event_on")
    needs: tuple[str, ...] | None = None
    # info answers (channels, contacts, pay-first categories)
    items: tuple[dict[str, Any], ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def missed_consequence(self) -> str | None:
        return self.missed_consequence_zh

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question, "ok": self.ok}
        if self.refusal:
            out["refusal"] = self.refusal
        out["locality"] = self.locality
        out["coverage_year"] = self.coverage_year
        out["explanation"] = self.explanation_zh
        out["citations"] = [c.to_json() for c in self.citations]
        out["trace"] = list(self.trace)
        for key in (*QUESTION_KEYS.get(self.question, ()), *COMMON_KEYS):
            value = getattr(self, "missed_consequence_zh" if key == "missed_consequence" else key)
            if value is not None:
                out[key] = _plain(value)
        for key, value in self.extra.items():  # question-specific figures (waiting months, raises)
            out.setdefault(key, _plain(value))
        return out


def _plain(value: Any) -> Any:
    """JSON-friendly: money as int when whole else float, dates ISO, tuples as lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, SubsidyShare):
        return {"payer": value.payer, "amount": _plain(value.amount), "part": value.part}
    if isinstance(value, Citation):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
