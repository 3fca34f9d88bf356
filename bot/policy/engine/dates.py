"""Deadlines (which one applies, days left, what happens if missed) and when benefits start."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import (
    UNCOVERED_IN_WAITING_ZH,
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
from bot.policy.engine.info import contact_line
from bot.policy.engine.not_covered import newborn_silence
from bot.policy.engine.person import Person
from bot.policy.schema import LateRule, PolicyPack, WaitingRule
from bot.policy.vocab import vocabulary

DAY = dt.timedelta(days=1)
# How the special-group reasons read in a question to an aid recipient who paid late.
SPECIAL_ASK_ZH = {"new_aid": "集中缴费期后新认定的", "aid_break": "不是因为自己的原因断保的"}


def _periods(pack: PolicyPack) -> list[dict[str, Any]]:
    return [{"start": p.start, "end": p.end, "label": p.label_zh} for p in pack.dates.periods]


def missed_consequence(pack: PolicyPack) -> str:
    late = pack.dates.late
    if late is None:
        return "文件没有写错过截止日后怎么补缴，请尽快联系村（社区）干部或医保部门。"
    if late.kind == "nth_month_counting_payment_month":
        uncovered = "，等待期内看病不报销" if late.uncovered_in_waiting else ""
        return f"错过后还可以补缴，但设有等待期：从缴费当月算起第{late.months}个月才开始享受待遇{uncovered}。"
    return f"错过后还可以补缴{('（' + late.note_zh.rstrip('。') + '）') if late.note_zh else ''}，从缴费次月起要等{late.months}个月才能享受待遇。"


def deadline(loc: Loc, person: Person, on: dt.date) -> Answer:
    """The deadline that applies to this person, days left on `on`, and what missing it means."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("deadline", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    d = pack.dates
    col = d.collection
    citations: list[Citation] = [cite(pack, col)]
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"collection period {col.start}..{col.end}"]
    periods = _periods(pack)
    extended = False
    consequence = missed_consequence(pack)
    if pack.dates.late is not None:
        citations.append(cite(pack, pack.dates.late))
    who = ""
    extensions = None  # only a general answer lists other groups' later deadlines
    if person.newborn:
        if d.newborn is None:
            return _no_newborn_clause("deadline", pack, trace)
        if person.birth_date is None:
            return refuse(
                "deadline",
                "请告诉我宝宝的出生日期，才能算出参保期限。",
                pack,
                citations=[cite(pack, d.newborn)],
                trace=[*trace, "newborn without birth date"],
                needs=("birth_date",),
            )
        due = person.birth_date + (d.newborn.within_days - 1) * DAY
        citations = [cite(pack, d.newborn)]
        trace.append(f"newborn: birth {person.birth_date} is day 1, day {d.newborn.within_days} is {due}")
        who = f"新生儿出生{d.newborn.within_days}天内（到{zh_date(due)}）办好参保缴费，从出生当天起享受待遇。"
        consequence = (
            f"超过{d.newborn.within_days}天参保的一周岁内新生儿，从缴费次日起享受待遇。"
            if d.newborn.after
            else "文件没有写超过期限后怎么办，请咨询当地医保部门。"
        )
        if d.newborn.after:
            citations.append(cite(pack, d.newborn.after))
    elif person.migrant and person.hukou_local is False and d.migrant_extension is not None:
        # The extension is for this place's own rural workers coming home (返乡) for Spring Festival,
        # not for people registered elsewhere who work here.
        due = col.end
        citations.append(cite(pack, d.migrant_extension))
        trace.append("migrant with 户籍 elsewhere: the extension is for local workers coming home")
        who = "外出务工人员延长缴费是给本地户籍、春节返乡的务工人员的；户口在外地的按普通截止日。"
    elif person.migrant:
        ext = d.migrant_extension
        if ext is None:
            return refuse(
                "deadline",
                f"{pack.locality.name_zh}的文件没有写外出务工人员可以延期缴费。"
                f"集中缴费期截止{zh_date(col.end)}，请按时缴费或咨询当地医保部门。",
                pack,
                citations=citations,
                trace=[*trace, "migrant: document silent on an extension"],
            )
        due, extended = ext.end, True
        citations.append(cite(pack, ext))
        periods.append({"start": col.end + DAY, "end": ext.end, "label": "外出务工人员延长缴费期"})
        trace.append(f"migrant extension to {ext.end}")
        who = f"外出务工返乡人员可以延长到{zh_date(ext.end)}缴费。"
    else:
        due = col.end
        extensions = _extensions(pack)
    days = (due - on).days
    missed = days < 0
    trace.append(f"deadline {due}, on {on}: {'missed' if missed else f'{days} days left'}")
    if missed:
        status = f"{head(pack)}的缴费截止日{zh_date(due)}已经过了。"
        tail = consequence
    elif col.start is not None and on < col.start and not person.newborn:
        status = f"{head(pack)}缴费从{zh_date(col.start)}开始，截止{zh_date(due)}。"
        tail = None
    else:
        status = f"{head(pack)}缴费截止{zh_date(due)}，" + (
            "今天是最后一天。" if days == 0 else f"还剩{days}天。"
        )
        tail = f"错过的话：{consequence}"
    return Answer(
        question="deadline",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=lines(status, who or None, tail),
        citations=uniq(citations),
        trace=tuple(trace),
        deadline=due,
        days_left=None if missed else days,
        days_overdue=-days if missed else None,
        missed=missed,
        extended=extended,
        periods=tuple(periods),
        missed_consequence_zh=consequence,
        extensions=extensions,
    )


