"""Denied categories, status facts (employee insurance, 居住证, newly recognised), the insurance
history, and places no pack covers."""

from __future__ import annotations

import pytest

from bot.nlu import parse


@pytest.mark.parametrize(
    ("text", "said", "denied"),
    [
        ("我不是低保 交多少", (), ("dibao",)),
        ("没有残疾证 交多少", (), ("disabled",)),
        ("不是低保也不是五保户", (), ("dibao", "tekun")),
        ("既不是低保户也不是五保户", (), ("dibao", "tekun")),
        ("非低保户", (), ("dibao",)),
        ("没评上低保", (), ("dibao",)),
        ("低保被取消了", (), ("dibao",)),
        ("不是低保户是五保户", ("tekun",), ("dibao",)),
        ("我不是低保 我妈是低保", ("dibao",), ()),  # said plainly once: not denied
        # questions that merely contain a denial
        ("是不是低保户才免费", ("dibao",), ()),
        ("有没有残疾人的优惠", ("disabled",), ()),
        ("低保户交多少", ("dibao",), ()),
    ],
)
def test_denied_categories(text: str, said: tuple[str, ...], denied: tuple[str, ...]) -> None:
    slots = parse(text).slots
    assert slots.categories == said
    assert slots.not_categories == denied


@pytest.mark.parametrize(
    ("text", "flag", "value"),
    [
        ("我在单位交职工医保 还用交这个吗", "employee_insured", True),
        ("有职工医保还能交居民医保吗", "employee_insured", True),
        ("单位给交的 还要交吗", "employee_insured", True),
        ("没有职工医保", "employee_insured", False),
        ("职工医保和居民医保有啥区别", "employee_insured", False),
        ("有居住证能在这交吗", "residence_permit", True),
        ("办了居住证", "residence_permit", True),
        ("没有居住证能交吗", "residence_permit", False),
        ("居住证怎么办", "residence_permit", False),
        ("刚评上低保 年后交行吗", "newly_recognised", True),
        ("新认定的低保户", "newly_recognised", True),
        ("年后才认定的", "newly_recognised", True),
        ("低保刚批下来 交多少", "newly_recognised", True),
        ("低保户交多少", "newly_recognised", False),
        ("小孩出生证刚办下来医保咋弄", "newly_recognised", False),  # a birth certificate, not a recognition
        ("去年没报销 今年有优惠吗", "no_claims", True),
        ("一年没看病", "no_claims", True),
        ("从来没报销过", "no_claims", True),
        ("住院了还没报销", "no_claims", False),  # a claim still waiting
        ("为什么没有报销", "no_claims", False),
    ],
)
def test_flags(text: str, flag: str, value: bool) -> None:
    assert getattr(parse(text).slots, flag) is value


@pytest.mark.parametrize(
    ("text", "uninsured", "paid_back", "continuous"),
    [
        ("断保两年了 现在交要等多久", 2, None, None),
        ("两年没交了", 2, None, None),
        ("断了3年", 3, None, None),
        ("去年没交 今年交能报吗", 1, None, None),
        ("补交了一年", None, 1, None),
        ("补了两年的钱", None, 2, None),
        ("连续交了五年", None, None, 5),
        ("一直交了10年了", None, None, 10),
        ("断保两年 补交了一年", 2, 1, None),
        ("一年到头都在外面", None, None, None),
        ("2023年交的", None, None, None),
    ],
)
def test_history(text: str, uninsured: int | None, paid_back: int | None, continuous: int | None) -> None:
    slots = parse(text).slots
    assert (slots.uninsured_years, slots.paid_back_years, slots.continuous_years) == (uninsured, paid_back, continuous)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("我是北京的 能在这交吗", "北京"),
        ("我是合肥的 交多少", "合肥"),
        ("郑州市的能交吗", "郑州市"),  # not a typo for 滕州市
        ("我是固镇的", "固镇"),  # 五河's neighbour
        ("泗县的低保户交多少", "泗县"),
        # a district named since a renaming (stdnum lists "[1983-2003]东市区,[2004-]龙子湖区"), in the
        # city of a covered county
        ("蚌埠市龙子湖区的 居民医保交多少", "龙子湖区"),
        ("南阳市宛城区 交多少", "宛城区"),
        # not unknown places
        ("在上海打工 过年回来交", None),  # works there
        ("我在合肥上学", None),
        ("我是安徽的", None),  # contains covered places
        ("南阳的", None),
        ("我是五河的", None),
        ("合作医疗多少钱", None),  # 合作市 without its suffix is a word
        ("光明的未来", None),
        ("上礼拜交的", None),
        ("我老家是郑州的", None),  # 老家: the resident's own place is not in question here
    ],
)
def test_unknown_place(text: str, place: str | None) -> None:
    slots = parse(text).slots
    assert slots.unknown_place == place
    if place:
        assert slots.locality is None


def test_unknown_place_is_not_read_when_a_known_place_is_named() -> None:
    slots = parse("我是五河县的 在北京").slots
    assert slots.locality == "wuhe" and slots.unknown_place is None


def test_id_followed_by_four_characters_does_not_crash() -> None:
    # Found by fuzzing: a four-character run after an ID number indexed past its end.
    number = "34032219550312214X"
    assert parse(f"{number}王建国强").slots.id_number == number


def test_hukou_in_a_covered_place_is_not_elsewhere() -> None:
    # A 五河 resident working away (issue 10: the migrant extended deadline), not an outsider.
    slots = parse("户口在五河县朱顶镇 过年才回去还能交吗").slots
    assert slots.hukou_elsewhere is False and slots.migrant is True
    assert slots.locality == "wuhe" and slots.town == "朱顶镇"
    assert parse("户口在河南 在这能交吗").slots.hukou_elsewhere is True


@pytest.mark.parametrize("text", ["出生90多天了还没交", "三个月大的孩子", "孩子刚出生"])
def test_babies_by_age_in_days_or_months(text: str) -> None:
    assert parse(text).slots.newborn is True


@pytest.mark.parametrize(
    ("text", "others"),
    [
        ("桃园镇和唐河县的低保户 谁交得少", ("tanghe",)),
        ("五河、滕州、唐河分别交多少", ("tengzhou", "tanghe")),
        ("五河县跟唐河县啥时候截止", ("tanghe",)),
        ("滕州跟唐河 谁贵", ("tanghe",)),
        # a second place with another part: where the resident works, or the same county again
        ("俺户口在五河 在滕州打工 交多少", ()),
        ("五河县城关镇 五河的低保交多少", ()),
        ("五河县低保交多少", ()),
    ],
)
def test_places_asked_together(text: str, others: tuple[str, ...]) -> None:
    assert parse(text).slots.other_localities == others


@pytest.mark.parametrize(
    ("text", "said", "unsure"),
    [
        ("俺是三级残疾 交多少", (), ("disabled",)),
        ("残疾证四级的 交钱不", (), ("disabled",)),
        ("肢体残疾3级", (), ("disabled",)),
        ("俺是二级残疾 交多少", ("disabled",), ()),
        ("重度残疾人交多少", ("disabled",), ()),
        ("残疾人交多少", ("disabled",), ()),
    ],
)
def test_disability_grade_the_documents_do_not_settle(text: str, said: tuple[str, ...], unsure: tuple[str, ...]) -> None:
    slots = parse(text).slots
    assert slots.categories == said
    assert slots.unsure_categories == unsure
