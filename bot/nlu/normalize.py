"""Text normalisation before understanding: width, script, numerals, voice-to-text filler.

Residents type on phones in every way: full-width digits from Chinese IMEs, traditional characters
(Hong Kong / Taiwan keyboards, or relatives abroad), numbers spelt out by voice input (七十岁,
三百八), and dictated filler words (那个, 就是, 呃). Everything downstream works on the output.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import zhconv
import zhconv.zhconv as zhconv_tables

_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")
# What may follow a spelt-out number for it to be a quantity. A lone 一/二/十 elsewhere is a word
# (一女户, 两女户, 二胎, 十分), so single characters are converted only before these.
_QUANTITY_AFTER = re.compile(r"(?:周岁|岁|个月|月|号|日|块|元|天)")
_YEAR_RUN = re.compile(r"^[零〇一二三四五六七八九]{2,4}$")

# Dictated filler: removed outright. 额 is a common voice-input spelling of 呃 but also part of
# 金额/名额/额度, so it is removed only where it stands alone at the start or after a pause.
_FILLER = re.compile(r"那个|就是说|就是|呃+|嗯+|(?:^|(?<=[\s,，。.!?！？]))(?:额+|喂+|哎呀|唉)")
_SPACES = re.compile(r"[\s\u3000]+")
# Punctuation becomes one space: keeps word boundaries without letting marks split keywords.
_PUNCT = re.compile(r"[,，。!！?？;；:：、~～…—()（）\[\]【】\"'“”‘’《》<>|\\]+")


def _leading_number(run: str) -> tuple[int, int]:
    """(value, characters used) of the number at the start of a numeral run. Two plain digits in a
    row after a unit end it: in 三百八一年 the number is 三百八 and 一年 is a word."""
    if not any(ch in _UNIT for ch in run):
        if len(run) == 1:
            return _DIGIT[run], 1
        return int("".join(str(_DIGIT[ch]) for ch in run)), len(run)
    total = number = 0
    last_unit = 1
    zero_seen = previous_digit = False
    used = len(run)
    for i, ch in enumerate(run):
        if ch in _DIGIT:
            if previous_digit and ch not in "零〇":
                used = i
                break
            number = _DIGIT[ch]
            zero_seen = zero_seen or ch in "零〇"
            previous_digit = ch not in "零〇"
        else:
            total += (number or 1) * _UNIT[ch]
            number = 0
            last_unit = _UNIT[ch]
            zero_seen = previous_digit = False
    if number:
        # 三百八 means 380 and 一千二 means 1200; 三百零八 (with 零) means 308; 六十五 means 65.
        total += number * (last_unit // 10 if last_unit >= 100 and not zero_seen else 1)
    return total, used


def chinese_number(run: str) -> int | None:
    """Value of a spelt-out number: 七十 70, 六十五 65, 三百八 380 (colloquial), 一千零二十 1020,
    二〇二三 2023 (digit by digit). None when the run is not wholly one number."""
    if not run or any(ch not in _DIGIT and ch not in _UNIT for ch in run):
        return None
    value, used = _leading_number(run)
    return value if used == len(run) else None


def _replace_numeral(match: re.Match[str]) -> str:
    run = match.group(0)
    after = match.string[match.end() : match.end() + 3]
    if match.string[max(0, match.start() - 2) : match.start()].endswith(("最后", "第", "每")):
        return run  # 最后一天, 第一次, 每一年: words, not quantities
    if len(run) == 1 or not any(ch in _UNIT for ch in run):
        # A lone numeral or a digit-by-digit run is a quantity only before a unit: 三月份, 两个月,
        # 二〇二三年; otherwise it is part of a word (一女户, 二胎, 十分, 老百姓, 一年到头).
        if after.startswith("年"):
            return str(chinese_number(run)) if _YEAR_RUN.match(run) else run
        if not _QUANTITY_AFTER.match(after):
            return run
    value, used = _leading_number(run)
    return str(value) + run[used:]


def numerals_to_digits(text: str) -> str:
    """Spelt-out quantities to Arabic digits, leaving words that merely contain numerals alone."""
    return _NUMERAL_RUN.sub(_replace_numeral, text)


@functools.cache
def _traditional_chars() -> frozenset[str]:
    """Characters zhconv changes on their own: a message with none of them is already simplified,
    and skipping the conversion saves most of its cost."""
    table = zhconv_tables.getdict("zh-cn")
    return frozenset(k for k, v in table.items() if len(k) == 1 and v != k)


def width_and_script(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII) and traditional to simplified characters."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii() and not _traditional_chars().isdisjoint(text):
        text = zhconv.convert(text, "zh-cn")
    return text


def normalize(text: str | None) -> str:
    """The text as the rest of the NLU reads it.

    Full-width → half-width, traditional → simplified, lower-case ASCII, punctuation and runs of
    spaces → one space, spelt-out numbers → digits (七十岁 → 70岁), dictation filler removed.
    """
    if not text:
        return ""
    return finish(width_and_script(text))


def finish(text: str) -> str:
    """The steps of `normalize` after width and script (parse removes ID numbers in between)."""
    text = _PUNCT.sub(" ", text.lower())
    text = numerals_to_digits(text)
    text = _FILLER.sub("", text)
    return _SPACES.sub(" ", text).strip()