def _extensions(pack: PolicyPack) -> tuple[dict[str, Any], ...]:
    """Later deadlines the document gives named groups, for the line a general answer adds."""
    ext = pack.dates.migrant_extension
    if ext is None:
        return ()
    return (
        {
            "group": "migrant",
            "label": "外出务工返乡人员",
            "end": ext.end,
            "benefit_start": pack.dates.benefit.start if ext.benefit_from_year_start else None,
            "citation": cite(pack, ext),
        },
    )


def _no_newborn_clause(question: str, pack: PolicyPack, trace: list[str]) -> Answer:
    parts, citations = newborn_silence(pack)
    contact, contact_cites, _ = contact_line(pack)
    return refuse(
        question,
        lines(*parts, contact),
        pack,
        citations=[*citations, *contact_cites],
        trace=[*trace, "newborn: the document has no newborn clause"],
    )


def benefit_start(loc: Loc, person: Person, paid_on: dt.date) -> Answer:
    """From a payment date, the day benefits start and the rule that set it."""
    pack = select_pack(loc, paid_on)
    if isinstance(pack, str):
        return refuse("benefit_start", pack, trace=[f"no pack for {loc!r} on {paid_on}"], locality=loc)
    found = _benefit_rule(pack, person, paid_on)
    if isinstance(found, Answer):
        return found
    start, rule, citations, trace, why = found
    end = pack.dates.benefit.end
    if start > end:
        # The reason first (a 6-month wait, say): a date out of the year alone explains nothing.
        return refuse(
            "benefit_start",
            lines(why, f"按规定待遇要到{zh_date(start)}才开始，已超出{head(pack)}的待遇期（到{zh_date(end)}），"
                  "这样缴费当年享受不到待遇。请咨询当地医保部门。"),
            pack,
            citations=citations,
            trace=[*trace, f"start {start} after benefit end {end}"],
        )
    return Answer(
        question="benefit_start",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=lines(
            f"{zh_date(paid_on)}缴费，从{zh_date(start)}起享受医保待遇（到{zh_date(end)}）。", why
        ),
        citations=uniq(citations),
        trace=tuple(trace),
        paid_on=paid_on,
        benefit_start=start,
        benefit_end=end,
        rule=rule,
    )


Found = tuple[dt.date, str, list[Citation], list[str], str]


