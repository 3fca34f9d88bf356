"""Dates in a message, and which event each belongs to: paid, born, died, or the day asked about.

Written dates (10月8号, 2023年10月8日, 去年12月20号) and words relative to today (前天, 上礼拜,
上个月, 过了年, 去年腊月, 明年一月份, 今年年底), all resolved against `bot.clock.today()`.
A relative word names a day or a period; a period is represented by its first day (上礼拜 → that
Monday, 上个月 → the 1st, 去年腊月 → the first day of that lunar month, 过了年 → the Spring
Festival), except 年底, which is the year's last day. Such a reading is flagged `relative` so the
dialogue can confirm it.

A date said as a limit passed (过了12月31号再交, 12月31号以后) stands for the day after it; a date
the coverage stopped (上个月刚断的) is no event here and no day asked about.

A date without a year is the nearest such date to today, except for a birth or a death, which is
the latest one not after today: on 20 November, 12月20号去世 is last December. A payment keeps the
nearest date when that is within two months, because residents say 交的 of a payment they are
planning too: on 20 November, 我12月30号交的什么时候报销 asks about this December, while
3月15号交的 is last March. An event date after today is not an event but a day asked about
(明天交了能报吗, 12月30号交的).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot import clock

# Spring Festival (正月初一) by Gregorian year: an astronomical fact, not policy. Past the table,
# 1 February stands in (the festival falls between 21 January and 20 February), flagged relative
# like every festival reading.
_SPRING_FESTIVAL = {
    2018: dt.date(2018, 2, 16), 2019: dt.date(2019, 2, 5), 2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3), 2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31), 2034: dt.date(2034, 2, 19), 2035: dt.date(2035, 2, 8),
}  # fmt: skip
_PLANNED = dt.timedelta(days=60)  # how far ahead a payment said with 交的 may still be a plan
_LUNAR_MONTH_DAYS = 30  # 腊月 starts this many days before the festival (29 or 30: a day at most off)


def spring_festival(year: int) -> dt.date:
    return _SPRING_FESTIVAL.get(year, dt.date(year, 2, 1))


@dataclass(frozen=True)
class Reading:
    dates: tuple[dt.date, ...] = ()  # every date except birth dates, in order of mention
    birth_date: dt.date | None = None
    paid_on: dt.date | None = None
    died_on: dt.date | None = None
    # The last day the death may have been when only a month was said (去年腊月, 12月份走的): the event is
    # somewhere from `died_on` to this day.
    died_until: dt.date | None = None
    month: int | None = None  # from a month named relative to today (明年1月份); see `month()`
    relative: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    pick: Callable[[bool], dt.date | None]  # past event? -> the date
    relative: bool
    month: int | None = None
    span_days: int = 0  # a whole month without its day: the event may be up to this many days later


# ---- events -------------------------------------------------------------------------------------
_BIRTH_AFTER = re.compile(r"^.{0,3}?(?:出生|生的|生日|生人|生了|出世|降生)")
_DEATH_AFTER = re.compile(r"^.{0,4}?(?:去世|过世|死|走的|走了|没了|病故|逝世|离世|不在了|火化)")
_DEATH_BEFORE = re.compile(r"(?:去世|过世|死|走|逝世|离世)(?:的|了)?(?:(?:时间|日子|那天|日期)(?:是|在)?|是|于|在)\s?$")
_PAID_AFTER = re.compile(r"^.{0,6}?(?:补交|补缴|交|缴|付|买)(?:的(?!话)|了|过|上了|完了|好了)")
_PAID_BEFORE = re.compile(r"(?:交|缴)(?:的|费|钱|了)?(?:时间|日期|那天|时候)?(?:是|在|于)\s?$")
# When a payment stopped (上个月刚断的, 去年6月停保的): not the day paid nor a day asked about.
_BREAK_AFTER = re.compile(r"^.{0,3}?(?:断的|断了|断缴|断保|断交|停保|停缴|停交|停了|不交了|没交了)")
# "After the date" (过了12月31号再交, 12月31号以后交): the day after it is meant.
_AFTER_BEFORE = re.compile(r"(?:过了|超过了?|错过了?)\s?$")
_AFTER_AFTER = re.compile(r"^\s?(?:以后|之后|过后)")


def _event(text: str, start: int, end: int) -> str | None:
    after, before = text[end : end + 12], text[max(0, start - 8) : start]
    # What follows a date says most (10月8号交的); what comes before only when nothing follows.
    for event, pattern in (("birth", _BIRTH_AFTER), ("death", _DEATH_AFTER), ("break", _BREAK_AFTER),
                           ("paid", _PAID_AFTER)):
        if pattern.match(after):
            return event
    for event, pattern in (("death", _DEATH_BEFORE), ("paid", _PAID_BEFORE)):
        if pattern.search(before):
            return event
    return None


# ---- resolving ----------------------------------------------------------------------------------
def _safe(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _around(make: Callable[[int], dt.date | None], past: bool, *, nearest: bool = False) -> dt.date | None:
    """One of make(last year / this year / next year): the latest not after today for a past event;
    otherwise the nearest to today (written dates) or the next on or after today (festivals)."""
    today = clock.today()
    options = [d for d in (make(today.year + k) for k in (-1, 0, 1)) if d is not None]
    if past:
        before = [d for d in options if d <= today]
        return max(before) if before else None
    if nearest:
        return min(options, key=lambda d: abs((d - today).days)) if options else None
    after = [d for d in options if d >= today]
    return min(after) if after else None


_YEAR_WORD = {"前年": -2, "去年": -1, "今年": 0, "明年": 1, "后年": 2}


def _year_of(word: str | None, digits: str | None = None) -> int | None:
    if digits:
        return int(digits)
    return clock.today().year + _YEAR_WORD[word] if word else None


def _first_of_month(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(year: int, month: int) -> dt.date:
    return _first_of_month(dt.date(year, month, 1), 1) - dt.timedelta(days=1)


_CN_DAY = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _lunar_day(raw: str | None) -> int:
    """Day within a lunar month: 初八 → 8, 23 → 23, nothing → 1."""
    if not raw:
        return 1
    raw = raw.rstrip("号日")
    if raw.startswith("初"):
        return _CN_DAY.get(raw[1:], 1)
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 30 else 1


# ---- readers: (pattern, builder) ----------------------------------------------------------------
_YW = r"(前年|去年|今年|明年|后年)"
_WRITTEN = re.compile(
    r"(?:" + _YW + r"|(\d{4})\s*年)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号|(?=交|缴|去世|走|出生|生|前|之前|以前|截止))"
    r"|(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
)
_MONTH_DAY = re.compile(r"(上个月|上月|这个月|本月|下个月|下月)(\d{1,2})(?:号|日)")
_LUNAR = re.compile(_YW + r"?(腊月|正月)(初[一二三四五六七八九十]|\d{1,2}(?:号|日)?)?")
_FESTIVAL = re.compile(
    r"(过了年|过完年|过年以后|过年后|过年之后|(?<![\d几两一二三四五六七八九十多半今去明前])年后|春节后|春节以后|春节过后|过了春节|过完春节|开春|年过了"
    r"|过年之前|过年前|春节前|春节之前|(?<![\d几两一二三四五六七八九十多半今去明前])年前|过年|春节)"
)
_NEW_YEAR = re.compile(_YW + r"?(?:年底|年末|年终)|" + _YW + r"?(?:元旦|年初|开年)")
_DAY_WORD = re.compile(r"大前天|前天|昨天|昨儿|今天|今儿|明天|明儿|大后天|后天|前几天|(\d{1,2})天(?:前|以前|之前)")
_WEEK = re.compile(r"(上|这|本|下)(?:个)?(?:礼拜|星期|周)([一二三四五六日天1-7])?")
_MONTH_WORD = re.compile(r"(上个月|上月|这个月|本月|下个月|下月)(底|初)?|" + _YW + r"(\d{1,2})月(?:份)?(底|初)?")
_DAY_OFFSETS = {"大前天": -3, "前天": -2, "昨天": -1, "昨儿": -1, "今天": 0, "今儿": 0, "明天": 1, "明儿": 1,
                "后天": 2, "大后天": 3, "前几天": -3}  # fmt: skip
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def _written(m: re.Match[str]) -> _Mention | None:
    if m.group(3):
        word, digits, month, day = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        year = _year_of(word, digits)
        if year is not None:
            fixed = _safe(year, month, day)
            return _Mention(m.start(), m.end(), lambda _past: fixed, False) if fixed else None
        if _safe(2024, month, day) is None:  # 2024 is a leap year: every real month/day exists in it
            return None
        return _Mention(
            m.start(), m.end(), lambda past: _around(lambda y: _safe(y, month, day), past, nearest=True), False
        )
    fixed = _safe(int(m.group(5)), int(m.group(6)), int(m.group(7)))
    return _Mention(m.start(), m.end(), lambda _past: fixed, False) if fixed else None


def _month_day(m: re.Match[str]) -> _Mention | None:
    shift = -1 if m.group(1).startswith("上") else 1 if m.group(1).startswith("下") else 0
    first = _first_of_month(clock.today(), shift)
    fixed = _safe(first.year, first.month, int(m.group(2)))
    return _Mention(m.start(), m.end(), lambda _past: fixed, False) if fixed else None


def _lunar(m: re.Match[str]) -> _Mention:
    word, month, day = m.group(1), m.group(2), _lunar_day(m.group(3))

    def on(lunar_year: int) -> dt.date:
        if month == "正月":
            return spring_festival(lunar_year) + dt.timedelta(days=day - 1)
        start = spring_festival(lunar_year + 1) - dt.timedelta(days=_LUNAR_MONTH_DAYS)
        return start + dt.timedelta(days=day - 1)

    span = 0 if m.group(3) else _LUNAR_MONTH_DAYS - 1  # 腊月 without its day: any of ~30 days
    if word:
        year = clock.today().year + _YEAR_WORD[word]
        return _Mention(m.start(), m.end(), lambda _past: on(year), True, span_days=span)
    return _Mention(m.start(), m.end(), lambda past: _around(on, past), True, span_days=span)


def _festival(m: re.Match[str]) -> _Mention:
    before = m.group(1).endswith("前")
    shift = dt.timedelta(days=-1 if before else 0)
    return _Mention(m.start(), m.end(), lambda past: _around(lambda y: spring_festival(y) + shift, past), True)


def _new_year(m: re.Match[str]) -> _Mention:
    end_of_year = any(word in m.group(0) for word in ("年底", "年末", "年终"))
    word = m.group(1) or m.group(2)

    def on(year: int) -> dt.date:
        return dt.date(year, 12, 31) if end_of_year else dt.date(year, 1, 1)

    if word:
        year = clock.today().year + _YEAR_WORD[word]
        return _Mention(m.start(), m.end(), lambda _past: on(year), True)
    if end_of_year:  # 年底 alone is this year's end
        return _Mention(m.start(), m.end(), lambda _past: on(clock.today().year), True)
    return _Mention(m.start(), m.end(), lambda past: _around(on, past), True)


def _day_word(m: re.Match[str]) -> _Mention | None:
    days = -int(m.group(1)) if m.group(1) else _DAY_OFFSETS[m.group(0)]
    if abs(days) > 400:
        return None
    return _Mention(m.start(), m.end(), lambda _past: clock.today() + dt.timedelta(days=days), True)


def _week(m: re.Match[str]) -> _Mention:
    shift = {"上": -7, "这": 0, "本": 0, "下": 7}[m.group(1)]
    raw = m.group(2)
    weekday = _WEEKDAY.get(raw, int(raw) - 1 if raw and raw.isdigit() else 0) if raw else 0
    today = clock.today()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=shift)
    return _Mention(m.start(), m.end(), lambda _past: monday + dt.timedelta(days=weekday), True)


def _month_word(m: re.Match[str]) -> _Mention | None:
    today = clock.today()
    if m.group(1):
        shift = -1 if m.group(1).startswith("上") else 1 if m.group(1).startswith("下") else 0
        first = _first_of_month(today, shift)
        edge = m.group(2)
    else:
        year, month = _year_of(m.group(3)), int(m.group(4))
        if year is None or not 1 <= month <= 12:
            return None
        first, edge = dt.date(year, month, 1), m.group(5)
    day = _month_end(first.year, first.month) if edge == "底" else first
    span = 0 if edge else (_month_end(first.year, first.month) - first).days
    return _Mention(m.start(), m.end(), lambda _past: day, True, month=first.month, span_days=span)


# Longest, most specific readers first; a later reader never reads inside an earlier one's span.
_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], _Mention | None]], ...] = (
    (_WRITTEN, _written),
    (_MONTH_DAY, _month_day),
    (_LUNAR, _lunar),
    (_MONTH_WORD, _month_word),
    (_NEW_YEAR, _new_year),
    (_FESTIVAL, _festival),
    (_WEEK, _week),
    (_DAY_WORD, _day_word),
)


def read(text: str) -> Reading:
    """Every date in normalised text, each assigned to its event (or to the dates asked about)."""
    mentions: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, build in _READERS:
        for m in pattern.finditer(text):
            if not m.group(0).strip() or any(s < m.end() and m.start() < e for s, e in taken):
                continue
            mention = build(m)
            if mention is not None:
                mentions.append(mention)
                taken.append((m.start(), m.end()))
    mentions.sort(key=lambda x: x.start)
    today = clock.today()
    found: list[dt.date] = []
    events: dict[str, dt.date] = {}
    died_until: dt.date | None = None
    month: int | None = None
    relative = False
    for mention in mentions:
        event = _event(text, mention.start, mention.end)
        if event == "break":
            continue
        date = mention.pick(event in ("birth", "death"))
        if date is not None and (_AFTER_BEFORE.search(text[max(0, mention.start - 4) : mention.start])
                                 or _AFTER_AFTER.match(text[mention.end : mention.end + 4])):
            date += dt.timedelta(days=1)
        if event == "paid" and date is not None and date > today + _PLANNED:
            date = mention.pick(True) or date  # months ahead: a payment made, not planned
        if date is None:
            continue
        if event is not None and date > today:
            event = None  # a future "event" is a day asked about: 明天交了能报销吗
        relative = relative or mention.relative
        month = month or mention.month
        if event is not None and event not in events:
            events[event] = date
            if event == "death" and mention.span_days:
                died_until = date + dt.timedelta(days=mention.span_days)
        if event != "birth" and date not in found:
            found.append(date)
    return Reading(
        dates=tuple(found),
        birth_date=events.get("birth"),
        paid_on=events.get("paid"),
        died_on=events.get("death"),
        died_until=died_until,
        month=month,
        relative=relative,
        spans=taken,
    )


_MONTH = re.compile(r"(?<![\d个])(\d{1,2})\s*月(?:份)?(?!\s*\d{1,2}\s*(?:日|号))")


def month(text: str, used: list[tuple[int, int]]) -> int | None:
    """A month named without a day (3月份补交, 12月底): 1..12."""
    for m in _MONTH.finditer(text):
        if any(s <= m.start() < e for s, e in used):
            continue
        value = int(m.group(1))
        if 1 <= value <= 12:
            return value
    return None
