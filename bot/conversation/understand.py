"""One resident message read for the dialogue: the questions asked, in order, the facts about the
person, the place, and whether it is a follow-up of the previous answer ("那低保户呢").

The language itself is the NLU's (`bot.nlu`); this module only arranges its output for the dialogue
and adds the few cues that make sense only in a conversation (follow-up markers, "普通居民").
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from bot import clock
from bot.nlu import categories as category_words
from bot.nlu import parse
from bot.nlu.intents import QUESTIONS, asks, clauses, resolve

# A message that leans on the previous answer: "那低保户呢", "要是过了90天呢", "我妈呢", "换成滕州".
_FOLLOW_UP = re.compile(r"^(?:那|那么|那要是|要是|如果|假如|换成|换了|还有|那如果|那我|那俺)|呢(?:\s|$)")
# "An ordinary resident": no subsidy category (一般低保户 is 唐河's name for 低保, not "ordinary").
_ORDINARY = re.compile(r"普通(?:居民|人|老百姓|群众|农民|家庭|的|户)?|一般(?:人|居民|群众|老百姓|农户|家庭)(?!低保)"
                       r"|(?:啥|什么)(?:身份|都)(?:也)?(?:不是|没有)|没有(?:任何)?(?:身份|补助|资助)|没(?:啥|什么)身份")
# A newborn enrolled after the window: "要是过了90天才办呢", "超过三个月了".
_NEWBORN_LATE = re.compile(r"(?:过了|超过|超了|晚了|错过了?).{0,3}(?:90|九十)\s*天|(?:90|九十)\s*天(?:以后|之后|后|以上)"
                           r"|(?:超过|过了)\s*(?:3|三)\s*个月")
# Asking about the financing (total, government share) rather than what one person pays.
_FINANCING = re.compile(r"政府(?:补助|补贴|出|给|补)|财政(?:补助|补贴|出)|国家(?:补|给|出)|筹资|总共多少|一共多少|总额")
_PERSON_SLOTS = (
    "relation", "age", "birth_year", "migrant", "newborn", "student", "hukou_elsewhere", "residence_permit",
    "employee_insured", "newly_recognised", "month", "refund_reason", "uninsured_years", "paid_back_years",
    "continuous_years", "no_claims",
)  # fmt: skip


@dataclass(frozen=True)
class Turn:
    text: str  # the normalised text (ID numbers removed)
    intent: str  # the whole message's intent (steering intents included)
    asks: tuple[str, ...]  # the questions asked, in order
    explicit: bool  # a question word asked at least one of them
    facts: dict[str, Any] = field(default_factory=dict)
    locality: str | None = None
    town: str | None = None
    village: str | None = None
    place_exact: bool = True
    place_matched: str | None = None
    unknown_place: str | None = None
    follow_up: bool = False
    id_number: str | None = None
    name: str | None = None
    corrections: tuple[tuple[str, str], ...] = ()
    # Categories asked about one after the other ("低保户交多少 五保户呢"): one group per person asked about.
    alternatives: tuple[tuple[str, ...], ...] = ()


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _facts(slots: Any, text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key in _PERSON_SLOTS:
        value = slots.get(key)
        if value not in (None, False, "", (), []):
            facts[key] = list(value) if isinstance(value, tuple) else value
    if slots.get("categories"):
        facts["categories"] = list(slots.get("categories"))
    if slots.get("not_categories"):
        facts["not_categories"] = list(slots.get("not_categories"))
    born = slots.get("birth_date")
    if born:
        facts["birth_date"] = _iso(born)
    paid = slots.get("paid_on") or (slots.get("dates") or (None,))[0]
    if paid:
        facts["paid_on"] = _iso(paid)
    died = slots.get("died_on")
    if died:
        facts["died_on"] = _iso(died)
    if facts.get("refund_reason") == "employee_insurance":
        facts["employee_insured"] = True  # the words that name the reason say the person has it
    if slots.get("amount") is not None:
        facts["amount_stated"] = str(slots.get("amount"))
    if _ORDINARY.search(text) and not facts.get("categories"):
        facts["ordinary"] = True
    if _FINANCING.search(text):
        facts["financing"] = True
    if _NEWBORN_LATE.search(text):
        facts["newborn_late"] = True
        facts["newborn"] = True
    return facts


def _alternatives(text: str) -> tuple[tuple[str, ...], ...]:
    """Groups of categories asked about separately: a later clause ending in 呢 (or beginning with 那)
    that names other categories asks about another person ("低保户交多少 五保户呢")."""
    groups: list[tuple[str, ...]] = []
    for _, clause in clauses(text):
        said = category_words.read(clause).categories
        if not said:
            continue
        separate = bool(groups) and (clause.endswith("呢") or clause.startswith("那"))
        if separate or not groups:
            groups.append(said)
        else:
            groups[-1] = tuple(dict.fromkeys(groups[-1] + said))
    return tuple(groups) if len(groups) > 1 else ()


@functools.lru_cache(maxsize=4096)
def _read(text: str, today: dt.date) -> Turn:
    parsed = parse(text)
    slots = parsed.slots
    norm = parsed.text
    intent = resolve(norm, parsed.intent, has_id=bool(slots.get("id_number")))
    found = asks(norm, intent)
    questions = tuple(a.intent for a in found if a.intent in QUESTIONS)
    facts = _facts(slots, norm)
    # Slot evidence alone ("低保户", "70岁") is not a question of its own: it is one only when there
    # is no earlier question to apply it to, which the dialogue decides.
    explicit = any(a.explicit for a in found)
    return Turn(
        text=norm,
        intent=intent,
        asks=questions,
        explicit=explicit,
        facts=facts,
        locality=slots.get("locality") if slots.get("place_named") else None,
        town=slots.get("town"),
        village=slots.get("village"),
        place_exact=bool(slots.get("place_exact")),
        place_matched=slots.get("place_matched"),
        unknown_place=slots.get("unknown_place"),
        follow_up=bool(_FOLLOW_UP.search(norm)) and not explicit,
        id_number=slots.get("id_number"),
        name=slots.get("name"),
        corrections=tuple(slots.get("corrections") or ()),
        alternatives=_alternatives(norm) if len(facts.get("categories") or ()) > 1 else (),
    )


_SPACES = re.compile(r"\s+")


def read(text: str | None) -> Turn:
    """The message as the dialogue needs it (cached per text and day: dates are read relative to today)."""
    return _read(_SPACES.sub(" ", (text or "").strip())[:500], clock.today())
