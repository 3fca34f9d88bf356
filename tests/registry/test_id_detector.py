"""The one ID detector (`ids.find_ids`, `ids.mask_in_text`): every way a person can type or paste an
ID number is found and masked, and the masking helper hides whatever the lookup would read as an ID.

The leak check here is written independently of bot.registry.ids: it turns every character with a
decimal value into its digit, keeps digits, X and the mask's stars, drops everything else, and looks
for the full number in what is left (a masked number leaves stars between its visible ends).
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from bot import clock
from bot.logs import MaskingFormatter, mask_ids_in_text
from bot.registry import ids

# Generated numbers, never real people's.
NUMBER = "340321194912110013"
assert ric.calc_check_digit(NUMBER[:17] + "0") == NUMBER[-1]
WITH_X = "11010519491231002X"  # GB 11643's example
LEGACY = "340321491211001"  # 15 digits, born 1949-12-11


@pytest.fixture(autouse=True)
def _today():
    clock.set_today(dt.date(2023, 11, 20))
    yield
    clock.set_today(None)


def visible_digits(text: str) -> str:
    """Digits (any script), X and '*' of a text, nothing else: a full number left in it shows up
    as a substring; a masked one is broken by its stars."""
    out = []
    for ch in text:
        value = unicodedata.decimal(ch, None)
        if value is None:
            value = unicodedata.decimal(unicodedata.normalize("NFKC", ch)[:1] or " ", None)
        if value is not None:
            out.append(str(value))
        elif ch in "Xx*ｘＸ":
            out.append("X" if ch != "*" else "*")
    return "".join(out)


def leaked(number: str, text: str) -> bool:
    return number.upper() in visible_digits(text)


def in_script(number: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in number)


def spaced(number: str, sep: str) -> str:
    return f"{number[:6]}{sep}{number[6:14]}{sep}{number[14:]}"


# The list of forms that slipped past the detector, and the ones that always worked.
FORMS = {
    "plain": NUMBER,
    "two spaces": spaced(NUMBER, "  "),
    "dots": spaced(NUMBER, "."),
    "slashes": spaced(NUMBER, "/"),
    "underscores": spaced(NUMBER, "_"),
    "dashes": spaced(NUMBER, "-"),
    "dash with spaces": spaced(NUMBER, " - "),
    "em dash": spaced(NUMBER, "—"),
    "full-width slashes": spaced(NUMBER, "／"),
    "zero-width spaces": "\u200b".join(NUMBER),
    "zero-width joiner and BOM": NUMBER[:9] + "\u200d\ufeff" + NUMBER[9:],
    "soft hyphens": NUMBER[:6] + "\u00ad" + NUMBER[6:],
    "arabic-indic": in_script(NUMBER, "\u0660"),
    "extended arabic-indic": in_script(NUMBER, "\u06f0"),
    "devanagari": in_script(NUMBER, "\u0966"),
    "full-width": in_script(NUMBER, "\uff10"),
    "mathematical bold": in_script(NUMBER, "\U0001d7ce"),
    "mixed scripts": in_script(NUMBER[:9], "\u0660") + in_script(NUMBER[9:], "\uff10"),
    "after /bind": f"/bind {NUMBER}",
    "glued to /unpaid": f"/unpaid{NUMBER}",
    "after /start": f"/start {NUMBER}",
    "after /start_": f"/start_{NUMBER}",
    "after /bind with a mention": f"/bind@yibao_bot {spaced(NUMBER, '.')}",
    "in a sentence": f"帮我查一下{spaced(NUMBER, ' ')}张三交了没有",
    "after other digits": f"电话 1380 {spaced(NUMBER, ' ')}",
}


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_every_form_is_found_and_masked(form: str) -> None:
    text = FORMS[form]
    assert NUMBER in ids.find_ids(text), text
    masked = mask_ids_in_text(text)
    assert not leaked(NUMBER, masked), masked
    if form != "after other digits":  # there the whole digit run is masked as one
        assert ids.mask(NUMBER) in masked


@pytest.mark.parametrize("number", [WITH_X, WITH_X.lower(), LEGACY])
def test_x_and_legacy_numbers(number: str) -> None:
    for text in (number, spaced(number, "  "), f"号码:{spaced(number, '/')}。", in_script(number, "\u0660")):
        assert ids.find_ids(text) == [ids.normalize(number)], text
        assert not leaked(ids.normalize(number), ids.mask_in_text(text)), text


def test_spans_point_at_what_was_typed() -> None:
    text = f"我是{spaced(NUMBER, '.')}张三"
    (span,) = ids.find_id_spans(text)
    assert text[span.start : span.end] == spaced(NUMBER, ".") and span.number == NUMBER
    text = "号" + "\u200b".join(in_script(NUMBER, "\u0660")) + "谢谢"
    (span,) = ids.find_id_spans(text)
    assert text[: span.start] == "号" and text[span.end :] == "谢谢"


def test_masking_keeps_the_rest_of_the_text() -> None:
    text = f"甲{in_script(NUMBER, chr(0xFF10))}乙，电话13800001234，金额 380.00 元，2023-11-20 08:30"
    masked = ids.mask_in_text(text)
    assert masked == f"甲{ids.mask(NUMBER)}乙，电话13800001234，金额 380.00 元，2023-11-20 08:30"
    assert ids.mask_in_text("没有号码的句子") == "没有号码的句子"


def test_validate_reads_the_same_forms() -> None:
    for form in ("dots", "slashes", "zero-width spaces", "arabic-indic", "two spaces"):
        check = ids.validate(FORMS[form])
        assert check.ok and check.number == NUMBER, form


def test_not_an_id() -> None:
    assert ids.find_ids("订单号 1234567890123456789012") == []
    assert ids.find_ids("电话13800001234 和 2023-11-20") == []
    assert ids.find_ids(NUMBER + "5") == []  # 19 digits: not a number anybody can look up


def test_log_formatter_masks_the_traceback_too() -> None:
    """A handler's exception text (pydantic's input_value, SQL parameters) must not reach the log."""
    try:
        raise ValueError(f"input_value='{spaced(NUMBER, '.')}'")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed for %s", (NUMBER,), sys.exc_info())
    line = MaskingFormatter("%(message)s").format(record)
    assert "ValueError" in line and not leaked(NUMBER, line), line


# ------------------------------------------------------------------------------ property tests

DIGIT_ZEROS = ["0", "\uff10", "\u0660", "\u06f0", "\u0966", "\u09e6", "\u0e50", "\U0001d7ce", "\U0001d7d8"]
SEPARATORS = [" ", "  ", "   ", "\u3000", ".", "-", "_", "/", "\\", "·", "－", "／", "．", "—", " - ", "\t"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e"]
CONTEXT = st.text(alphabet=st.sampled_from(list("我的身份证号码是张三李四，。：；、请查一下谢谢") + [" ", "：", "\n"]),
                  max_size=12)


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2023, 11, 20)))
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    body = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    number = body + ric.calc_check_digit(body + "0")
    if draw(st.booleans()) and born.year < 2000 and born.year >= 1900 and not number.endswith("X"):
        return number[:6] + number[8:17]  # the legacy 15-digit form of the same person
    return number


@st.composite
def typed(draw: st.DrawFn, number: str) -> str:
    """The number as a person might type or paste it: any digit script per character, separators
    (up to three characters) between any characters, invisible characters anywhere, x or X."""
    out = []
    for i, ch in enumerate(number):
        if ch == "X":
            out.append(draw(st.sampled_from(["X", "x", "ｘ", "Ｘ"])))
        else:
            out.append(chr(ord(draw(st.sampled_from(DIGIT_ZEROS))) + int(ch)))
        if i < len(number) - 1:
            if draw(st.integers(0, 5)) == 0:
                out.append(draw(st.sampled_from(SEPARATORS)))
            if draw(st.integers(0, 8)) == 0:
                out.append(draw(st.sampled_from(INVISIBLE)))
    return "".join(out)


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(valid_numbers())
    return number, draw(CONTEXT) + draw(typed(number)) + draw(st.sampled_from(["", "。", "张三", " 谢谢"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_property_any_typed_number_is_found_and_masked(sample: tuple[str, str]) -> None:
    number, text = sample
    clock.set_today(dt.date(2023, 11, 20))
    assert ids.validate(number).ok
    assert ids.normalize(number) in ids.find_ids(text), repr(text)
    masked = ids.mask_in_text(text)
    assert not leaked(number, masked), repr(masked)


# Any text: digits of several scripts, separators, X, invisible characters and words.
NOISY = st.text(
    alphabet=st.sampled_from(
        list("0123456789") + ["\uff11", "\u0663", "\u0967", "X", "x"] + [s for s in SEPARATORS if len(s) == 1]
        + INVISIBLE + list("张三号a")
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOISY, valid_numbers(), NOISY)
def test_property_whatever_the_lookup_reads_is_masked(before: str, number: str, after: str) -> None:
    """Whatever part of a message `validate` (the lookup) accepts as an ID, and whatever `find_ids`
    hands to the lookup, does not survive `mask_in_text` -- whatever surrounds it."""
    clock.set_today(dt.date(2023, 11, 20))
    text = before + number + after
    masked = ids.mask_in_text(text)
    assert not leaked(ids.normalize(number), masked), repr(masked)
    for candidate in ids.find_ids(text):
        if ids.validate(candidate).ok:
            assert not leaked(candidate, masked), repr(masked)
    check = ids.validate(text)
    if check.ok:
        assert not leaked(check.number, masked), repr(masked)


@settings(max_examples=200, deadline=None)
@given(NOISY)
def test_property_masking_never_grows_a_leak(text: str) -> None:
    """Masking random text never reveals an accepted number it did not hide, and never raises."""
    masked = ids.mask_in_text(text)
    check = ids.validate(text)
    if check.ok:
        assert not leaked(check.number, masked)
    assert isinstance(ids.find_ids(text), list)
