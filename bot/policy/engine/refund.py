"""Whether a refund is possible, judged on the day of the event (death, second payment, ...).

The documents tie a refund to when the event happened, not to when someone asks: 桃园 八 refunds a
death "在待遇享受期前（2023 年 1 月 1 日前）", 五河 四（二） an event "在待遇享受期未开始前". So the engine
takes the event date (`event_on`) apart from the date asked (`on`). Without it, an answer that the
event date decides is not guessed: the reply states both sides and `needs` asks for the date.
"""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import Loc, cite, lines, refuse, select_pack, uniq, zh_date
from bot.policy.engine.info import contact_line
from bot.policy.engine.person import Person
from bot.policy.schema import PolicyPack, RefundRule

REASONS_ZH = {
    "death": "参保人死亡",
    "duplicate": "重复缴费",
    "employee_insurance": "参加了职工医保",
    "other_city": "在其他地市参加了居民医保",
    "new_aid": "缴费后新认定为资助对象",
}
# The event each reason is judged by, as the question to ask when its date is missing.
EVENT_ZH = {
    "death": "去世",
    "duplicate": "重复缴费（第二次缴费）",
    "employee_insurance": "参加职工医保",
    "other_city": "在其他地市参保",
    "new_aid": "被认定为资助对象",
}


def refund(loc: Loc, person: Person, on: dt.date, reason: str, event_on: dt.date | None = None) -> Answer:
    """reason: "death" | "duplicate" | "employee_insurance" | "other_city" | "new_aid".

    `on` is the day asked; `event_on` the day of the event (for new_aid, the recognition day, which
    `person.category_recognised_on` may also give). The pack is the one covering the event's day.
    """
    if reason not in REASONS_ZH:
        return refuse(
            "refund",
            f"不认识的退费原因“{reason}”。可选：{'、'.join(REASONS_ZH.values())}。",
            trace=[f"unknown reason {reason!r}"],
        )
    if reason == "new_aid" and event_on is None:
        event_on = person.category_recognised_on
    pack = select_pack(loc, event_on or on)
    if isinstance(pack, str):
        return refuse("refund", pack, trace=[f"no pack for {loc!r} on {event_on or on}"], locality=loc)
    trace = [
        f"pack {pack.locality.id}-{pack.coverage_year}",
        f"reason {reason}, asked {on}, event {event_on or 'not given'}",
    ]
    why = REASONS_ZH[reason]
    if pack.refunds is None:
        contact, contact_cites, _ = contact_line(pack)
        return refuse(
            "refund",
            lines(f"{pack.locality.name_zh}的文件没有写退费的规定，无法回答。", contact),
            pack,
            citations=contact_cites,
            trace=[*trace, "document silent on refunds"],
        )
    rule = next((r for r in pack.refunds.rules if reason in r.reasons), None)
    if rule is None:
        contact, contact_cites, _ = contact_line(pack)
        return refuse(
            "refund",
            lines(f"{pack.locality.name_zh}的文件没有写因“{why}”退费的规定，无法回答。", contact),
            pack,
            citations=[*(cite(pack, r) for r in pack.refunds.rules), *contact_cites],
            trace=[*trace, "no rule for this reason"],
        )
    # new_aid: recognised on or before `recognised_by`; every other reason: event before `before`.
    last_ok = rule.recognised_by or rule.before - dt.timedelta(days=1)
    event_zh = rule.event_zh or EVENT_ZH[reason]
    citations = [cite(pack, rule), cite(pack, pack.refunds.after_start)]
    if event_on is None:
        if on > last_ok:
            # The day asked is past the cut-off, but the event may have been before it: say both.
            trace.append(f"event date unknown, asked after the last qualifying day {last_ok}: ask for it")
            return refuse(
                "refund",
                lines(
                    f"要看{event_zh}是哪一天："
                    f"{zh_date(last_ok)}以前（含当天）{event_zh}的，{_allowed_text(rule)}；",
                    f"{zh_date(last_ok + dt.timedelta(days=1))}起{event_zh}的，个人缴费不退。",
                    f"请告诉我是哪天{event_zh}的。",
                ),
                pack,
                citations=citations,
                trace=trace,
                needs=("event_on",),
            )
        # Asked on or before the last qualifying day: an event that has happened is in time.
        event = on
        trace.append(f"event date not given: it happened by the day asked ({on})")
    else:
        event = event_on
    allowed = event <= last_ok
    trace.append(f"event {event} vs last qualifying day {last_ok}: {'allowed' if allowed else 'not allowed'}")
    return _answer(pack, rule, reason, event_zh, allowed, event_on, last_ok, citations, trace)


def _allowed_text(rule: RefundRule) -> str:
    text = "可以申请退费"
    if rule.requires_zh:
        text += f"（要带{rule.requires_zh}）"
    return text


def _answer(
    pack: PolicyPack,
    rule: RefundRule,
    reason: str,
    event_zh: str,
    allowed: bool,
    event_on: dt.date | None,
    last_ok: dt.date,
    citations: list[Citation],
    trace: list[str],
) -> Answer:
    why = REASONS_ZH[reason]
    when = f"{zh_date(last_ok)}以前（含当天）{event_zh}的"
    if allowed:
        text = lines(
            f"因{why}：{when}可以申请退费。",
            f"需要提供{rule.requires_zh}。" if rule.requires_zh else None,
            f"到{rule.where_zh}办理。" if rule.where_zh else None,
            rule.note_zh,
        )
        citations = citations[:1]
    else:
        text = lines(f"因{why}的退费，只限{when}。", "这种情况个人缴费不再退回。")
    return Answer(
        question="refund",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=uniq(citations),
        trace=tuple(trace),
        reason=reason,
        refund_allowed=allowed,
        event_on=event_on,
        cutoff=last_ok + dt.timedelta(days=1),
        requires=rule.requires_zh,
    )
