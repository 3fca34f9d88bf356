"""Focused tests: normalisation, numbers, places (typos, ambiguity refused), ID numbers and names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.nlu import INTENTS, normalize, parse, parse_place
from bot.nlu import places as places_module
from bot.nlu.normalize import chinese_number
from bot.policy.loader import Place
from bot.registry import ids


# ---- normalisation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("五河縣低保戶交多少錢", "五河县低保户交多少钱"),  # traditional → simplified
        ("我今年６５岁", "我今年65岁"),  # full-width digits
        ("ＡＢＣ　医保", "abc 医保"),  # full-width letters and ideographic space
        ("那个我想问一下就是医保多少钱", "我想问一下医保多少钱"),  # dictation filler
        ("呃呃 嗯 医保", "医保"),
        ("金额多少", "金额多少"),  # 额 inside a word is kept
        ("医保，多少钱？！", "医保 多少钱"),
        ("七十岁老人", "70岁老人"),
        ("六十五岁", "65岁"),
        ("快六十了", "快60了"),
        ("三月份补交", "3月份补交"),
        ("十二月三十一号", "12月31号"),
        ("二〇二三年十月五日", "2023年10月5日"),
        ("三百八一年", "380一年"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "word", ["两女户", "一女户", "二胎", "老百姓", "十分感谢", "一年到头", "十几年", "最后一天", "第一次"]
)
def test_numerals_inside_words_are_left_alone(word: str) -> None:
    assert normalize(word) == word


@pytest.mark.parametrize(
    ("run", "value"),
    [("七", 7), ("十", 10), ("十二", 12), ("二十", 20), ("六十五", 65), ("一百", 100), ("三百八", 380),
     ("三百八十", 380), ("三百零八", 308), ("一千零二十", 1020), ("一千二", 1200), ("二〇二三", 2023), ("两", 2)],
)  # fmt: skip
def test_chinese_number(run: str, value: int) -> None:
    assert chinese_number(run) == value


def test_normalize_empty_and_odd_input() -> None:
    assert normalize("") == ""
    assert normalize(None) == ""
    assert normalize("   ") == ""


# ---- numbers in slots ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "age"),
    [("七十岁老人还用交吗", 70), ("我爸今年69岁", 69), ("我快六十了", 59), ("六十多岁的人", 60), ("七十来岁", 70),
     ("俺娘八十了", 80), ("老汉今年八十一 交医保不", 81), ("６５周岁", 65), ("我们家五口人", None), ("90天内", None)],
)  # fmt: skip
def test_age(text: str, age: int | None) -> None:
    assert parse(text).slots.age == age


def test_amount_month_and_dates() -> None:
    assert parse("低保的交六十块对吗").slots.amount == Decimal(60)
    assert parse("今年是三百八吗").slots.amount == Decimal(380)
    assert parse("123").slots.amount is None  # a bare number with no talk of money is not money
    assert parse("3月份补交什么时候能报销").slots.month == 3
    assert parse("交了3个月了").slots.month is None  # a duration, not a month
    slots = parse("我是2024年3月15号交的").slots
    assert slots.dates == (dt.date(2024, 3, 15),) and slots.month is None


def test_date_without_year_is_the_nearest_to_today() -> None:
    # today is pinned to 2023-11-20 (conftest)
    assert parse("2月28号之前还能交吗").slots.dates == (dt.date(2024, 2, 28),)
    assert parse("我12月30号交的").slots.dates == (dt.date(2023, 12, 30),)
    assert parse("我10月8号交的").slots.dates == (dt.date(2023, 10, 8),)


def test_birth_date_is_not_a_payment_date() -> None:
    slots = parse("孩子是2023年10月5日出生的 怎么参保").slots
    assert slots.birth_date == dt.date(2023, 10, 5)
    assert slots.dates == ()
    assert slots.newborn is True  # born within the last year


# ---- categories -----------------------------------------------------------------------------
def test_categories_longest_word_wins_and_negation() -> None:
    assert parse("低保边缘户交多少").slots.categories == ("dibao_edge",)
    assert parse("我是低保户又是残疾人").slots.categories == ("dibao", "disabled")
    assert parse("我不是低保户交多少").slots.categories == ()


def test_local_category_names_from_packs() -> None:
    # 滕州's own name for jiance (from its pack, not from the NLU)
    assert parse("防止返贫监测帮扶对象交多少").slots.categories == ("jiance",)


# ---- places ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "locality", "town", "village", "exact"),
    [
        ("五河县", "wuhe", None, None, True),
        ("五河", "wuhe", None, None, True),
        ("滕州", "tengzhou", None, None, True),
        ("滨湖镇", "tengzhou", "滨湖镇", None, True),
        ("桃东村", "taoyuan", None, "桃东村", True),
        ("濱湖鎮", "tengzhou", "滨湖镇", None, True),  # traditional
        ("五和县", "wuhe", None, None, False),  # one-character typo
        ("滕洲市", "tengzhou", None, None, False),
        ("滨胡镇低保交多少", "tengzhou", "滨湖镇", None, False),
        ("鲍沟的", "tengzhou", "鲍沟镇", None, True),  # without its suffix
        ("我是柴胡店镇的", "tengzhou", "柴胡店", None, True),  # task-table spelling
        ("五河县小溪镇", "wuhe", "小溪镇", None, True),
        ("宿州市埇桥区桃园镇光明村", "taoyuan", None, "光明村", True),
    ],
)
def test_parse_place(text: str, locality: str, town: str | None, village: str | None, exact: bool) -> None:
    match = parse_place(text)
    assert match is not None
    assert (match.locality, match.town, match.village, match.exact) == (locality, town, village, exact)


def test_typo_fitting_two_places_is_refused() -> None:
    # 桃南村 is one character from both 桃东村 and 桃西村
    assert parse_place("桃南村") is None
    assert parse("桃南村").slots.locality is None


@pytest.mark.parametrize("text", ["今天天气怎么样", "我想问医保的事", "光明的未来", "城郊的房子", ""])
def test_no_place_in_ordinary_text(text: str) -> None:
    assert parse_place(text) is None


def test_name_shared_by_two_localities_is_refused_unless_default(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = (
        Place("五河县", "wuhe", "locality", "五河县"),
        Place("新华镇", "wuhe", "town", "新华镇"),
        Place("唐河县", "tanghe", "locality", "唐河县"),
        Place("新华镇", "tanghe", "town", "新华镇"),
    )
    monkeypatch.setattr(places_module, "gazetteer", lambda: fake)
    places_module._index.cache_clear()
    try:
        assert parse_place("新华镇") is None
        assert parse_place("新華鎮", default_locality="tanghe").locality == "tanghe"
        assert parse_place("五河县新华镇").town is None  # the town alone is still ambiguous
    finally:
        places_module._index.cache_clear()


def test_default_locality_fills_in_when_none_named() -> None:
    assert parse("低保户交多少", default_locality="wuhe").slots.locality == "wuhe"
    slots = parse("滕州低保户交多少", default_locality="wuhe").slots
    assert slots.locality == "tengzhou" and slots.place_named


# ---- ID numbers and names --------------------------------------------------------------------
def _valid(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{id} 张三", "张三"),
        ("{id}王建国交了没有", "王建国"),
        ("身份证号{id}姓名李秀兰", "李秀兰"),
        ("帮我查一下{id}", None),
        ("{id}这个人参保了没", None),
        ("姓名：赵秀梅，身份证：{id}", "赵秀梅"),
    ],
)
def test_id_and_name(template: str, name: str | None) -> None:
    number = _valid("34032219550312214")
    parsed = parse(template.format(id=number))
    assert parsed.intent == "status"
    assert parsed.slots.id_number == number
    assert parsed.slots.name == name


def test_id_variants_are_normalised() -> None:
    number = _valid("37048119540101161")
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    for text in (spaced, full_width, number.lower()):
        assert parse(text).slots.id_number == ids.normalize(number)
    # a wrong check digit is still a candidate: the registry explains what is wrong
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert parse(wrong).slots.id_number == wrong and not ids.validate(wrong).ok


def test_id_digits_are_not_read_as_age_or_money() -> None:
    slots = parse(_valid("34032219550312214") + " 张三").slots
    assert slots.age is None and slots.amount is None and slots.dates == ()


def test_id_never_in_repr() -> None:
    number = _valid("34032219550312214")
    parsed = parse(f"{number} 张三")
    assert number not in repr(parsed)
    assert "张三" not in repr(parsed)


# ---- robustness -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", " ", "。。。", "🙂🙂", "a" * 2000, "退" * 300, "1" * 40, "\x00\n\t"])
def test_never_raises(text: str) -> None:
    parsed = parse(text)
    assert parsed.intent in INTENTS
    assert 0.0 <= parsed.confidence <= 1.0


def test_slots_are_frozen() -> None:
    parsed = parse("五河县低保户交多少钱")
    with pytest.raises(AttributeError):
        parsed.slots.locality = "tanghe"  # type: ignore[misc]
