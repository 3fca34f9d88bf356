"""Strict schema of a policy pack (one locality, one coverage year).

Every figure, date and name the engine uses is a *cited* value: it carries the locator of its clause
(e.g. 二（二）2) and the verbatim sentence it comes from, so an answer can always show its source.
Unknown keys are rejected everywhere (extra="forbid"), so a typo in a staff-edited pack fails loudly.
Checks that need the seed text (quotes really occur in it) live in the loader, not here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.policy.vocab import vocabulary

StudentKind = Literal["university", "vocational", "school"]
RefundReason = Literal["death", "duplicate", "employee_insurance", "other_city", "new_aid"]
LateReason = Literal["new_aid", "veteran", "released", "cross_system", "mental", "aid_break"]
HelpKind = Literal["full", "fixed", "percentage", "paid_by", "pay_first", "none", "not_stated"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Strict):
    """A clause reference: which document, where in it, and the exact sentence."""

    locator: str = Field(min_length=1, description="clause locator as printed, e.g. 二（二）2 or 附件2")
    quote: str = Field(min_length=1, description="verbatim text from the seed (whitespace may differ)")
    doc: str = Field("main", description="key into the pack's `documents`")


class Money(Cited):
    value: Decimal = Field(ge=0, description="yuan per person per year")


class CitedDate(Cited):
    value: dt.date


class CitedText(Cited):
    value: str = Field(min_length=1)


class CitedInt(Cited):
    value: int = Field(ge=0)


class CompletionMark(Cited):
    """A completion rate the office must reach by a date (唐河: 96 % of the task by 11-30)."""

    value: Decimal = Field(gt=0, le=1, description="fraction of the task-table target, e.g. 0.96")
    by: dt.date | None = None


# ---------------------------------------------------------------- identity


class Document(Strict):
    number: CitedText
    title: CitedText
    issued: CitedDate
    issuer: CitedText
    source: str = Field(min_length=1, description="seed file name under bot/policy/sources/")


class Locality(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    aliases: tuple[str, ...] = ()
    level: Literal["town", "county", "city"]
    division_code: str = Field(pattern=r"^\d{6}$")
    division_note: str | None = None
    province: str
    city: str
    county: str | None = None
    cite: Cited


# ---------------------------------------------------------------- money


class GovShare(Cited):
    payer: str
    value: Decimal = Field(ge=0)


class Financing(Strict):
    total: Money | None = None  # None: the document does not state it; derived as government + personal
    government: Money
    government_at_least: bool = False  # 唐河: "不低于 610 元"
    government_note: str | None = None
    government_split: tuple[GovShare, ...] = ()
    personal: Money

    @model_validator(mode="after")
    def _sums(self) -> Financing:
        if self.government_split:
            split = sum(s.value for s in self.government_split)
            if split != self.government.value:
                raise ValueError(
                    f"government_split adds up to {split}, not government {self.government.value}"
                )
        if self.total is not None and self.total.value != self.government.value + self.personal.value:
            raise ValueError(
                f"total {self.total.value} != government {self.government.value} + personal {self.personal.value}"
            )
        return self


class Payer(Cited):
    name: str = Field(min_length=1)
    percent: Decimal = Field(Decimal(100), gt=0, le=100)


class Help(Strict):
    """What a category (or an age band) gets on the personal contribution."""

    kind: HelpKind
    basis: Cited  # the clause that grants (or explicitly denies, or leaves open) the help
    subsidy: Money | None = None  # fixed / pay_first: yuan; full: optional, as printed
    personal: Money | None = None  # what the document says the person pays, cross-checked
    percent: Decimal | None = Field(None, gt=0, le=100)  # percentage: share of the personal part
    payers: tuple[Payer, ...] = ()
    note_zh: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Help:
        need_subsidy = self.kind in ("fixed", "pay_first")
        if need_subsidy and self.subsidy is None:
            raise ValueError(f"kind {self.kind} needs subsidy")
        if self.kind == "percentage" and self.percent is None:
            raise ValueError("kind percentage needs percent")
        if self.kind != "percentage" and self.percent is not None:
            raise ValueError("percent is only for kind percentage")
        if self.kind in ("none", "not_stated") and (self.subsidy or self.payers):
            raise ValueError(f"kind {self.kind} takes no subsidy or payers")
        if self.payers and sum(p.percent for p in self.payers) != 100:
            raise ValueError("payers' percent must add up to 100")
        return self


class Category(Strict):
    code: str
    name_zh: str
    synonyms: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()  # other vocabulary codes this local category covers (孤儿 in 特困)
    help: Help
    note_zh: str | None = None


class AgeRule(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name_zh: str
    min_age: int = Field(ge=0)
    max_age: int | None = Field(None, ge=0)  # inclusive
    help: Help


class AgeRules(Strict):
    reference: Literal["payment_date"]  # the day on which age is taken (the document does not say)
    reference_note: str
    rules: tuple[AgeRule, ...]


class Combination(Strict):
    rule: Literal["most_generous"]
    cite: Cited | None = None  # None: the document has no such clause; the agreed reading applies
    note: str | None = None


# ---------------------------------------------------------------- who may enroll


class SchoolWhere(Strict):
    """Where pupils enroll, by where their school is (唐河 二（一）2); the group's quote is the source."""

    urban_zh: str = Field(min_length=1)  # 城区学校
    town_zh: str = Field(min_length=1)  # 乡镇（街道）学校


