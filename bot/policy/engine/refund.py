"""Whether a refund is possible on a date for a reason."""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer
from bot.policy.engine.common import Loc, cite, lines, refuse, select_pack, zh_date
from bot.policy.engine.person import Person

REASONS_ZH = {
    "death": "参保人死亡",
    "duplicate": "重复缴费",
    "employee_insurance": "参加了职工医保",
    "other_city": "在其他地市参加了居民医保",
    "new_aid": "缴费后新认定为资助对象",
}


def refund(loc: Loc, person: Person, on: dt.date, reason: str) -> Answer:
    """reason: "death" | "duplicate" | "employee_insurance" | "other_city" | "new_aid"."""
    if reason not in REASONS_ZH:
        return refuse(
            "refund",
            f"不认识的退费原因“{reason}”。可选：{'、'.join(REASONS_ZH.values())}。",
            trace=[f"unknown reason {reason!r}"],
        )
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("refund", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"reason {reason} on {on}"]
    why = REASONS_ZH[reason]
    if pack.refunds is None:
        return refuse(
            "refund",
            f"{pack.locality.name_zh}的文件没有写退费的规定，无法回答。请咨询当地医保部门或税务部门。",
            pack,
            trace=[*trace, "document silent on refunds"],
        )
    rule = next((r for r in pack.refunds.rules if reason in r.reasons), None)
    if rule is None:
        return refuse(
            "refund",
            f"{pack.locality.name_zh}的文件没有写因“{why}”退费的规定，无法回答。请咨询当地医保部门。",
            pack,
            citations=[cite(pack, r) for r in pack.refunds.rules],
            trace=[*trace, "no rule for this reason"],
        )
    if rule.recognised_by is not None:
        recognised = person.category_recognised_on or on
        allowed = recognised <= rule.recognised_by
        trace.append(
            f"recognised {recognised} vs {rule.recognised_by}: {'allowed' if allowed else 'not allowed'}"
        )
        cut = f"在{zh_date(rule.recognised_by)}前（含当天）认定的"
    else:
        allowed = on < rule.before
        trace.append(f"{on} before {rule.before}: {allowed}")
        cut = f"{zh_date(rule.before)}待遇期开始前"
    citations = [cite(pack, rule)]
    if allowed:
        text = lines(
            f"因{why}，{cut}可以申请退费。",
            f"需要提供{rule.requires_zh}。" if rule.requires_zh else None,
            f"到{rule.where_zh}办理。" if rule.where_zh else None,
            rule.note_zh,
        )
    else:
        citations.append(cite(pack, pack.refunds.after_start))
        text = lines(f"因{why}的退费，只限{cut}。", "现在已不能退费，个人缴费不再退回。")
    return Answer(
        question="refund",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=tuple(dict.fromkeys(citations)),
        trace=tuple(trace),
        reason=reason,
        refund_allowed=allowed,
    )
