"""Rules in force since 2025 (国办发〔2024〕38号): waiting periods after a break, and the incentives
that raise the 大病保险 annual cap for continuous enrolment and for years without reimbursement.

Pure functions like the rest of the engine: the pack's `continuity` section holds the local figures,
each with its clause; a person's enrolment by year comes in as a `History` (the registry derives it
from payments and imported records, `bot.registry.history`). The questions they answer:

* `waiting_period`: "断保两年，现在交要等多久" -- months of waiting and the day benefits start;
* `incentive`: "连续交了五年有什么好处", "去年没报销今年有啥奖励";
* `benefit_start_with_history`: the benefit start for a person given their history (the waiting
  period where the pack has one, otherwise the pack's older rules through `dates.benefit_start`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import (
    Loc,
    add_months,
    cite,
    first_of_month,
    head,
    lines,
    refuse,
    select_pack,
    uniq,
    yuan,
    zh_date,
)
from bot.policy.engine.dates import benefit_start
from bot.policy.engine.person import Person
from bot.policy.schema import Exemption, Incentives, PolicyPack, Waiting

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class History:
    """A person's enrolment by coverage year, as far as the records go.

    `known_from` is the first year the records cover: a year from then on that is not in `insured`
    was a year without insurance; years before it are unknown and never counted as a break.
    `zero_claim` lists insured years in which the fund reimbursed nothing (only years known to be so).
    """

    insured: frozenset[int] = frozenset()
    known_from: int | None = None
    zero_claim: frozenset[int] = frozenset()

    @classmethod
    def of(cls, insured: Iterable[int], known_from: int | None = None, zero_claim: Iterable[int] = ()) -> History:
        years = frozenset(int(y) for y in insured)
        start = known_from if known_from is not None else (min(years) if years else None)
        return cls(years, start, frozenset(int(y) for y in zero_claim) & years)

    def uninsured_before(self, year: int) -> int:
        """Consecutive years without insurance right before `year` (within the known records)."""
        if self.known_from is None:
            return 0
        count, y = 0, year - 1
        while y >= self.known_from and y not in self.insured:
            count, y = count + 1, y - 1
        return count

    def run_until(self, year: int) -> int:
        """Consecutive insured years ending with `year` (0 when `year` itself is not insured)."""
        count, y = 0, year
        while y in self.insured:
            count, y = count + 1, y - 1
        return count

    def last_break(self, before: int) -> int | None:
        """The most recent year without insurance before `before`, within the known records."""
        if self.known_from is None:
            return None
        for y in range(before - 1, self.known_from - 1, -1):
            if y not in self.insured:
                return y
        return None


# ---------------------------------------------------------------- waiting periods


def _exemption(waiting: Waiting, person: Person) -> Exemption | None:
    for ex in waiting.exempt:
        if (
            (ex.newborn and person.newborn)
            or any(c in ex.categories for c in person.categories)
            or (person.special_late_reason is not None and person.special_late_reason in ex.reasons)
        ):
            return ex
    return None


def _in_collection(pack: PolicyPack, person: Person, paid_on: dt.date) -> bool:
    col = pack.dates.collection
    if (col.start is None or col.start <= paid_on) and paid_on <= col.end:
        return True
    ext = pack.dates.migrant_extension
    return bool(person.migrant and ext is not None and col.end < paid_on <= ext.end)


def _no_rules(question: str, pack: PolicyPack) -> Answer:
    return refuse(
        question,
        f"{head(pack)}的文件没有写2025年起的参保激励约束规定（断保等待期、大病保险限额奖励），"
        "无法按这些规定回答。请咨询当地医保部门。",
        pack,
        trace=[f"pack {pack.locality.id}-{pack.coverage_year}: no continuity section"],
    )


def waiting_period(
    loc: Loc,
    paid_on: dt.date,
    *,
    uninsured_years: int | None = None,
    paid_back_years: int = 0,
    person: Person | None = None,
    history: History | None = None,
) -> Answer:
    """Months of waiting for someone paying on `paid_on` after `uninsured_years` without insurance
    (or as read from `history`), having paid back `paid_back_years` of them, and the benefit start."""
    person = person or Person()
    pack = select_pack(loc, paid_on)
    if isinstance(pack, str):
        return refuse("waiting_period", pack, trace=[f"no pack for {loc!r} on {paid_on}"], locality=loc)
    waiting = pack.continuity.waiting if pack.continuity else None
    if waiting is None:
        return _no_rules("waiting_period", pack)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"paid on {paid_on}"]
    if uninsured_years is None:
        if history is None:
            return refuse(
                "waiting_period", "请告诉我之前断保了几年（连续几年没有参保），才能算出等待期。", pack,
                citations=[cite(pack, waiting.fixed)], trace=[*trace, "years without insurance unknown"])
        uninsured_years = history.uninsured_before(pack.coverage_year)
        trace.append(f"history: {uninsured_years} uninsured years before {pack.coverage_year} "
                     f"(records from {history.known_from})")
    if uninsured_years < 0 or paid_back_years < 0:
        return refuse("waiting_period", "断保年数和补缴年数不能是负数，请核对。", pack, trace=trace)
    if paid_back_years > uninsured_years:
        return refuse(
            "waiting_period",
            f"补缴的年数（{paid_back_years}年）不能多于断保的年数（{uninsured_years}年），请核对。",
            pack, trace=trace)
    return _waiting_answer("waiting_period", pack, waiting, person, paid_on, uninsured_years, paid_back_years, trace)


def _waiting_answer(
    question: str,
    pack: PolicyPack,
    waiting: Waiting,
    person: Person,
    paid_on: dt.date,
    uninsured: int,
    paid_back: int,
    trace: list[str],
) -> Answer:
    d = pack.dates
    in_period = _in_collection(pack, person, paid_on)
    when = "在集中缴费期内" if in_period else f"{zh_date(paid_on)}"
    facts: dict[str, object] = {
        "uninsured_years": uninsured, "paid_back_years": paid_back, "in_collection_period": in_period,
    }
    ex = _exemption(waiting, person)
    if ex is not None:
        start = d.benefit.start if in_period else paid_on + DAY
        trace.append(f"exempt ({ex.id}): benefits from {start}")
        return _answer(question, pack, paid_on, start, "waiting_exempt",
                       lines(f"{ex.name_zh}不设待遇等待期。",
                             f"{when}缴费，从{zh_date(start)}起享受医保待遇。"),
                       [cite(pack, ex)], trace, {**facts, "waiting_months": 0, "exempt": ex.id})
    if in_period and uninsured == 0:
        trace.append("paid within the collection period, continuously insured: no waiting period")
        return _answer(question, pack, paid_on, d.benefit.start, "on_time",
                       lines(f"在集中缴费期内缴费、连续参保，不设等待期，从{zh_date(d.benefit.start)}起享受待遇。"),
                       [cite(pack, d.collection), cite(pack, d.benefit)], trace, {**facts, "waiting_months": 0})
    fixed = waiting.fixed.months
    citations: list[Citation] = [cite(pack, waiting.fixed)]
    variable = 0
    if waiting.variable is not None and uninsured > waiting.variable.free_years:
        variable = (uninsured - waiting.variable.free_years) * waiting.variable.months_per_year
        citations.append(cite(pack, waiting.variable))
    repaired = 0
    if waiting.repair is not None and paid_back:
        repaired = min(variable, paid_back * waiting.repair.months_per_year)
        citations.append(cite(pack, waiting.repair))
    total = fixed + variable - repaired
    floor_applied = False
    if waiting.floor is not None and uninsured >= waiting.floor.from_years:
        citations.append(cite(pack, waiting.floor))
        if total < waiting.floor.months:
            total, floor_applied = waiting.floor.months, True
    trace.append(f"fixed {fixed} + variable {variable} - repaired {repaired}"
                 + (f", raised to the floor {total}" if floor_applied else "") + f" = {total} months")
    if in_period:
        base = d.benefit.start
        trace.append(f"paid within the collection period: waiting counted from {base}")
    elif waiting.fixed.counts_from == "month_after_payment":
        base = first_of_month(paid_on, 1)
    else:
        base = paid_on + DAY
    start = add_months(base, total)
    trace.append(f"benefits from {start}")
    parts = [f"固定等待期{fixed}个月"]
    if variable:
        parts.append(f"断保{uninsured}年加变动等待期{variable}个月")
    if repaired:
        parts.append(f"补缴{paid_back}年减{repaired}个月")
    if floor_applied:
        assert waiting.floor is not None
        parts.append(f"断保{waiting.floor.from_years}年及以上的合计不少于{waiting.floor.months}个月")
    broke = f"断保{uninsured}年，" if uninsured else ""
    tip = None
    if waiting.repair is not None and variable - repaired > 0 and paid_back < uninsured:
        tip = f"每补缴1年，可以少等{waiting.repair.months_per_year}个月（变动等待期减完为止）。"
        citations.append(cite(pack, waiting.repair))
    over = f"等待期结束时{head(pack)}的待遇期已过。" if start > d.benefit.end else "等待期内的医疗费用不予报销。"
    text = lines(
        f"{broke}{when}缴费，要等{total}个月：{'，'.join(parts)}。",
        f"从{zh_date(start)}起享受医保待遇，{over}",
        tip,
    )
    return _answer(question, pack, paid_on, start, f"waiting_{total}_months", text, citations, trace, {
        **facts, "waiting_months": total, "fixed_months": fixed, "variable_months": variable,
        "repaired_months": repaired, "floor_applied": floor_applied,
    })


def _answer(question: str, pack: PolicyPack, paid_on: dt.date, start: dt.date, rule: str, text: str,
            citations: list[Citation], trace: list[str], extra: dict[str, object]) -> Answer:
    return Answer(
        question=question,
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=uniq(citations),
        trace=tuple(trace),
        paid_on=paid_on,
        benefit_start=start,
        benefit_end=pack.dates.benefit.end,
        rule=rule,
        extra=dict(extra),
    )


def benefit_start_with_history(
    loc: Loc, person: Person, paid_on: dt.date, history: History | None = None, *, paid_back_years: int = 0
) -> Answer:
    """The benefit start for a person paying on `paid_on`, given their enrolment history.

    Where the pack has 2025-style waiting periods the history decides them (no history: read as
    continuously insured, and the answer says so); otherwise the pack's own rules apply
    (`dates.benefit_start`), for which the history does not matter.
    """
    pack = select_pack(loc, paid_on)
    if isinstance(pack, str):
        return refuse("benefit_start", pack, trace=[f"no pack for {loc!r} on {paid_on}"], locality=loc)
    waiting = pack.continuity.waiting if pack.continuity else None
    if waiting is None or (person.newborn and _exemption(waiting, person) is not None):
        return benefit_start(pack, person, paid_on)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"paid on {paid_on}"]
    if history is None:
        uninsured = 0
        trace.append("no history: read as continuously insured")
    else:
        uninsured = history.uninsured_before(pack.coverage_year)
        trace.append(f"history: {uninsured} uninsured years before {pack.coverage_year}")
    paid_back = min(paid_back_years, uninsured)
    answer = _waiting_answer("benefit_start", pack, waiting, person, paid_on, uninsured, paid_back, trace)
    if history is None and answer.rule != "waiting_exempt":
        answer = dataclasses.replace(answer, explanation_zh=lines(
            answer.explanation_zh, "（按连续参保计算；之前断保过的，等待期会更长。）"))
    return answer


# ---------------------------------------------------------------- incentives


@dataclass(frozen=True)
class _Raise:
    continuous_years: int
    continuous: Decimal
    zero_claim: Decimal
    total: Decimal
    capped: bool
    cut: Decimal  # lowered on re-enrolment after a break (this year)


def _cap_amount(inc: Incentives) -> Decimal | None:
    if inc.cap.base is None:
        return None
    return (inc.cap.base.value * inc.cap.percent / Decimal(100)).quantize(Decimal("1"))


def _from_inputs(inc: Incentives, continuous_years: int, zero_claim_last_year: bool | None) -> _Raise:
    steps = max(0, continuous_years - inc.continuous.after_years) if inc.continuous else 0
    cont = steps * inc.continuous.value if inc.continuous else Decimal(0)
    zero = inc.zero_claim.value if (inc.zero_claim and zero_claim_last_year) else Decimal(0)
    return _capped(inc, continuous_years, cont, zero, Decimal(0))


def _capped(inc: Incentives, years: int, cont: Decimal, zero: Decimal, cut: Decimal, *, hit: bool = False) -> _Raise:
    total = cont + zero
    cap = _cap_amount(inc)
    capped = hit or (cap is not None and total > cap)
    return _Raise(years, cont, zero, min(total, cap) if cap is not None else total, capped, cut)


def _from_history(inc: Incentives, history: History, year: int) -> _Raise:
    """Replay the years: each continuous year past `after_years` and each zero-claim year add a raise,
    a break clears them; `year` is counted as paid (the question is what paying now brings)."""
    insured = history.insured | {year}
    start = inc.counted_from.value if inc.counted_from else (history.known_from or min(insured))
    cap = _cap_amount(inc)
    run, cont, zero, cut = 0, Decimal(0), Decimal(0), Decimal(0)
    seen_insured = hit = False
    for y in range(start, year + 1):
        if y not in insured:
            run, cont, zero, hit = 0, Decimal(0), Decimal(0), False
            continue
        reenrolled = seen_insured and (y - 1) not in insured
        seen_insured = True
        run += 1
        if inc.continuous and run > inc.continuous.after_years:
            cont += inc.continuous.value
        if inc.zero_claim and (y - 1) in insured and (y - 1) in history.zero_claim and y - 1 >= start:
            zero += inc.zero_claim.value
        hit = cap is not None and cont + zero >= cap
        if cap is not None and cont + zero > cap:
            zero = max(Decimal(0), cap - cont)
            cont = min(cont, cap)
        cut = inc.reset_on_break.cut.value if (reenrolled and inc.reset_on_break.cut) else Decimal(0)
    return _capped(inc, run, cont, zero, cut, hit=hit)


def incentive(
    loc: Loc,
    on: dt.date,
    *,
    continuous_years: int | None = None,
    zero_claim_last_year: bool | None = None,
    history: History | None = None,
) -> Answer:
    """How much the 大病保险 annual cap rises for the coverage year answering on `on`.

    Either from what the person says (`continuous_years` counts the coverage year itself;
    `zero_claim_last_year`: the fund reimbursed nothing last year) or from their `history`.
    """
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("incentive", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    inc = pack.continuity.incentives if pack.continuity else None
    if inc is None:
        return _no_rules("incentive", pack)
    year = pack.coverage_year
    trace = [f"pack {pack.locality.id}-{year}"]
    if history is not None:
        got = _from_history(inc, history, year)
        trace.append(f"history replayed to {year}: run {got.continuous_years}, continuous +{got.continuous}, "
                     f"zero-claim +{got.zero_claim}, cut {got.cut}")
    else:
        if continuous_years is not None and continuous_years < 0:
            return refuse("incentive", "连续参保年数不能是负数，请核对。", pack, trace=trace)
        got = _from_inputs(inc, continuous_years or 0, zero_claim_last_year)
        trace.append(f"told: {continuous_years} continuous years, zero claims last year {zero_claim_last_year}")
    citations: list[Citation] = []
    said: list[str] = []
    if inc.continuous and (continuous_years is not None or history is not None):
        c = inc.continuous
        citations.append(cite(pack, c))
        n = got.continuous_years
        if n > c.after_years:
            said.append(f"连续参保{n}年：满{c.after_years}年后每多连续参保1年，大病保险最高支付限额提高{yuan(c.value)}，"
                        f"{year}年度共提高{yuan(got.continuous)}。")
        else:
            said.append(f"连续参保{n}年：满{c.after_years}年后，每多连续参保1年，大病保险最高支付限额提高{yuan(c.value)}；"
                        f"再连续参保{c.after_years + 1 - n}年开始提高。")
    if inc.zero_claim and (zero_claim_last_year is not None or history is not None or continuous_years is None):
        z = inc.zero_claim
        citations.append(cite(pack, z))
        if history is not None:
            said.append(f"没有发生医保报销的年份，次年提高{yuan(z.value)}：按记录共提高{yuan(got.zero_claim)}。")
        elif zero_claim_last_year:
            said.append(f"上一年度没有发生医保报销，{year}年度大病保险最高支付限额提高{yuan(z.value)}。")
        elif zero_claim_last_year is False:
            said.append(f"上一年度发生了医保报销，{year}年度没有零报销奖励；某一年没有报销的，次年提高{yuan(z.value)}。")
        else:
            said.append(f"某一年没有发生医保报销的，次年大病保险最高支付限额提高{yuan(z.value)}。")
    cap = _cap_amount(inc)
    citations.append(cite(pack, inc.cap))
    cap_text = f"两项合计最多提高原最高支付限额的{inc.cap.percent.normalize():f}%" + (f"（{yuan(cap)}）" if cap else "")
    total_text = (f"合计提高{yuan(got.total)}（已到上限）" if got.capped else f"合计提高{yuan(got.total)}") \
        if (got.continuous and got.zero_claim) or got.capped else ""
    reset = "中断参保的，连续参保年数重新计算，已有的提高额度清零"
    if inc.reset_on_break.cut is not None:
        reset += f"，再次参保当年还要降低{yuan(inc.reset_on_break.cut.value)}"
        citations.append(cite(pack, inc.reset_on_break.cut))
    citations.append(cite(pack, inc.reset_on_break))
    said.append("；".join(x for x in (total_text, cap_text, reset) if x) + "。")
    if got.cut:
        said.insert(0, f"中断后再次参保，{year}年度大病保险最高支付限额降低{yuan(got.cut)}。")
    return Answer(
        question="incentive",
        ok=True,
        locality=pack.locality.id,
        coverage_year=year,
        explanation_zh=lines(*said),
        citations=uniq(citations),
        trace=tuple(trace),
        extra={
            "continuous_years": got.continuous_years if (history or continuous_years is not None) else None,
            "continuous_raise": got.continuous,
            "zero_claim_raise": got.zero_claim,
            "raise_total": got.total,
            "capped": got.capped,
            "cap_amount": cap,
            "cut": got.cut,
        },
    )