class Group(Cited):
    id: str
    name_zh: str
    hukou_local: bool | None = None
    residence_permit: bool | None = None  # True: a 居住证 is required
    long_term_residence: bool | None = None  # True: must live here long-term (常住/长期居住)
    not_insured_at_origin: bool | None = None  # True: must not be insured where the 户籍 is (五河 一（二）)
    # The group's conditions as a resident reads them; stated with every answer under this group,
    # because the engine rarely knows them all (how long someone has lived here, say).
    conditions_zh: tuple[str, ...] = ()
    permit_same_subsidy: Cited | None = None  # 桃园 三（二）: 居住证 holders get the same subsidy
    student: tuple[StudentKind, ...] | None = None
    where_zh: str | None = None
    school_where: SchoolWhere | None = None


class Elsewhere(Cited):
    id: str
    name_zh: str
    employee_insured: bool | None = None
    student: tuple[StudentKind, ...] | None = None
    enroll_where_zh: str
    aided_may_enroll_here: Cited | None = None


class Eligibility(Strict):
    groups: tuple[Group, ...] = Field(min_length=1)
    elsewhere: tuple[Elsewhere, ...] = ()


# ---------------------------------------------------------------- dates


class Period(Cited):
    kind: Literal["collection", "concentrated"]
    label_zh: str
    start: dt.date | None = None  # None: the document states only the end
    end: dt.date


class BenefitPeriod(Cited):
    start: dt.date
    end: dt.date


class MigrantExtension(Cited):
    end: dt.date
    benefit_from_year_start: bool = True


class NewbornFee(Money):
    """What a newborn born in `born_in` pays for `coverage_year` (五河 三（一）1: 2023-born pay 350, 380)."""

    born_in: int = Field(ge=2000, le=2100)
    coverage_year: int = Field(ge=2000, le=2100)


class NewbornRule(Cited):
    within_days: int = Field(gt=0)  # birth day is day 1
    after: Cited | None = None  # wuhe: later but within one year -> from the day after payment


class WaitingRule(Cited):
    """A waiting period before benefits start; `uncovered_in_waiting`: the clause also says that
    medical costs during the wait are not reimbursed (it must then say 不予报销)."""

    uncovered_in_waiting: bool = False

    @model_validator(mode="after")
    def _uncovered_is_quoted(self) -> WaitingRule:
        if self.uncovered_in_waiting and "不予报销" not in self.quote:
            raise ValueError("uncovered_in_waiting needs a quote that says 不予报销")
        return self


class LateRule(WaitingRule):
    kind: Literal["nth_month_counting_payment_month", "waiting_months_from_next_month"]
    months: int = Field(gt=0)
    note_zh: str | None = None


