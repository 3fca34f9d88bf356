"""ID numbers: normalising, every failure reason, legacy numbers, derived facts, masking, logs."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from bot import clock
from bot.logs import IdMaskingFilter, mask_ids_in_text
from bot.registry import ids

# Generated numbers for tests, not real people. 110105 is a Beijing district; GB 11643's example.
GB_EXAMPLE = "11010519491231002X"


def make(region: str, born: dt.date, seq: int) -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(autouse=True)
def _today():
    clock.set_today(dt.date(2024, 1, 15))
    yield
    clock.set_today(None)


def test_gb_example_is_valid_and_female():
    check = ids.validate(GB_EXAMPLE)
    assert check.ok and check.number == GB_EXAMPLE and check.reason_zh == ""
    assert ids.birth_date(GB_EXAMPLE) == dt.date(1949, 12, 31)
    assert ids.sex(GB_EXAMPLE) == "female"


def test_normalize_full_width_spaces_and_lower_x():
    raw = "１１０１０５ １９４９１２３１　００２ｘ"
    assert ids.normalize(raw) == GB_EXAMPLE
    assert ids.validate(raw).number == GB_EXAMPLE
    assert ids.validate("110105-19491231-002x").ok


@pytest.mark.parametrize(
    ("raw", "reason_start"),
    [
        ("", "请输入"),
        ("   ", "请输入"),
        ("3403221980010112", "位数不对"),
        ("3403221980010112345", "位数不对"),
        ("34032219800101123A", "身份证号只能由数字组成"),
        ("身份证340322198001011234", "身份证号只能由数字组成"),
        ("3403221980X101123X", "身份证号只能由数字组成"),
    ],
)
def test_reasons_for_malformed_input(raw, reason_start):
    check = ids.validate(raw)
    assert not check.ok and check.number == ""
    assert check.reason_zh.startswith(reason_start), check.reason_zh


def test_length_reason_says_how_many_digits():
    assert "16 位" in ids.validate("3403221980010112").reason_zh


def test_wrong_check_digit():
    good = make("340322", dt.date(1980, 1, 1), 123)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    check = ids.validate(wrong)
    assert not check.ok and check.reason_zh.startswith("校验码不正确")


@pytest.mark.parametrize("date_part", ["19800230", "19801301", "18991231", "20250101"])
def test_invalid_birth_date(date_part):
    body = "340322" + date_part + "123"
    number = body + ric.calc_check_digit(body + "0")  # correct check digit, bad date
    check = ids.validate(number)
    assert not check.ok and check.reason_zh.startswith("出生日期无效")


def test_leap_day_birth_is_valid():
    number = make("340322", dt.date(2000, 2, 29), 11)
    assert ids.validate(number).ok
    assert ids.age_on(number, dt.date(2001, 2, 28)) == 0
    assert ids.age_on(number, dt.date(2001, 3, 1)) == 1


def test_region_code_newer_than_birth_year_is_accepted():
    # 341302 (埇桥区) was created in 1999; real residents born earlier carry it on their cards.
    number = make("341302", dt.date(1950, 6, 1), 21)
    assert not ric.is_valid(number), "stdnum itself refuses it (the behaviour we work around)"
    assert ids.validate(number).ok


def test_legacy_15_digit_is_converted_and_said_so():
    eighteen = make("340322", dt.date(1965, 7, 9), 357)
    fifteen = eighteen[:6] + eighteen[8:17]
    check = ids.validate(fifteen)
    assert check.ok and check.converted and check.number == eighteen
    assert "15 位" in check.note_zh
    assert ids.birth_date(fifteen) == dt.date(1965, 7, 9)
    assert ids.sex(fifteen) == "male"


def test_legacy_15_digit_with_bad_date():
    check = ids.validate("340322650230357")
    assert not check.ok and check.reason_zh.startswith("出生日期无效")


def test_age_on_birthday_boundaries():
    number = make("370481", dt.date(1963, 11, 20), 12)
    assert ids.age_on(number, dt.date(2023, 11, 19)) == 59
    assert ids.age_on(number, dt.date(2023, 11, 20)) == 60
    assert ids.age_on(number) == 60  # today pinned to 2024-01-15


def test_sex_from_order_code():
    assert ids.sex(make("411328", dt.date(1990, 1, 1), 111)) == "male"
    assert ids.sex(make("411328", dt.date(1990, 1, 1), 112)) == "female"


def test_derived_facts_refuse_invalid_without_leaking():
    wrong = GB_EXAMPLE[:-1] + "1"
    with pytest.raises(ValueError) as err:
        ids.birth_date(wrong)
    assert wrong not in str(err.value) and "校验码" in str(err.value)


def test_mask():
    assert ids.mask(GB_EXAMPLE) == "1101**********002X"
    assert ids.mask("１１０１０５１９４９１２３１００２ｘ") == "1101**********002X"
    assert ids.mask("340322650230357") == "3403*******0357"
    assert ids.mask("1234") == "****"
    assert ids.mask(None) == "" and ids.mask("") == ""


def test_find_ids_in_text():
    other = make("340322", dt.date(1980, 5, 6), 7)
    text = f"我的身份证是 {other[:6]} {other[6:14]} {other[14:]}，妈妈的是１１０１０５１９４９１２３１００２ｘ，电话13800001234"
    assert ids.find_ids(text) == [other, GB_EXAMPLE]
    assert ids.find_ids("订单号 1234567890123456789012") == []
    assert ids.find_ids("") == []


def test_mask_in_text_and_log_filter():
    other = make("340322", dt.date(1980, 5, 6), 7)
    text = f"a={GB_EXAMPLE} b=１１０１０５１９４９１２３１００２Ｘ c={other}."
    masked = mask_ids_in_text(text)
    assert GB_EXAMPLE not in masked and other not in masked
    assert "1101**********002X" in masked and masked.startswith("a=") and masked.endswith(".")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "lookup %s", (other,), None)
    IdMaskingFilter().filter(record)
    assert other not in record.getMessage() and ids.mask(other) in record.getMessage()


@st.composite
def id_numbers(draw):
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 1, 15)))
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    seq = draw(st.integers(0, 999))
    return make(region, born, seq), born, seq


@given(id_numbers(), st.sampled_from(["plain", "fullwidth", "spaced", "lower"]))
def test_round_trip(sample, style):
    number, born, seq = sample
    clock.set_today(dt.date(2024, 1, 15))
    typed = {
        "plain": number,
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in number),
        "spaced": f" {number[:6]} {number[6:14]} {number[14:]} ",
        "lower": number.lower(),
    }[style]
    check = ids.validate(typed)
    assert check.ok and check.number == number
    assert ids.birth_date(typed) == born
    assert ids.sex(typed) == ("male" if seq % 2 else "female")
    assert ids.find_ids(f"号码{typed}谢谢") == [number]
    masked = ids.mask(typed)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:] and masked.count("*") == 10
    # Any single-digit typo in the first 17 digits is caught by the check digit.
    pos = seq % 17
    typo = number[:pos] + str((int(number[pos]) + 1) % 10) + number[pos + 1 :]
    assert not ids.validate(typo).ok
