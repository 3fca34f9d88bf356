"""Where a pack value is printed in its quote, and what the same place says in the new sentence.

A quote is read as a list of figures (see `text.Shape`). A date is three figures followed by 年, 月
and 日 (or a month and day after an earlier full date, as in "10 月 15 日—11 月 30 日"); a number is
a figure equal to the value (a rate such as 0.96 may be printed as 96%); a text value (a document
number, a phone) has its own digit runs among the figures. A value whose figures are not in its
quote is *derived* (e.g. a refund cut-off that equals the benefit start): `locate` returns None and
the caller recomputes it from the value it was derived from, or lists it for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.policy.carry.text import FIGURE, Shape

DAY_MARKS = ("日", "号")


@dataclass(frozen=True)
class DateAt:
    year: int | None  # figure index of the year; None when no year is printed for it
    month: int
    day: int


def dates_in(shape: Shape) -> list[DateAt]:
    found: list[DateAt] = []
    tails = shape.tails
    last_year: int | None = None
    i = 0
    n = len(shape.figures)
    while i < n:
        if i + 2 < n and tails[i] == "年" and tails[i + 1] == "月" and tails[i + 2].startswith(DAY_MARKS):
            found.append(DateAt(i, i + 1, i + 2))
            last_year = i
            i += 3
            continue
        if i + 1 < n and tails[i] == "月" and tails[i + 1].startswith(DAY_MARKS):
            found.append(DateAt(last_year, i, i + 1))
            i += 2
            continue
        i += 1
    return found


def _date(figures: tuple[str, ...], at: DateAt, year: int | None) -> dt.date | None:
    try:
        y = int(figures[at.year]) if at.year is not None else year
        return dt.date(y, int(figures[at.month]), int(figures[at.day])) if y is not None else None
    except ValueError:
        return None


def _dec(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Reading:
    """How one value is printed in its quote."""

    kind: str  # "date" | "number" | "text"
    places: tuple[Any, ...]  # DateAt for dates, figure indexes for numbers, (span, indexes) for text
    scale: int = 1  # a number printed as a percentage of the value (0.96 -> 96)


def locate(value: Any, shape: Shape) -> Reading | None:
    """Where `value` is printed among the quote's figures; None when it is not (a derived value)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.date):
        places = tuple(
            at for at in dates_in(shape)
            if _date(shape.figures, at, value.year) == value
        )
        return Reading("date", places) if places else None
    if isinstance(value, (int, float, Decimal)):
        used = {i for at in dates_in(shape) for i in (at.year, at.month, at.day) if i is not None}
        want = Decimal(str(value))
        for scale in (1, 100):
            places = tuple(
                i for i, f in enumerate(shape.figures)
                if i not in used and _dec(f) == want * scale
            )
            if places:
                return Reading("number", places, scale)
            if not (0 < want < 1):
                break
        return None
    if isinstance(value, str):
        runs = list(FIGURE.finditer(value))
        if not runs:
            return None
        spans = []
        for run in runs:
            idx = tuple(i for i, f in enumerate(shape.figures) if f == run.group())
            if not idx:
                return None
            spans.append(((run.start(), run.end()), idx))
        return Reading("text", tuple(spans))
    return None


@dataclass(frozen=True)
class Reread:
    value: Any = None
    ambiguous: tuple[Any, ...] = ()  # several different new values for one old value
    invalid: str | None = None  # the new figures do not make a valid value (e.g. 2 月 30 日)


def reread(old: Any, reading: Reading, new_figures: tuple[str, ...]) -> Reread:
    """The value at the same place in the new sentence."""
    if reading.kind == "date":
        got = []
        for at in reading.places:
            year = None
            if at.year is None:
                year = old.year  # no year printed for it: the caller shifts it and flags it
            day = _date(new_figures, at, year)
            if day is None:
                return Reread(invalid="新文件中这一日期不是有效日期")
            got.append(day)
        return _one(got)
    if reading.kind == "number":
        got = []
        for i in reading.places:
            num = _dec(new_figures[i])
            if num is None:
                return Reread(invalid="新文件中这一数字无法读取")
            num = num / reading.scale
            got.append(_plain_number(num, old))
        return _one(got)
    text = old
    for (start, end), idx in reversed(reading.places):
        options = {new_figures[i] for i in idx}
        if len(options) > 1:
            return Reread(ambiguous=tuple(sorted(options)))
        text = text[:start] + options.pop() + text[end:]
    return Reread(text)


def _one(got: list[Any]) -> Reread:
    distinct = list(dict.fromkeys(got))
    if len(distinct) > 1:
        return Reread(ambiguous=tuple(distinct))
    return Reread(distinct[0])


def _plain_number(num: Decimal, like: Any) -> int | float | Decimal:
    if num == num.to_integral_value():
        return int(num)
    return float(num) if isinstance(like, float) else num