class SpecialLate(Cited):
    reasons: tuple[LateReason, ...] = Field(min_length=1)
    max_break_months: int | None = None  # cross_system: only when the break is at most this long
    # Vocabulary codes of the aid groups the clause names: a member recognised after the collection
    # period is 动态新增 (new_aid) without being told so; one whose reason is unknown is asked.
    categories: tuple[str, ...] = ()


class BreakWaiting(WaitingRule):
    reason: LateReason
    over_break_months: int
    waiting_months: int = Field(gt=0)


class Dates(Strict):
    periods: tuple[Period, ...] = Field(min_length=1)
    benefit: BenefitPeriod
    migrant_extension: MigrantExtension | None = None
    newborn: NewbornRule | None = None
    newborn_fees: tuple[NewbornFee, ...] = ()
    late: LateRule | None = None
    special_late: tuple[SpecialLate, ...] = ()
    break_waiting: BreakWaiting | None = None
    aid_recognition_cutoff: CitedDate | None = None
    check_phase: Period | None = None  # wuhe 六（四）: staff chase the unpaid

    @model_validator(mode="after")
    def _order(self) -> Dates:
        if sum(p.kind == "collection" for p in self.periods) != 1:
            raise ValueError("exactly one period of kind 'collection' (the residents' deadline)")
        for p in self.periods:
            if p.start is not None and p.start > p.end:
                raise ValueError(f"period {p.label_zh}: start {p.start} after end {p.end}")
        if self.benefit.start > self.benefit.end:
            raise ValueError("benefit.start after benefit.end")
        return self

    @property
    def collection(self) -> Period:
        return next(p for p in self.periods if p.kind == "collection")


# ---------------------------------------------------------------- refunds, payment, contacts, tasks


class RefundRule(Cited):
    reasons: tuple[RefundReason, ...] = Field(min_length=1)
    before: dt.date  # allowed when the event (death, second payment, ...) happened before this day
    recognised_by: dt.date | None = None  # new_aid: recognised on or before this day
    # What the date is taken from when it is not the reason's own event: 桃园's duplicate refund needs
    # the insurance ended (办理终止参保关系) before the benefit year, not just the second payment.
    event_zh: str | None = None
    requires_zh: str | None = None
    where_zh: str | None = None
    note_zh: str | None = None


class Refunds(Strict):
    rules: tuple[RefundRule, ...] = Field(min_length=1)
    after_start: Cited  # the sentence saying no refund once benefits began


class Channel(Cited):
    name: str
    kind: Literal["online", "offline", "collector"]


class Payment(Strict):
    channels: tuple[Channel, ...] = Field(min_length=1)
    how: tuple[CitedText, ...] = ()


class Phone(Cited):
    office: str
    person: str | None = None
    phone: str = Field(pattern=r"^[0-9-]{7,13}$")
    town: str | None = None


class Contacts(Strict):
    phones: tuple[Phone, ...] = ()
    where_to_ask: tuple[CitedText, ...] = ()


class TaskEntry(Cited):
    name: str
    aliases: tuple[str, ...] = ()
    target: int = Field(ge=0)
    registered_population: int | None = Field(None, ge=0)
    note_zh: str | None = None


class TaskTable(Strict):
    level: Literal["town", "village"]
    entries: tuple[TaskEntry, ...] = Field(min_length=1)
    total: CitedInt
    registered_population_total: CitedInt | None = None
    goals: tuple[CitedText, ...] = ()
    completion_mark: CompletionMark | None = None  # drawn on staff progress charts
    # The printed 合计 row is kept as printed; when the rows do not add up to it (五河, 滕州 are off
    # by one) the pack must say so here, so a typo in an edited row is still caught.
    total_mismatch_note: str | None = None

    @model_validator(mode="after")
    def _sums(self) -> TaskTable:
        got = sum(e.target for e in self.entries)
        if got != self.total.value and not self.total_mismatch_note:
            raise ValueError(
                f"targets add up to {got}, the table's total says {self.total.value} "
                "(fix the rows, or explain a discrepancy printed in the document in total_mismatch_note)"
            )
        if self.registered_population_total is not None:
            pop = sum(e.registered_population or 0 for e in self.entries)
            if pop != self.registered_population_total.value:
                raise ValueError(
                    f"registered populations add up to {pop}, not {self.registered_population_total.value}"
                )
        return self


