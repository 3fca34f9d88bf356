"""Dates of events (paid, born, died) kept apart from the day asked about; relative words resolved
against today, pinned to Monday 2023-11-20 (conftest)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu import parse
from bot.nlu.when import spring_festival

D = dt.date


@pytest.mark.parametrize(
    ("text", "paid_on", "relative"),
    [
        ("上礼拜交的什么时候能报销", D(2023, 11, 13), True),  # Monday of last week
        ("上周三交的", D(2023, 11, 15), True),
        ("前天交了", D(2023, 11, 18), True),
        ("大前天交的钱", D(2023, 11, 17), True),
        ("昨天在村里交的", D(2023, 11, 19), True),
        ("10月8号交的", D(2023, 10, 8), False),
        ("上个月20号交的", D(2023, 10, 20), False),  # a day named: not a relative reading
        ("上个月交的", D(2023, 10, 1), True),
        ("3天前交的", D(2023, 11, 17), True),
        ("交的时间是10月8号", D(2023, 10, 8), False),
        ("3月15号交的 什么时候能报", D(2023, 3, 15), False),  # months ahead would be no plan: last March
        ("3月15交的", D(2023, 3, 15), False),  # no 号
    ],
)
def test_paid_on(text: str, paid_on: dt.date, relative: bool) -> None:
    slots = parse(text).slots
    assert slots.paid_on == paid_on
    assert slots.dates_relative is relative
    assert slots.died_on is None and slots.birth_date is None


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("过了年还能交吗", spring_festival(2024)),
        ("过完年回来交行不行", spring_festival(2024)),
        ("春节后交", spring_festival(2024)),
        ("年前交完就行吧", spring_festival(2024) - dt.timedelta(days=1)),
        ("明年一月份交行不行", D(2024, 1, 1)),
        ("今年年底之前交", D(2023, 12, 31)),
        ("明天交了能报吗", D(2023, 11, 21)),  # a payment after today is a day asked about
        ("我12月30号交的什么时候开始报销", D(2023, 12, 30)),  # planned: the nearest 30 December
        ("2月28号之前还能交吗", D(2024, 2, 28)),
        ("下个月底", D(2023, 12, 31)),
    ],
)
def test_day_asked_about_is_not_an_event(text: str, asked: dt.date) -> None:
    slots = parse(text).slots
    assert slots.dates == (asked,)
    assert slots.paid_on is None and slots.died_on is None and slots.birth_date is None


def test_relative_month_sets_month_and_flag() -> None:
    slots = parse("明年一月份交行不行").slots
    assert slots.month == 1 and slots.dates_relative
    plain = parse("3月份补交什么时候能报销").slots
    assert plain.month == 3 and plain.dates == () and not plain.dates_relative


@pytest.mark.parametrize(
    ("text", "died_on"),
    [
        ("12月20号去世的 医保能退吗", D(2022, 12, 20)),  # a death is in the past: last December
        ("俺娘去年腊月走的", spring_festival(2023) - dt.timedelta(days=30)),  # first day of that lunar month
        ("老伴前天走了", D(2023, 11, 18)),
        ("去世的时间是10月3号", D(2023, 10, 3)),
    ],
)
def test_died_on(text: str, died_on: dt.date) -> None:
    slots = parse(text).slots
    assert slots.died_on == died_on
    assert slots.paid_on is None
    assert died_on in slots.dates


def test_last_years_twelfth_lunar_month() -> None:
    # 去年腊月 from 2023-11-20: the twelfth lunar month of 2022 began on 2022-12-23.
    assert parse("去年腊月走的").slots.died_on == D(2022, 12, 23)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("去年腊月走的", D(2023, 1, 21)),  # a lunar month without its day: ~30 days
        ("俺爹今年2月份走了", D(2023, 2, 28)),  # a month without its day: to its last day
        ("去年腊月初三走的", None),  # the day is said
        ("12月20号去世的", None),
        ("上个月底走的", None),  # 底 names the day
    ],
)
def test_death_said_by_month_only_spans_the_month(text: str, until: dt.date | None) -> None:
    assert parse(text).slots.died_until == until


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("孩子10月5号生的", D(2023, 10, 5)),
        ("孙子是2023年10月5日出生的 怎么参保", D(2023, 10, 5)),
        ("外孙女12月1号出生", D(2022, 12, 1)),  # a birth is in the past
    ],
)
def test_birth_date(text: str, born: dt.date) -> None:
    slots = parse(text).slots
    assert slots.birth_date == born
    assert born not in slots.dates  # a birth is not a payment or a day asked about
    assert slots.paid_on is None


def test_several_events_in_one_message() -> None:
    slots = parse("俺爹12月20号去世的 10月8号交的医保 能退吗").slots
    assert slots.died_on == D(2022, 12, 20)
    assert slots.paid_on == D(2023, 10, 8)
    assert slots.dates == (D(2022, 12, 20), D(2023, 10, 8))


@pytest.mark.parametrize("text", ["交了3个月了", "90天内", "一年到头", "两年后", "今年前三个月", "十几年"])
def test_durations_are_not_dates(text: str) -> None:
    slots = parse(text).slots
    assert slots.dates == () and slots.paid_on is None and not slots.dates_relative


def test_spring_festival_table() -> None:
    assert spring_festival(2024) == D(2024, 2, 10)
    assert spring_festival(2023) == D(2023, 1, 22)
    assert spring_festival(2099) == D(2099, 2, 1)  # past the table: a stand-in inside the festival's range


def test_a_birth_year_long_past_is_not_a_newborn() -> None:
    assert parse("孩子21年出生的 怎么交").slots.newborn is False
    assert parse("孩子刚出生 怎么交").slots.newborn is True
    assert parse("孩子10月5号生的").slots.newborn is True  # within the last year


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("过了12月31号再交 多久能报销", D(2024, 1, 1)),  # after the day: the day after it
        ("超过12月31号交的还能报吗", D(2024, 1, 1)),
        ("12月31号以后交行不行", D(2024, 1, 1)),
        ("12月31号之前交完", D(2023, 12, 31)),  # before it: the day itself
    ],
)
def test_a_day_passed_means_the_day_after(text: str, asked: dt.date) -> None:
    slots = parse(text).slots
    assert asked in slots.dates and slots.paid_on is None


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("上个月刚断的 现在交居民医保 多久能用", ()),
        ("去年6月停保的 现在补交 能报不", ()),
        ("10月份断缴了 今天交", (D(2023, 11, 20),)),  # 今天 is the day asked about, October is not
    ],
)
def test_the_day_coverage_stopped_is_no_payment_and_no_day_asked(text: str, dates: tuple[dt.date, ...]) -> None:
    slots = parse(text).slots
    assert slots.paid_on is None and slots.dates == dates