def _benefit_rule(pack: PolicyPack, person: Person, paid_on: dt.date) -> Found | Answer:
    d = pack.dates
    col = d.collection
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"paid on {paid_on}"]
    silent_late = f"{pack.locality.name_zh}的文件没有写集中缴费期以后补缴从哪天开始享受待遇，无法回答，请咨询当地医保部门。"

    if person.newborn:
        if d.newborn is None:
            return _no_newborn_clause("benefit_start", pack, trace)
        birth = person.birth_date
        if birth is None:
            return refuse(
                "benefit_start",
                "请告诉我宝宝的出生日期。",
                pack,
                citations=[cite(pack, d.newborn)],
                trace=[*trace, "newborn without birth date"],
                needs=("birth_date",),
            )
        if paid_on < birth:
            return refuse("benefit_start", "缴费日期早于出生日期，请核对日期。", pack, trace=trace)
        day_no = (paid_on - birth).days + 1
        trace.append(f"newborn: payment on day {day_no} after birth {birth} (birth day = day 1)")
        if day_no <= d.newborn.within_days:
            fees = [f for f in d.newborn_fees if f.born_in == birth.year]
            fee_text = "，".join(f"{f.coverage_year}年度缴{yuan(f.value)}" for f in fees)
            return (
                birth,
                "newborn_from_birth",
                [cite(pack, d.newborn), *(cite(pack, f) for f in fees)],
                trace,
                f"新生儿出生{d.newborn.within_days}天内参保缴费，从出生当天起享受。"
                + (f"{birth.year}年出生的：{fee_text}。" if fees else ""),
            )
        one_year = (
            birth.replace(year=birth.year + 1)
            if not (birth.month == 2 and birth.day == 29)
            else dt.date(birth.year + 1, 3, 1)
        )
        if d.newborn.after is not None and paid_on < one_year:
            return (
                paid_on + DAY,
                "newborn_next_day",
                [cite(pack, d.newborn.after)],
                trace,
                f"超过{d.newborn.within_days}天参保的一周岁内新生儿，从缴费次日起享受。",
            )
        if d.newborn.after is None:
            return refuse(
                "benefit_start",
                f"新生儿超过{d.newborn.within_days}天才参保，文件没有写从哪天起享受，"
                "无法回答，请咨询当地医保部门。",
                pack,
                citations=[cite(pack, d.newborn)],
                trace=[*trace, "newborn after the window: document silent"],
            )
        trace.append("older than one year: treated as an ordinary resident")

    if paid_on <= col.end:
        if col.start is not None and paid_on < col.start:
            return refuse(
                "benefit_start",
                f"{head(pack)}的缴费从{zh_date(col.start)}开始，{zh_date(paid_on)}"
                "缴的费用不属于这个年度，无法回答。",
                pack,
                citations=[cite(pack, col)],
                trace=trace,
            )
        trace.append(f"within the collection period (ends {col.end}): benefits from {d.benefit.start}")
        return (
            d.benefit.start,
            "on_time",
            [cite(pack, col), cite(pack, d.benefit)],
            trace,
            "在集中缴费期内按时缴费，享受全年待遇。",
        )

    ext = d.migrant_extension
    if person.migrant and ext is not None and paid_on <= ext.end:
        trace.append(f"migrant worker paid within the extension (to {ext.end})")
        return (
            d.benefit.start,
            "migrant_extension",
            [cite(pack, ext), cite(pack, d.benefit)],
            trace,
            "外出务工人员在延长期内缴费，享受全年待遇。",
        )
    if person.migrant:
        trace.append("migrant: " + ("after the extension" if ext else "document has no extension"))

    reason = person.special_late_reason or _inferred_reason(pack, person, trace)
    if reason is None:
        asked = _ask_special_reason(pack, person, paid_on, trace)
        if asked is not None:
            return asked
    if reason:
        for rule in d.special_late:
            if reason not in rule.reasons:
                continue
            if rule.max_break_months is not None:
                if person.coverage_break_months is None:
                    return refuse(
                        "benefit_start",
                        f"请告诉我断缴了几个月：不超过{rule.max_break_months}个月和超过的规定不同。",
                        pack,
                        citations=[cite(pack, rule)],
                        trace=[*trace, "break length unknown"],
                        needs=("coverage_break_months",),
                    )
                if person.coverage_break_months > rule.max_break_months:
                    bw = d.break_waiting
                    if bw is not None and bw.reason == reason:
                        start = add_months(paid_on + DAY, bw.waiting_months)
                        trace.append(
                            f"break of {person.coverage_break_months} months > {bw.over_break_months}: "
                            f"{bw.waiting_months}-month waiting period from {paid_on + DAY}"
                        )
                        return (
                            start,
                            f"break_waiting_{bw.waiting_months}_months",
                            [cite(pack, bw)],
                            trace,
                            f"断缴超过{bw.over_break_months}个月，设{bw.waiting_months}个月等待期。{_uncovered(bw)}",
                        )
                    continue
            trace.append(f"special group {reason}: from the day after payment")
            return (
                paid_on + DAY,
                "special_next_day",
                [cite(pack, rule)],
                trace,
                "属于文件列明的特殊人群，从缴费次日起享受。",
            )
        trace.append(f"special reason {reason}: not listed in this document, ordinary rules apply")

    late = d.late
    if late is None:
        contact, contact_cites, _ = contact_line(pack)
        return refuse(
            "benefit_start",
            lines(silent_late, contact),
            pack,
            citations=[cite(pack, col), *contact_cites],
            trace=[*trace, "late payment: document silent"],
        )
    start, rule, why = _ordinary_late(late, paid_on)
    trace.append(f"late payment rule {late.kind} ({late.months}): benefits from {start}")
    return start, rule, [cite(pack, late)], trace, why