class NotModelled(Cited):
    reason: str = Field(min_length=1)


# ---------------------------------------------------------------- rules in force since 2025 (国办发〔2024〕38号)
# Optional: a pack has them when its notice carries them. Figures and readings are the local
# notice's (provinces set them); docs/policy-packs.md "Continuity" shows how a notice maps here.


class WaitingFixed(Cited):
    """固定待遇等待期 for people enrolling outside the collection period or not continuously insured."""

    months: int = Field(gt=0)
    # When the waiting period starts for a payment outside the collection period (a payment inside it
    # waits from the benefit period's start).
    counts_from: Literal["day_after_payment", "month_after_payment"] = "day_after_payment"


class WaitingVariable(Cited):
    """变动待遇等待期: `months_per_year` for each uninsured year beyond `free_years`.

    "每多断保1年增加1个月" reads as free_years 1: one year without insurance is covered by the fixed
    period, two years add one month.
    """

    months_per_year: int = Field(gt=0)
    free_years: int = Field(1, ge=0)


class WaitingRepair(Cited):
    """Paying for missed years (补缴) shortens the variable period by `months_per_year` per year paid."""

    months_per_year: int = Field(gt=0)


class WaitingFloor(Cited):
    """After `from_years` or more uninsured years, fixed + variable stay at least `months`."""

    from_years: int = Field(gt=0)
    months: int = Field(gt=0)


class Exemption(Cited):
    """A group that gets no waiting period (newborns, the special groups the notice names)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name_zh: str
    newborn: bool = False
    categories: tuple[str, ...] = ()  # vocabulary codes
    reasons: tuple[LateReason, ...] = ()  # the person's special_late_reason

    @model_validator(mode="after")
    def _names_someone(self) -> Exemption:
        if not (self.newborn or self.categories or self.reasons):
            raise ValueError("an exemption names newborns, categories or reasons")
        unknown = [c for c in self.categories if c not in vocabulary()]
        if unknown:
            raise ValueError(f"unknown category codes {unknown} (not in bot/policy/vocabulary.yaml)")
        return self


class Waiting(Strict):
    fixed: WaitingFixed
    variable: WaitingVariable | None = None
    repair: WaitingRepair | None = None
    floor: WaitingFloor | None = None
    exempt: tuple[Exemption, ...] = ()


class ContinuousIncentive(Money):
    """After `after_years` continuous years, each further continuous year raises the 大病保险 cap by `value`."""

    after_years: int = Field(gt=0)


class ZeroClaimIncentive(Money):
    """A year in which the fund reimbursed nothing raises the next year's 大病保险 cap by `value`."""


class IncentiveCap(Cited):
    """Both incentives together raise the cap by at most `percent` of the original cap."""

    percent: Decimal = Field(gt=0, le=100)
    base: Money | None = None  # the original annual cap, when the notice prints it


class BreakReset(Cited):
    """A break restarts the continuous count and clears the raises; `cut` lowers the cap on re-enrolment."""

    cut: Money | None = None


class Incentives(Strict):
    continuous: ContinuousIncentive | None = None
    zero_claim: ZeroClaimIncentive | None = None
    cap: IncentiveCap
    reset_on_break: BreakReset
    reset_on_use: Cited | None = None  # raises used for a claim are cleared
    counted_from: CitedInt | None = None  # the first year that counts (自2025年起)

    @model_validator(mode="after")
    def _some(self) -> Incentives:
        if self.continuous is None and self.zero_claim is None:
            raise ValueError("incentives need continuous or zero_claim")
        return self


class Continuity(Strict):
    waiting: Waiting | None = None
    incentives: Incentives | None = None


# ---------------------------------------------------------------- drafts


class ReviewItem(Strict):
    """An item `yibao policy new` could not settle; any such item makes the pack invalid.

    A person checks the value (and its quote) in the pack body, then deletes the item; once the
    `review` section is empty the pack is checked like any other.
    """

    field: str
    kind: Literal["changed", "missing", "review"]
    note_zh: str
    old: Any = None
    new: Any = None
    quote: str | None = None

    @model_validator(mode="after")
    def _unresolved(self) -> ReviewItem:
        raise ValueError(f"草稿待核对：{self.field}：{self.note_zh}")


