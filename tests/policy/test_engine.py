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


# --------------------------------------------------------------------------- issue 10 answers


@settings(max_examples=120, deadline=None)
@given(
    loc=st.sampled_from(["wuhe", "taoyuan"]),
    reason=st.sampled_from(["death", "duplicate", "employee_insurance", "other_city"]),
    event_offset=st.integers(-200, 200),
    asked_after=st.integers(0, 300),
)
def test_refund_turns_on_the_event_date_only(loc: str, reason: str, event_offset: int, asked_after: int) -> None:
    # Benefit years start 2024-01-01 (五河 四（二）) and 2023-01-01 (桃园 八): an event before that day refunds,
    # whenever the question is asked.
    start = {"wuhe": D(2024, 1, 1), "taoyuan": D(2023, 1, 1)}[loc]
    event = start + dt.timedelta(days=event_offset)
    asked = min(event + dt.timedelta(days=asked_after), D(start.year, 12, 31))
    a = engine.refund(loc, Person(), asked, reason, event_on=event)
    assert a.ok and a.refund_allowed is (event < start) and a.cutoff == start


def test_refund_without_event_date_asks_for_it_only_after_the_cut_off() -> None:
    before = engine.refund("taoyuan", Person(), D(2022, 12, 20), "death")
    after = engine.refund("taoyuan", Person(), D(2023, 11, 20), "death")
    assert before.ok and before.refund_allowed and before.event_on is None
    assert not after.ok and after.needs == ("event_on",) and after.to_json()["needs"] == ["event_on"]


@pytest.mark.parametrize("loc", sorted(ASK))
@pytest.mark.parametrize(
    "person",
    [
        Person(hukou_local=False),
        Person(hukou_local=False, residence_permit=False),
        Person(hukou_local=False, residence_permit=True),
        Person(hukou_local=False, long_term_resident=False),
        Person(hukou_local=False, insured_elsewhere=True),
    ],
)
def test_non_local_never_answered_with_the_local_clause(loc: str, person: Person) -> None:
    pack = get_pack(loc)
    local_quotes = {g.quote for g in pack.eligibility.groups if g.hukou_local is True}
    a = engine.eligibility(loc, person, ASK[loc])
    assert a.ok and a.citations
    assert not local_quotes & {c.quote for c in a.citations}, a.citations
    assert len(a.explanation_zh.splitlines()) <= 4


@pytest.mark.parametrize("loc", sorted(ASK))
def test_amount_table_rows_agree_with_amount(loc: str) -> None:
    """Each row's figure is what engine.amount says for one person of that category (or age)."""
    table = engine.amount_table(loc, ASK[loc])
    assert table.ok and table.rows[0]["code"] == "ordinary"
    assert table.rows[0]["personal"] == STANDARD[loc]
    for row in table.rows:
        assert row["citations"], f"{loc} {row['code']}: a row without a citation"
        if row["code"] == "ordinary":
            continue
        who = Person(age=row["min_age"]) if "min_age" in row else Person(categories=(row["code"],))
        a = engine.amount(loc, who, ASK[loc])
        if not row["stated"]:
            assert not a.ok and row["personal"] is None
            continue
        assert (a.personal, a.subsidy, a.pay_first) == (row["personal"], row["subsidy"], row["pay_first"])
        shown = str(int(row["personal"])) if row["personal"] else "不用缴"
        assert shown in row["line"], row["line"]
    assert len(table.explanation_zh.splitlines()) <= 4


@pytest.mark.parametrize("loc", sorted(ASK))
@pytest.mark.parametrize("topic", ["reimbursement", "inpatient", "outpatient", "critical_illness", "remote_care"])
def test_not_in_document_never_gives_a_contribution_figure(loc: str, topic: str) -> None:
    a = engine.not_in_document(loc, topic)
    data = a.to_json()
    assert a.ok and a.topic == topic
    assert not {"personal", "total", "subsidy", "government"} & data.keys()
    for figure in (str(STANDARD[loc]), "610", "640", "960", "1020"):
        assert figure not in a.explanation_zh, a.explanation_zh
    assert "可以" in a.explanation_zh and len(a.explanation_zh.splitlines()) <= 4


def test_not_in_document_refuses_unknown_topics_and_points_to_a_stated_newborn_clause() -> None:
    assert not engine.not_in_document("wuhe", "lottery").ok
    a = engine.not_in_document("wuhe", "newborn")
    assert not a.ok and a.needs == ("birth_date",) and "三（一）1" in a.refusal


@pytest.mark.parametrize(
    ("place", "area"),
    [("湖阳镇中学", "town"), ("桐河乡小学", "town"), ("城区实验小学", "urban"), ("文峰街道小学", None), ("", None)],
)
def test_tanghe_school_area(place: str, area: str | None) -> None:
    assert engine.school_area("tanghe", place) == area


def test_person_school_area_is_checked() -> None:
    with pytest.raises(ValueError):
        Person(school_area="village")


@pytest.mark.parametrize("loc", ["tengzhou", "tanghe"])
def test_no_newborn_clause_is_said_with_the_contact(loc: str) -> None:
    for a in (
        engine.benefit_start(loc, Person(newborn=True, birth_date=D(2022, 11, 5)), D(2022, 11, 20)),
        engine.deadline(loc, Person(newborn=True, birth_date=D(2022, 11, 5)), D(2022, 11, 20)),
        engine.not_in_document(loc, "newborn"),
    ):
        text = a.refusal or a.explanation_zh
        assert "没有新生儿参保的专门条款" in text and "350元" in text
        assert any(word in text for word in ("医保办", "社保协办员"))