def _uncovered(rule: WaitingRule) -> str:
    return f"{UNCOVERED_IN_WAITING_ZH}。" if rule.uncovered_in_waiting else ""


def _ordinary_late(late: LateRule, paid_on: dt.date) -> tuple[dt.date, str, str]:
    if late.kind == "nth_month_counting_payment_month":
        start = first_of_month(paid_on, late.months - 1)
        return (
            start,
            f"late_waiting_{_ordinal(late.months)}_month",
            f"集中缴费期后补缴，从缴费当月算起第{late.months}个月开始享受。{_uncovered(late)}",
        )
    start = first_of_month(paid_on, late.months + 1)
    return (
        start,
        f"late_waiting_{late.months}_months",
        f"集中缴费期后补缴，从缴费次月起等待{late.months}个月。{_uncovered(late)}",
    )


def _aid_codes(pack: PolicyPack, person: Person) -> set[str]:
    """The person's category codes, with the pack's own grouping (桃园 counts 孤儿 as 特困)."""
    codes = set(person.categories)
    for code in person.categories:
        cat = pack.category(code)
        if cat is not None:
            codes.add(cat.code)
    return codes


def _inferred_reason(pack: PolicyPack, person: Person, trace: list[str]) -> str | None:
    """new_aid when an aid group the clause names was recognised after the collection period."""
    recognised = person.category_recognised_on
    if recognised is None or recognised <= pack.dates.collection.end:
        return None
    codes = _aid_codes(pack, person)
    for rule in pack.dates.special_late:
        if "new_aid" in rule.reasons and codes & set(rule.categories):
            trace.append(f"recognised {recognised}, after the collection period: 动态新增 (new_aid)")
            return "new_aid"
    return None


def _ask_special_reason(
    pack: PolicyPack, person: Person, paid_on: dt.date, trace: list[str]
) -> Answer | None:
    """An aid recipient paying late without a known reason: the answer turns on it, so ask."""
    codes = _aid_codes(pack, person)
    rules = [r for r in pack.dates.special_late if codes & set(r.categories)]
    if not rules:
        return None
    next_day = paid_on + DAY
    reasons = {reason for r in rules for reason in r.reasons}
    kinds = "，或者".join(text for reason, text in SPECIAL_ASK_ZH.items() if reason in reasons)
    named = {c for r in rules for c in r.categories}
    vocab = vocabulary()
    names = "、".join(
        vocab[c].name_zh
        for c in person.categories
        if c in vocab and _aid_codes(pack, Person(categories=(c,))) & named
    )
    late = pack.dates.late
    end = pack.dates.benefit.end
    if late is not None:
        start, _, _ = _ordinary_late(late, paid_on)
        otherwise = (
            f"其他情况按普通补缴，从{zh_date(start)}起享受。"
            if start <= end
            else f"其他情况按普通补缴，{zh_date(end)}前享受不到待遇。"
        )
        cited = [*rules, late]
    else:
        otherwise = "其他情况文件没有写补缴后从哪天享受。"
        cited = list(rules)
    trace.append(
        f"aid categories {sorted(codes)} paid late, reason unknown: ask ({[r.locator for r in rules]})"
    )
    return refuse(
        "benefit_start",
        lines(
            f"{names}如果是{kinds}，补办参保从缴费次日（{zh_date(next_day)}）起享受待遇；",
            otherwise,
            "您是哪种情况？",
        ),
        pack,
        citations=[cite(pack, r) for r in cited],
        trace=trace,
        needs=("special_late_reason",),
    )


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
