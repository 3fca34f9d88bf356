"""The person asked about: merging what each message says into the dialogue state, and the policy
engine's `Person` built from it.

Facts are JSON-safe (ISO date strings, lists) because they live in the stored dialogue state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.policy.engine import Person

# Facts that describe who the person is. A message naming another person (我妈呢) starts afresh;
# a message restating one of these replaces the old value ("那监测户呢" replaces 低保).
_WHO = ("categories", "not_categories", "ordinary", "age", "birth_year", "birth_date")


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The person after this message: a new relation means a new person; otherwise the message's facts
    replace the ones they restate ("也是…" adds categories instead) and the rest carry over."""
    new = dict(new)
    relation = new.get("relation")
    if relation and relation != old.get("relation"):
        new.pop("also", None)
        return new
    merged = dict(old)
    if any(k in new for k in ("age", "birth_year", "birth_date")):
        for k in ("age", "birth_year", "birth_date", "birth_month_only"):
            merged.pop(k, None)
    if "died_on" in new:
        merged.pop("died_until", None)  # a new day of death replaces a month-wide one
    also = new.pop("also", False) if "also" in new else False
    if also and new.get("categories"):
        new = {**new, "categories": list(dict.fromkeys([*(merged.get("categories") or []), *new["categories"]]))}
    if "categories" in new or new.get("ordinary") or "unsure_categories" in new:
        merged.pop("ordinary", None)
        merged.pop("categories", None)
        merged.pop("unsure_categories", None)
    if new.get("newborn") is False:
        merged.pop("newborn", None)
    # A new payment date or month replaces the other ("五月份交的" then "那要是八月份交的呢").
    if "month" in new:
        merged.pop("paid_on", None)
    if "paid_on" in new:
        merged.pop("month", None)
    merged.update(new)
    if merged.get("categories") and merged.get("not_categories"):
        merged["not_categories"] = [c for c in merged["not_categories"] if c not in merged["categories"]]
    return merged


ON_TIME = "ontime"  # paid_on when the resident says they paid within the collection period
CHOSEN = "chosen"  # the value of `ordinary` when the resident picked "普通居民" among the choices


def knows_who(facts: dict[str, Any]) -> bool:
    """Enough to give one person's amount rather than the table for everyone. "普通" typed in a question
    is not: the table starts with the ordinary resident's amount anyway and shows what others pay."""
    if facts.get("ordinary") == CHOSEN:
        return True
    return any(facts.get(k) for k in _WHO if k not in ("not_categories", "ordinary")) or bool(facts.get("newborn"))


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def ages(facts: dict[str, Any], on: dt.date) -> list[int | None]:
    """The person's possible ages on a day: one when the age or full birth date is known, two when
    only the birth year is (before and after this year's birthday), [None] when nothing is."""
    if facts.get("birth_date") and not facts.get("newborn"):
        born = _date(facts["birth_date"])
        if born is not None:
            return [on.year - born.year - ((on.month, on.day) < (born.month, born.day))]
    if facts.get("age") is not None:
        return [int(facts["age"])]
    year = facts.get("birth_year")
    if year and int(year) <= on.year:
        older = on.year - int(year)
        # On 31 December everybody born that year has had their birthday.
        possible = [older] if (on.month, on.day) == (12, 31) else [older - 1, older]
        return [a for a in possible if a >= 0]
    return [None]


def said_categories(facts: dict[str, Any]) -> list[str]:
    """The categories the person was said to have, less the ones denied."""
    return [c for c in facts.get("categories") or () if c not in (facts.get("not_categories") or ())]


def person(facts: dict[str, Any], *, age: int | None = None) -> Person:
    """The engine's Person for these facts (with `age` chosen by the caller from `ages`)."""
    categories = said_categories(facts)
    newborn = bool(facts.get("newborn"))
    birth = _date(facts.get("birth_date"))
    special = facts.get("special_late_reason") or ("new_aid" if facts.get("newly_recognised") and categories else None)
    return Person(
        categories=tuple(categories),
        birth_date=birth if newborn else None,
        age=age,
        migrant=bool(facts.get("migrant")),
        newborn=newborn,
        student=facts.get("student"),
        hukou_local=False if facts.get("hukou_elsewhere") else None,
        residence_permit=bool(facts.get("residence_permit")),
        employee_insured=bool(facts.get("employee_insured")),
        special_late_reason=special,
        coverage_break_months=facts.get("coverage_break_months"),
        category_recognised_on=_date(facts.get("recognised_on")),
    )


def paid_on(facts: dict[str, Any], pack: Any = None) -> dt.date | None:
    """The payment date the resident gave; "on time" is the last day of the pack's collection period."""
    if facts.get("paid_on") == ON_TIME:
        return pack.dates.collection.end if pack is not None else None
    return _date(facts.get("paid_on"))


def died_on(facts: dict[str, Any]) -> dt.date | None:
    return _date(facts.get("died_on"))
