"""Who may enroll here, under which group and on which conditions, or where instead.

Someone whose 户籍 is elsewhere is answered from the document's own clause for non-local residents
(滕州 二（五） 居住证, 桃园 三（二） long-term residence, 五河 一（二） not insured at the place of origin,
唐河 二（一） 异地户籍常住居民), never from the local-户籍 clause. Conditions the engine cannot check
(how long someone has lived here) are stated with the answer in `conditions`; a condition the person
is known not to meet rules the group out.
"""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import Loc, cite, head, lines, refuse, select_pack, uniq
from bot.policy.engine.person import Person
from bot.policy.loader import get_pack
from bot.policy.schema import Elsewhere, Group, PolicyPack
from bot.policy.vocab import norm_word

AIDED_KINDS = ("full", "fixed", "percentage", "paid_by", "pay_first")


def _matches_elsewhere(rule: Elsewhere, person: Person) -> bool:
    if rule.employee_insured is not None and person.employee_insured != rule.employee_insured:
        return False
    return not (rule.student is not None and person.student not in rule.student)


def _fails(group: Group, person: Person, hukou: bool) -> str | None:
    """Why the person is outside the group (trace text), or None when they may be in it."""
    if group.hukou_local is not None and hukou != group.hukou_local:
        return "household registration"
    if group.student is not None and person.student not in group.student:
        return "not a student of that kind"
    # Only a condition known to be unmet rules a group out; unknown ones are stated instead.
    if group.residence_permit and person.residence_permit is False:
        return "no 居住证"
    if group.long_term_residence and person.long_term_resident is False:
        return "does not live here long-term"
    if group.not_insured_at_origin and person.insured_elsewhere is True:
        return "already insured at the place of origin"
    return None


def _aided(pack: PolicyPack, person: Person) -> list[str]:
    """The person's categories that get help in this pack (资助参保人群 / 救助对象)."""
    out = []
    for code in person.categories:
        cat = pack.category(code)
        if cat is not None and cat.help.kind in AIDED_KINDS:
            out.append(cat.name_zh)
    return out


def _where(group: Group, person: Person) -> str | None:
    if group.school_where is None or person.school_area is None:
        return group.where_zh
    return group.school_where.urban_zh if person.school_area == "urban" else group.school_where.town_zh


def eligibility(loc: Loc, person: Person, on: dt.date) -> Answer:
    """May this person enroll in this locality's resident insurance, and under which group."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("eligibility", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}"]
    hukou = True if person.hukou_local is None else person.hukou_local
    if person.hukou_local is None:
        trace.append("hukou unknown: answered as a local household registration")

    def answer(
        eligible: bool,
        group: str | None,
        where: str | None,
        cites: list[Citation],
        text: str,
        conditions: tuple[str, ...] = (),
    ) -> Answer:
        return Answer(
            question="eligibility",
            ok=True,
            locality=pack.locality.id,
            coverage_year=pack.coverage_year,
            explanation_zh=text,
            citations=uniq(cites),
            trace=tuple(trace),
            eligible=eligible,
            group=group,
            enroll_where=where,
            conditions=conditions,
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
        why_not = _fails(group, person, hukou)
        if why_not:
            trace.append(f"group {group.id}: no ({why_not})")
            continue
        trace.append(f"group {group.id}")
        cites = [cite(pack, group)]
        note = None
        if group.permit_same_subsidy is not None:
            cites.append(cite(pack, group.permit_same_subsidy))
            note = (
                "文件只写了持居住证参保的按相同标准补助；没有居住证的补助怎么算，文件没写。"
                if person.residence_permit is False
                else "持居住证参保的，财政按本地居民相同的标准补助，个人缴费一样。"
            )
        elif group.hukou_local is False and not group.residence_permit:
            note = "文件没有要求居住证。"
        if group.school_where is not None and person.school_area is None:
            trace.append("school area unknown: both rules stated")
        where = _where(group, person)
        conditions = group.conditions_zh
        # A student whose 户籍 was not said: answered as local, but the document's clause for students
        # from elsewhere studying here is part of the answer too (滕州 二（五）).
        also = next((g for g in pack.eligibility.groups
                     if person.hukou_local is None and person.student and g is not group
                     and g.hukou_local is False and g.student and person.student in g.student), None)
        if also is not None:
            trace.append(f"hukou unknown, student: also group {also.id}")
            cites.append(cite(pack, also))
        return answer(
            True,
            group.name_zh,
            where,
            cites,
            lines(
                f"可以在{pack.locality.name_zh}参加{head(pack)}居民医保：{group.name_zh}。",
                f"条件：{'；'.join(conditions)}。" if conditions else None,
                note,
                where,
                f"外地户籍的学生：{also.name_zh}，也可以在{pack.locality.name_zh}参保。" if also else None,
            ),
            conditions,
        )
    trace.append("no group in the document matches")
    # Cite only the groups that speak to this person: a non-local resident is never answered with
    # the local-户籍 clause.
    relevant = [g for g in pack.eligibility.groups if g.hukou_local in (None, hukou)]
    names = "；".join(g.name_zh for g in relevant)
    return answer(
        False,
        None,
        "户籍地" if not hukou else "户籍地或常住地",
        [cite(pack, g) for g in relevant],
        lines(
            f"按文件，{pack.locality.name_zh}的参保范围是：{names}。",
            _outside_hint(relevant, person),
        ),
        tuple(c for g in relevant if g.hukou_local is False for c in g.conditions_zh),
    )


def _outside_hint(groups: list[Group], person: Person) -> str:
    if any(g.residence_permit for g in groups) and person.residence_permit is False:
        return "您不在这个范围内：办了居住证后可以在这里参保，否则请在户籍地参保。"
    if any(g.not_insured_at_origin for g in groups) and person.insured_elsewhere:
        return "已经在原籍参加了基本医疗保险的，不能在这里重复参保。"
    return "您不在这个范围内，请在户籍地参保。"


def school_area(loc: Loc, place: str) -> str | None:
    """ "town" when `place` names a 镇/乡 of the locality's task table (湖阳镇中学 → 湖阳镇), "urban"
    for 城区/县城 schools, None when the name does not say (a 街道 may be either).

    唐河 二（一）2 sends 城区 pupils to their 户口 town and town pupils with their parents' village.
    """
    pack = loc if isinstance(loc, PolicyPack) else get_pack(loc)
    word = norm_word(place or "")
    if pack is None or not word:
        return None
    if "城区" in word or "县城" in word:
        return "urban"
    for entry in pack.task_table.entries:
        for name in (entry.name, *entry.aliases):
            if norm_word(name) in word and name.endswith(("镇", "乡")):
                return "town"
    return None
