"""Asking the policy engine a resident's question: facts from NLU slots or buttons -> engine call ->
reply text, or ONE clarifying question when the answer hinges on a fact we lack.

Facts are kept JSON-safe (lists, ints, ISO date strings) because a pending question waits in FSM
storage (memory or Redis) between two messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from handlers.resident import keyboards, render
from handlers.resident.places import get_pack

TOPICS = (
    "amount",
    "deadline",
    "eligibility",
    "benefit_start",
    "newborn",
    "refund",
    "payment_info",
    "contacts",
    "pay_first",
    "summary",
)
ORDINARY = "none"  # category button value for an ordinary resident (no subsidy category)


@dataclass
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    # Set when the reply is a clarifying question: what to answer once the fact arrives.
    pending: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- facts -------------------------------------------------------------------------------------

_PERSON_FIELDS: set[str] | None = None


def _person_fields() -> set[str]:
    global _PERSON_FIELDS
    if _PERSON_FIELDS is None:
        from bot.policy.engine import Person

        _PERSON_FIELDS = {f.name for f in dataclasses.fields(Person)}
    return _PERSON_FIELDS


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def facts_from_slots(slots: Any) -> dict[str, Any]:
    """The facts in NLU slots that matter to the engine, JSON-safe."""
    get = slots.get if isinstance(slots, dict) else (lambda k, d=None: getattr(slots, k, d))
    facts: dict[str, Any] = {}
    cats = get("categories") or []
    if cats:
        facts["categories"] = [str(c) for c in cats]
    for key in ("age", "migrant", "newborn", "student", "hukou_local", "residence_permit", "employee_insured",
                "special_late_reason", "coverage_break_months", "refund_reason", "month"):
        value = get(key)
        if value not in (None, False, "", []):
            facts[key] = value
    for key in ("birth_date", "category_recognised_on", "paid_on"):
        value = get(key)
        if value:
            facts[key] = _iso(value)
    if get("hukou_elsewhere"):
        facts["hukou_local"] = False
    dates = get("dates") or []
    if dates and "paid_on" not in facts:
        facts["paid_on"] = _iso(dates[0])
    return facts


def person(facts: dict[str, Any]) -> Any:
    from bot.policy.engine import Person

    allowed = _person_fields()
    kwargs: dict[str, Any] = {}
    for key, value in facts.items():
        if key not in allowed:
            continue
        if key in ("birth_date", "category_recognised_on") and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        if key == "categories":
            value = tuple(value)
        kwargs[key] = value
    if "age" in kwargs and kwargs.get("birth_date"):
        kwargs.pop("age")
    return Person(**kwargs)


def category_name(pack: Any, code: str) -> str:
    """The pack's local name for a category code, else the shared vocabulary's name."""
    local = pack.category(code) if hasattr(pack, "category") else None
    if local is not None:
        return local.name_zh
    from bot.policy import vocabulary

    entry = vocabulary().get(code)
    return entry.name_zh if entry is not None else code


def who(pack: Any, facts: dict[str, Any]) -> str | None:
    parts = [category_name(pack, c) for c in facts.get("categories") or []]
    if facts.get("age") is not None:
        parts.append(f"{facts['age']}岁")
    if facts.get("migrant"):
        parts.append("外出务工人员")
    return "、".join(parts) if parts else ("普通居民" if facts.get("ordinary") else None)


def age_choices(pack: Any) -> list[tuple[str, str]]:
    """Age bands the pack's age rules distinguish (e.g. 滕州), as (an age inside the band, label)."""
    age_rules = getattr(pack, "age_rules", None)
    rules = getattr(age_rules, "rules", None) or ()
    bands: list[tuple[int, int | None]] = [(int(r.min_age), None if r.max_age is None else int(r.max_age)) for r in rules]
    out = []
    for lo, hi in sorted(set(bands)):
        out.append((str(lo), f"{lo}岁及以上" if hi is None else f"{lo}–{hi}岁"))
    return out