# ---------------------------------------------------------------- the pack


class PolicyPack(Strict):
    schema_version: Literal[1]
    locality: Locality
    coverage_year: int = Field(ge=2000, le=2100)
    documents: dict[str, Document] = Field(min_length=1)
    financing: Financing
    eligibility: Eligibility
    categories: tuple[Category, ...] = ()
    age_rules: AgeRules | None = None
    combination: Combination
    dates: Dates
    refunds: Refunds | None = None  # None: the document says nothing about refunds
    payment: Payment
    contacts: Contacts
    task_table: TaskTable
    not_modelled: tuple[NotModelled, ...] = ()
    continuity: Continuity | None = None  # rules in force since 2025, when the notice carries them
    review: tuple[ReviewItem, ...] = ()  # a draft's open items: the pack is refused until none is left

    @model_validator(mode="after")
    def _consistent(self) -> PolicyPack:
        vocab = vocabulary()
        standard = self.financing.personal.value
        seen: set[str] = set()
        for i, cat in enumerate(self.categories):
            for code in (cat.code, *cat.includes):
                if code not in vocab:
                    raise ValueError(
                        f"categories[{i}]: unknown category code {code!r} (not in bot/policy/vocabulary.yaml)"
                    )
                if code in seen:
                    raise ValueError(f"categories[{i}]: category code {code!r} appears twice")
                seen.add(code)
            _check_help(f"categories[{i}] ({cat.code})", cat.help, standard)
        for i, rule in enumerate(self.dates.special_late):
            for code in rule.categories:
                if code not in vocab:
                    raise ValueError(f"dates.special_late[{i}].categories: unknown category code {code!r}")
        if self.age_rules:
            for i, rule in enumerate(self.age_rules.rules):
                _check_help(f"age_rules.rules[{i}] ({rule.id})", rule.help, standard)
        if self.dates.benefit.start.year != self.coverage_year:
            raise ValueError(
                f"coverage_year {self.coverage_year} but dates.benefit starts {self.dates.benefit.start}"
            )
        for path, cited in iter_cited(self):
            if cited.doc not in self.documents:
                raise ValueError(f"{path}.doc: no document {cited.doc!r} in documents")
        return self

    @property
    def main_document(self) -> Document:
        return self.documents.get("main") or next(iter(self.documents.values()))

    def category(self, code: str) -> Category | None:
        """The local category for a canonical code (directly or through `includes`)."""
        for cat in self.categories:
            if cat.code == code:
                return cat
        for cat in self.categories:
            if code in cat.includes:
                return cat
        return None


def _check_help(where: str, help_: Help, standard: Decimal) -> None:
    if help_.subsidy is not None and help_.subsidy.value > standard:
        raise ValueError(
            f"{where}: help.subsidy {help_.subsidy.value} is above the personal contribution {standard}"
        )
    fixed, stated = help_.subsidy, help_.personal
    if (
        help_.kind == "fixed"
        and fixed is not None
        and stated is not None
        and fixed.value + stated.value != standard
    ):
        raise ValueError(
            f"{where}: subsidy {fixed.value} + personal {stated.value} != the personal contribution {standard}"
        )
    if help_.kind == "pay_first" and help_.personal is not None and help_.personal.value != standard:
        raise ValueError(f"{where}: pay_first means the person pays the full {standard} first")
    if help_.kind == "full" and help_.subsidy is not None and help_.subsidy.value != standard:
        raise ValueError(
            f"{where}: full help of {help_.subsidy.value} != the personal contribution {standard}"
        )


def iter_cited(obj: object, path: str = "") -> list[tuple[str, Cited]]:
    """Every cited value inside a pack with its field path (for the quote check and doc refs)."""
    found: list[tuple[str, Cited]] = []
    if isinstance(obj, Cited):
        found.append((path or "<root>", obj))
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            found += iter_cited(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            found += iter_cited(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            found += iter_cited(item, f"{path}.{key}")
    return found
