"""Who may enroll here, under which group, or where instead."""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer
from bot.policy.engine.common import Loc, cite, head, lines, refuse, select_pack
from bot.policy.engine.person import Person
from bot.policy.schema import Elsewhere, Group, PolicyPack

AIDED_KINDS = ("full", "fixed", "percentage", "paid_by", "pay_first")


def _matches_elsewhere(rule: Elsewhere, person: Person) -> bool:
    if rule.employee_insured is not None and person.employee_insured != rule.employee_insured:
        return False
    return not (rule.student is not None and person.student not in rule.student)


def _matches_group(group: Group, person: Person, hukou: bool) -> bool:
    if group.hukou_local is not None and hukou != group.hukou_local:
        return False
    if group.residence_permit is not None and person.residence_permit != group.residence_permit:
        return False
    return not (group.student is not None and person.student not in group.student)


def _aided(pack: PolicyPack, person: Person) -> list[str]:
    """The person's categories that get help in this pack (资助参保人群 / 救助对象)."""
    out = []
    for code in person.categories:
        cat = pack.category(code)
        if cat is not None and cat.help.kind in AIDED_KINDS:
            out.append(cat.name_zh)
    return out


def eligibility(loc: Loc, person: Person, on: dt.date) -> Answer:
    """May this person enroll in this locality's resident insurance, and under which group."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("eligibility", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}"]
    hukou = True if person.hukou_local is None else person.hukou_local
    if person.hukou_local is None:
        trace.append("hukou unknown: answered as a local household registration")

    def answer(eligible: bool, group: str | None, where: str | None, cites: list, text: str) -> Answer:
        return Answer(
            question="eligibility",
            ok=True,
            locality=pack.locality.id,
            coverage_year=pack.coverage_year,
            explanation_zh=text,
            citations=tuple(dict.fromkeys(cites)),
            trace=tuple(trace),
            eligible=eligible,
            group=group,
            enroll_where=where,
        )

    for rule in pack.eligibility.elsewhere:
        if not _matches_elsewhere(rule, person):
            continue
        aided = _aided(pack, person)
        if rule.aided_may_enroll_here is not None and aided:
            trace.append(f"elsewhere rule {rule.id}, but aided ({'、'.join(aided)}) may choose here")
            return answer(
                True,
                f"{rule.name_zh}（{'、'.join(aided)}，可选择在本地参保）",
                rule.enroll_where_zh,
                [cite(pack, rule), cite(pack, rule.aided_may_enroll_here)],
                lines(
                    f"{rule.name_zh}一般在{rule.enroll_where_zh}参保；",
                    f"您是{'、'.join(aided)}，也可以选择在{pack.locality.name_zh}参保。",
                ),
            )
        trace.append(f"elsewhere rule {rule.id}: enroll at {rule.enroll_where_zh}")
        return answer(
            False,
            rule.name_zh,
            rule.enroll_where_zh,
            [cite(pack, rule)],
            lines(f"{rule.name_zh}不在{pack.locality.name_zh}参加居民医保：{rule.enroll_where_zh}。"),
        )

    groups = (
        sorted(pack.eligibility.groups, key=lambda g: g.student is None)
        if person.student
        else list(pack.eligibility.groups)
    )
    for group in groups:
        if _matches_group(group, person, hukou):
            trace.append(f"group {group.id}")
            return answer(
                True,
                group.name_zh,
                group.where_zh,
                [cite(pack, group)],
                lines(
                    f"可以在{pack.locality.name_zh}参加{head(pack)}居民医保：{group.name_zh}。",
                    group.where_zh,
                ),
            )
    trace.append("no group in the document matches")
    names = "；".join(g.name_zh for g in pack.eligibility.groups)
    return answer(
        False,
        None,
        "户籍地或常住地",
        [cite(pack, g) for g in pack.eligibility.groups],
        lines(
            f"按文件，{pack.locality.name_zh}的参保范围是：{names}。",
            "您不在这个范围内，请在户籍地参保，或办理居住证后再咨询。",
        ),
    )