def category_question(pack: Any, topic: str, facts: dict[str, Any], loc: str) -> Reply:
    choices = [(ORDINARY, "普通居民（无资助身份）")]
    choices += [(c.code, c.name_zh) for c in (getattr(pack, "categories", None) or [])]
    ages = age_choices(pack)
    text = "请问参保人属于哪一类？点一下下面的按钮。"
    markup = keyboards.facts_keyboard("cat", choices)
    if ages:
        text = "请问参保人属于哪一类，或者多大年纪？点一下下面的按钮。"
        rows = markup.inline_keyboard + keyboards.facts_keyboard("age", ages).inline_keyboard
        markup = InlineKeyboardMarkup(inline_keyboard=rows)
    return Reply(text, markup, pending={"topic": topic, "facts": facts, "loc": loc, "ask": "cat"})


def refund_question(topic: str, facts: dict[str, Any], loc: str) -> Reply:
    markup = keyboards.facts_keyboard("refund", keyboards.REFUND_REASONS, width=1)
    return Reply(
        "请问是因为什么要退费？", markup, pending={"topic": topic, "facts": facts, "loc": loc, "ask": "refund"}
    )


# --- dates ---------------------------------------------------------------------------------------


def _collection_end(pack: Any) -> dt.date:
    dates = pack.dates
    col = getattr(dates, "collection", None) or max(dates.periods, key=lambda p: p.end)
    return col.end


def year_over(pack: Any, today: dt.date) -> bool:
    return today > pack.dates.benefit.end


def policy_day(pack: Any, today: dt.date, *, amount: bool = False) -> dt.date:
    """The date the engine is asked about. Today while the pack applies; once its coverage year is
    over, the answer is for that year (the reply says so): amounts as during its campaign, other
    questions as on the last day of its benefit year."""
    if not year_over(pack, today):
        return today
    return _collection_end(pack) if amount else pack.dates.benefit.end


def paid_question(pack: Any, topic: str, facts: dict[str, Any], loc: str) -> Reply:
    """When benefits start hinges on the payment date and today says nothing (year over): ask it."""
    year = int(pack.coverage_year)
    choices = [("ontime", "截止前按时缴的")]
    choices += [(f"{year}-{m:02d}", f"{year}年{m}月补缴") for m in range(1, 13)]
    markup = keyboards.facts_keyboard("paid", choices, width=3)
    return Reply("请问是什么时候缴费的？点一下下面的按钮。", markup,
                 pending={"topic": topic, "facts": facts, "loc": loc, "ask": "paid"})


def paid_on_for(pack: Any, facts: dict[str, Any], today: dt.date) -> tuple[dt.date, bool]:
    """The payment date asked about: a date said, a month said (placed in the campaign the pack
    covers), else today. Returns (date, assumed) where assumed means the resident named no day."""
    if facts.get("paid_on") == "ontime":
        return _collection_end(pack), True
    if facts.get("paid_on"):
        raw = str(facts["paid_on"])
        if len(raw) == 7:  # a year-month button: the first day of that month
            return dt.date.fromisoformat(raw + "-01"), True
        return dt.date.fromisoformat(raw), False
    month = facts.get("month")
    if month:
        year = int(pack.coverage_year)
        period_year = year - 1
        start, end = _collection_window(pack)
        candidate = dt.date(period_year, int(month), 1)
        if start is not None and end is not None and start.replace(day=1) <= candidate <= end:
            return candidate, True
        return dt.date(year, int(month), 1), True
    return policy_day(pack, today), True


def _collection_window(pack: Any) -> tuple[dt.date | None, dt.date | None]:
    starts = [p.start for p in pack.dates.periods if p.start is not None]
    end = _collection_end(pack)
    return (min(starts) if starts else end.replace(day=1)), end


# --- the question itself ---------------------------------------------------------------------


