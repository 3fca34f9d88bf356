"""Engine invariants and date edges. Figures are typed in from the seeds, never read from the packs.

The clause-by-clause cases live in cases/*.yaml (test_cases.py); these tests cover properties and edges.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy import engine, get_pack, vocabulary
from bot.policy.engine import Person

D = dt.date
CODES = sorted(vocabulary())
# A date inside each pack's collection period (seed text).
ASK = {
    "wuhe": D(2023, 11, 20),
    "taoyuan": D(2022, 12, 10),
    "tengzhou": D(2022, 11, 1),
    "tanghe": D(2022, 11, 1),
}
STANDARD = {"wuhe": 380, "taoyuan": 350, "tengzhou": 350, "tanghe": 350}

people = st.builds(
    Person,
    categories=st.lists(st.sampled_from(CODES), max_size=4).map(tuple),
    age=st.one_of(st.none(), st.integers(0, 110)),
)


@settings(max_examples=150, deadline=None)
@given(loc=st.sampled_from(sorted(ASK)), person=people)
def test_subsidy_within_contribution(loc: str, person: Person) -> None:
    a = engine.amount(loc, person, ASK[loc])
    if not a.ok:
        assert a.personal is None and a.subsidy is None and a.refusal
        return
    standard = Decimal(STANDARD[loc])
    assert Decimal(0) <= a.subsidy <= standard
    assert Decimal(0) <= a.personal <= standard
    assert a.net == standard - a.subsidy
    aid = sum(s.amount for s in a.subsidy_by if s.part == "personal_aid")
    assert aid == a.subsidy


@settings(max_examples=150, deadline=None)
@given(loc=st.sampled_from(sorted(ASK)), person=people, extra=st.sampled_from(CODES))
def test_more_categories_never_raise_the_amount(loc: str, person: Person, extra: str) -> None:
    before = engine.amount(loc, person, ASK[loc])
    after = engine.amount(loc, Person(categories=(*person.categories, extra), age=person.age), ASK[loc])
    if before.ok and after.ok:
        assert after.net <= before.net
        assert after.personal <= before.personal or after.pay_first


@pytest.mark.parametrize(
    ("birth", "on", "personal"),
    [
        (D(1962, 11, 20), D(2022, 11, 19), 350),  # 59 the day before turning 60
        (D(1962, 11, 20), D(2022, 11, 20), 175),  # 60 on the birthday: 50 % by 市财政
        (D(1952, 11, 20), D(2022, 11, 19), 175),  # 69
        (D(1952, 11, 20), D(2022, 11, 20), 0),  # 70 on the birthday: in full
        (D(1952, 2, 29), D(2022, 2, 28), 175),  # leap-day birth: not yet 70 on 28 Feb of a common year
        (D(1952, 2, 29), D(2022, 3, 1), 0),
    ],
)
def test_tengzhou_birthdays(birth: dt.date, on: dt.date, personal: int) -> None:
    a = engine.amount("tengzhou", Person(birth_date=birth), on)
    assert a.ok and a.personal == personal
    assert any(c.locator == "二（三）2" for c in a.citations)


def test_tengzhou_age_and_category_most_generous_wins() -> None:
    a = engine.amount("tengzhou", Person(categories=("dibao",), age=65), D(2022, 11, 1))
    assert a.personal == 0 and a.winner == "dibao" and a.set_aside == ("age_60_69",)


# (locality, person, deadline from the seed)
DEADLINES = [
    ("wuhe", Person(), D(2023, 12, 31)),
    ("wuhe", Person(migrant=True), D(2024, 2, 29)),
    ("taoyuan", Person(), D(2022, 12, 31)),
    ("taoyuan", Person(migrant=True), D(2023, 2, 28)),
    ("tengzhou", Person(), D(2022, 12, 31)),
    ("tanghe", Person(), D(2022, 12, 31)),
    ("wuhe", Person(newborn=True, birth_date=D(2024, 2, 29)), D(2024, 5, 28)),  # day 90, birth day = day 1
    ("taoyuan", Person(newborn=True, birth_date=D(2023, 3, 1)), D(2023, 5, 29)),
]


@pytest.mark.parametrize(("loc", "person", "due"), DEADLINES)
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_day_before_of_after_each_deadline(loc: str, person: Person, due: dt.date, offset: int) -> None:
    on = due + dt.timedelta(days=offset)
    a = engine.deadline(loc, person, on)
    assert a.ok and a.deadline == due
    assert a.missed is (offset == 1)
    assert a.days_left == (None if offset == 1 else -offset)
    assert a.citations and a.explanation_zh.count("\n") <= 3


@pytest.mark.parametrize(
    ("loc", "person", "paid_on", "start", "rule"),
    [
        ("wuhe", Person(), D(2023, 12, 31), D(2024, 1, 1), "on_time"),
        ("wuhe", Person(), D(2024, 1, 1), D(2024, 7, 1), "late_waiting_7th_month"),
        ("wuhe", Person(migrant=True), D(2024, 2, 29), D(2024, 1, 1), "migrant_extension"),
        ("wuhe", Person(migrant=True), D(2024, 3, 1), D(2024, 9, 1), "late_waiting_7th_month"),
        ("wuhe", Person(special_late_reason="new_aid"), D(2024, 2, 29), D(2024, 3, 1), "special_next_day"),
        ("wuhe", Person(special_late_reason="aid_break"), D(2024, 5, 1), D(2024, 5, 2), "special_next_day"),
        ("tengzhou", Person(), D(2023, 1, 1), D(2023, 5, 1), "late_waiting_3_months"),
        ("taoyuan", Person(migrant=True), D(2023, 2, 28), D(2023, 1, 1), "migrant_extension"),
        (
            "taoyuan",
            Person(special_late_reason="cross_system", coverage_break_months=4),
            D(2023, 3, 15),
            D(2023, 9, 16),
            "break_waiting_6_months",
        ),
    ],
)
def test_benefit_start(loc: str, person: Person, paid_on: dt.date, start: dt.date, rule: str) -> None:
    a = engine.benefit_start(loc, person, paid_on)
    assert a.ok and a.benefit_start == start and a.rule == rule


def test_late_payment_past_the_benefit_year_is_refused() -> None:
    # 五河: paid 2024-07-01 -> the 7th month is January 2025, outside the 2024 benefit period.
    a = engine.benefit_start("wuhe", Person(), D(2024, 7, 1))
    assert not a.ok and "2025年1月1日" in a.refusal


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda: engine.amount("nowhere", Person(), D(2023, 11, 1)), "还没有收录"),
        (lambda: engine.amount("wuhe", Person(), D(2025, 11, 1)), "只收录了2024年度"),
        (lambda: engine.amount("taoyuan", Person(categories=("youfu",)), D(2022, 12, 1)), "四（二）4"),
        (lambda: engine.refund("tengzhou", Person(), D(2022, 12, 1), "death"), "没有写退费"),
        (lambda: engine.deadline("tanghe", Person(migrant=True), D(2022, 12, 1)), "务工"),
        (lambda: engine.benefit_start("tanghe", Person(), D(2023, 1, 10)), "补缴"),
        (lambda: engine.refund("wuhe", Person(), D(2023, 12, 1), "lottery"), "不认识的退费原因"),
    ],
)
def test_refusals_are_explicit(call, why: str) -> None:
    a = call()
    data = a.to_json()
    assert not a.ok and why in a.refusal
    assert not {"personal", "total", "subsidy", "deadline", "benefit_start"} & data.keys()


def test_taoyuan_unstated_category_does_not_block_a_full_one() -> None:
    # 特困 is paid in full, so the unstated 优抚 help cannot be more generous: answer, do not refuse.
    a = engine.amount("taoyuan", Person(categories=("youfu", "tekun")), D(2022, 12, 1))
    assert a.ok and a.personal == 0 and a.winner == "tekun" and "youfu" in a.set_aside


def test_tanghe_pay_first() -> None:
    a = engine.amount("tanghe", Person(categories=("jiance",)), D(2022, 11, 1))
    assert (a.personal, a.reimbursed_later, a.net, a.pay_first) == (350, 250, 100, True)
    assert engine.explain_pay_first("tanghe").ok
    assert not engine.explain_pay_first("wuhe").ok


def test_pack_passed_directly() -> None:
    pack = get_pack("wuhe", 2024)
    assert engine.amount(pack, Person(categories=("dibao",)), D(2023, 11, 20)).personal == 60
    assert not engine.amount(pack, Person(), D(2026, 1, 1)).ok


def test_info_answers() -> None:
    assert "0552-5056951" in {i["phone"] for i in engine.contacts("wuhe").items}
    town = engine.contacts("tengzhou", town="柴胡店")  # 附件1 spelling; 附件2 writes 柴胡店镇
    assert town.ok and {i["phone"] for i in town.items} == {"2522118", "2282003"}
    assert not engine.contacts("tengzhou", town="不存在镇").ok
    assert not engine.contacts("tanghe").ok  # no phone numbers in the document
    assert "皖事通" in engine.payment_info("wuhe").explanation_zh
    s = engine.summary("tengzhou", D(2022, 11, 1))
    assert s.ok and s.personal == 350 and s.deadline == D(2022, 12, 31) and s.benefit_start == D(2023, 1, 1)


@pytest.mark.parametrize("loc", sorted(ASK))
def test_explanations_are_short(loc: str) -> None:
    p = Person(categories=("dibao", "jiance", "tekun", "fanpin"), age=65)
    for a in (
        engine.amount(loc, p, ASK[loc]),
        engine.deadline(loc, Person(), ASK[loc]),
        engine.summary(loc, ASK[loc]),
        engine.payment_info(loc),
        engine.contacts(loc),
    ):
        assert a.explanation_zh and len(a.explanation_zh.splitlines()) <= 4, a.explanation_zh


def test_person_accepts_lists_and_iso_strings() -> None:
    p = Person(categories=["dibao", "dibao"], birth_date="1950-03-01")
    assert p.categories == ("dibao",) and p.birth_date == D(1950, 3, 1)
    with pytest.raises(ValueError):
        Person(student="college")
