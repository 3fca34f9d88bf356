"""Numbers residents state: ages in every spoken form, birth years, sums of money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.nlu import parse


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("俺娘正好七十 交多少", 70),
        ("我爸六十八了还交吗", 68),
        ("七十多了还用交吗", 70),
        ("七十多岁的老人", 70),
        ("七十来岁", 70),
        ("岁数六十五 低保户", 65),
        ("年纪六十五了", 65),
        ("八十好几了 还要交钱吗", 80),
        ("快六十了", 59),
        ("眼看就要七十了", 69),
        ("满60周岁以后交多少", 60),
        ("刚满六十", 60),
        ("六十出头", 60),
        ("今年七十一", 71),
        # not ages: sums, durations, counts, days
        ("交三百八", None),
        ("七十多块钱", None),
        ("孩子满3个月了", None),
        ("二十多天", None),
        ("家里五口人", None),
        ("10月8号交的", None),
    ],
)
def test_age(text: str, age: int | None) -> None:
    assert parse(text).slots.age == age


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("俺是58年的 交多少", 1958),
        ("俺娘是45年的", 1945),
        ("53年生人", 1953),
        ("1958年出生的", 1958),
        ("五八年的老人交多少", 1958),
        ("一九五八年出生", 1958),
        ("我是五三年生的", 1953),
        ("孩子是21年的", 2021),  # a child: 20xx
        ("他是05年的", 2005),  # 1905 would be 118: not a plausible age
        ("俺爹是25年的", 1925),  # 98 is plausible
        ("孩子是2023年10月5日出生的", 2023),  # the year of a full birth date
        # not birth years: coverage years, payment dates, durations
        ("23年的医保交了吗", None),
        ("2024年3月15号交的", None),
        ("断保两年", None),
        ("我是五河的", None),
    ],
)
def test_birth_year(text: str, year: int | None) -> None:
    assert parse(text).slots.birth_year == year


def test_birth_year_is_not_turned_into_an_age() -> None:
    slots = parse("俺是58年的 交多少").slots
    assert slots.birth_year == 1958 and slots.age is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("今年交三百八对不对", Decimal(380)),
        ("380块", Decimal(380)),
        ("交380对不对", Decimal(380)),
        ("是不是三百五", Decimal(350)),
        ("三百八十块钱一个人", Decimal(380)),
        ("低保的交六十块对吗", Decimal(60)),
        ("一年三百八吧", Decimal(380)),
        ("两百块", Decimal(200)),
        # not money
        ("123", None),
        ("我七十岁了", None),
        ("2024年还能交吗", None),
        ("俺是58年的", None),
    ],
)
def test_amount(text: str, amount: Decimal | None) -> None:
    assert parse(text).slots.amount == amount