def answer(topic: str, loc: str, facts: dict[str, Any], today: dt.date) -> Reply:
    """Answer `topic` for locality `loc`, or ask the one fact the answer hinges on."""
    from bot.policy import engine

    pack = get_pack(loc)
    if pack is None:
        from handlers.resident.places import covered_list_zh

        return Reply(f"暂时没有这个地方的政策。目前收录的地方：{covered_list_zh()}。")
    note = render.year_note(pack, today)
    on = policy_day(pack, today)
    p = None if topic in ("payment_info", "contacts", "pay_first", "summary") else person(facts)

    if topic == "amount":
        knows_who = facts.get("categories") or facts.get("age") is not None or facts.get("birth_date") \
            or facts.get("ordinary") or facts.get("migrant")
        if not knows_who and (getattr(pack, "categories", None) or age_choices(pack)):
            return category_question(pack, topic, facts, loc)
        ans = engine.amount(pack, p, policy_day(pack, today, amount=True))
        return Reply(render.amount(ans, pack, who(pack, facts), note))
    if topic == "deadline":
        return Reply(render.deadline(engine.deadline(pack, p, on), pack, note))
    if topic == "eligibility":
        return Reply(render.eligibility(engine.eligibility(pack, p, on), pack, note))
    if topic == "benefit_start":
        if year_over(pack, today) and not facts.get("paid_on") and not facts.get("month"):
            return paid_question(pack, topic, facts, loc)
        paid_on, _ = paid_on_for(pack, facts, today)
        return Reply(render.benefit_start(engine.benefit_start(pack, p, paid_on), pack, paid_on, note))
    if topic == "newborn":
        if facts.get("birth_date"):
            baby = person({**facts, "newborn": True})
            return Reply(render.deadline(engine.deadline(pack, baby, on), pack, note, newborn=True))
        # No birth date: state the rule only (figures about an assumed birthday would mislead).
        baby = person({**facts, "newborn": True, "birth_date": on.isoformat()})
        ans = engine.benefit_start(pack, baby, on)
        hint = "告诉我宝宝的出生日期（比如：宝宝十月五日出生），我帮您算最晚哪天办。"
        return Reply(render.rule_only(ans, pack, [render.day(on)], note, hint))
    if topic == "refund":
        reason = facts.get("refund_reason")
        if not reason:
            return refund_question(topic, facts, loc)
        return Reply(render.refund(engine.refund(pack, p, on, reason), pack, note))
    if topic == "contacts":
        return _contacts(pack, facts, on, note, loc)
    if topic in ("payment_info", "pay_first", "summary"):
        return Reply(_extra(topic, pack, facts, on, note))
    return Reply(render.compose([note, "这个问题我还不会回答。"], None))


_EXTRA_FUNCS = {
    "payment_info": "payment_info",
    "contacts": "contacts",
    "pay_first": "explain_pay_first",
    "summary": "summary",
}
def _contacts(pack: Any, facts: dict[str, Any], on: dt.date, note: str | None, loc: str) -> Reply:
    """Contacts; where the document lists phones per town and we do not know the town, ask it."""
    from bot.policy import engine

    ans = engine.contacts(pack, town=facts.get("town"), on=on)
    towns = list(dict.fromkeys(i.get("town") for i in (ans.items or ()) if i.get("town")))
    if ans.ok and not facts.get("town") and len(towns) > 1:
        markup = keyboards.facts_keyboard("town", [(t, t) for t in towns], width=3)
        return Reply(render.plain(ans, pack, note), markup,
                     pending={"topic": "contacts", "facts": facts, "loc": loc, "ask": "town"})
    return Reply(render.plain(ans, pack, note))


def _extra(topic: str, pack: Any, facts: dict[str, Any], today: dt.date, note: str | None) -> str:
    from bot.policy import engine

    fn = getattr(engine, _EXTRA_FUNCS[topic])
    kwargs: dict[str, Any] = {}
    if topic == "contacts" and facts.get("town"):
        kwargs["town"] = facts["town"]
    try:
        ans = fn(pack, on=today, **kwargs)
    except TypeError:
        ans = fn(pack, **kwargs)
    return render.plain(ans, pack, note)
