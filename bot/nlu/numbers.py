"""Numbers residents state about a person: age, birth year, a sum of money, a count of years.

Readers work on normalised text (normalize.py has turned 七十岁 into 70岁 and 三百八 into 380);
counts such as 两年 stay spelt out there (一年到头 is a word), so `count` reads both forms.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot import clock
from bot.nlu.normalize import chinese_number

# What may not follow a number for it to be an age (a sum, a date, a duration, a count).
_NOT_AGE_AFTER = r"(?![\d.]|块|元|钱|月|号|日|年|天|个|次|人|口|分|%|斤|亩)"
_AGE_NEARLY = re.compile(r"(?:快|将近|马上|眼看|眼瞅着|差不多)(?:就)?(?:要)?(?:到)?(\d{2,3})(?:岁|周岁)?(?:了)?" + _NOT_AGE_AFTER)
_AGE_PATTERNS = (
    re.compile(r"(\d{1,3})(?:周岁|岁)"),
    re.compile(r"(?:满|足|正好|刚好|刚满|整整|整)(\d{2,3})" + _NOT_AGE_AFTER),
    re.compile(r"(\d{2,3})(?:多|来|好几|出头)(?:岁)?" + _NOT_AGE_AFTER),
    re.compile(r"(?:年龄|岁数|年纪|今年)(?:是|有|都|已经|才)?(\d{1,3})" + _NOT_AGE_AFTER),
    re.compile(r"(?<![\d.])(\d{2,3})(?:了|的老|老人|老头|老太|高龄)"),
    # 俺娘80 / 我爸73: a two-digit number right after a person, no unit after it.
    re.compile(r"(?:我|俺|爸|妈|娘|爹|老伴|奶奶|爷爷|姥姥|姥爷|老汉|老头|婆婆|公公)(\d{2})" + _NOT_AGE_AFTER),
)


def age(text: str) -> tuple[int | None, tuple[int, int] | None]:
    """The age stated (years) and where it was read. 快60了 means not yet 60: 59; 七十多 and
    八十好几 give the round number (the policy's age bands start there)."""
    m = _AGE_NEARLY.search(text)
    if m and 1 < int(m.group(1)) <= 120:
        return int(m.group(1)) - 1, m.span(1)
    best: tuple[int, tuple[int, int]] | None = None
    for pattern in _AGE_PATTERNS:
        m = pattern.search(text)
        if m and 0 <= int(m.group(1)) <= 120 and (best is None or m.start() < best[1][0]):
            best = (int(m.group(1)), m.span(1))
    return (best[0], best[1]) if best else (None, None)


# ---- birth year -------------------------------------------------------------------------------
_YEAR = r"(?<![\d.])(\d{4}|\d{2})年"
# 53年生人, 1958年出生, 俺是58年的人: a year with a birth word after it.
_BORN_AFTER = re.compile(_YEAR + r"(?:\d{1,2}月(?:份)?)?(?:出生|生人|生的|生|出世|的人|的老人|的孩子|的小孩)")
# 俺娘是45年的, 我是58年的: a year said of a person, not of a thing (23年的医保 is a coverage year).
_PERSON_YEAR = re.compile(
    r"(?:我|俺|咱|本人|自己|他|她|妈|娘|爸|爹|老伴|老人|孩子|娃|闺女|儿子|女儿|孙子|孙女|奶奶|爷爷|姥姥|姥爷)"
    r"(?:是|今年是|属于|那是)?" + _YEAR + r"(?:的)(?!医保|保险|钱|费|政策|标准|账|补贴|交|缴|款)"
)
_YOUNG_RELATIONS = frozenset({"child", "grandchild"})


def birth_year(text: str, relation: str | None = None) -> tuple[int | None, tuple[int, int] | None]:
    """The year a person was born: 俺是58年的, 53年生人, 1958年出生, 俺娘是45年的. A two-digit year is
    19xx when that gives a plausible age (up to 100) and 20xx otherwise, or when the person is a
    child or grandchild (孩子是21年的 → 2021)."""
    for pattern in (_BORN_AFTER, _PERSON_YEAR):
        m = pattern.search(text)
        if m:
            year = _full_year(m.group(1), relation in _YOUNG_RELATIONS)
            if year is not None:
                return year, m.span(1)
    return None, None


def _full_year(digits: str, young: bool) -> int | None:
    this_year = clock.today().year
    if len(digits) == 4:
        year = int(digits)
        return year if this_year - 120 <= year <= this_year else None
    two = int(digits)
    recent, old = 2000 + two, 1900 + two
    if recent <= this_year and (young or this_year - old > 100):
        return recent
    return old if this_year - old <= 120 else None


# ---- money --------------------------------------------------------------------------------------
_MONEY_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块钱|块|圆)")
_MONEY_VERB = re.compile(
    r"(?:交|缴|是|付|补|返|花|出|收)(?:了)?(\d{2,4}(?:\.\d+)?)(?![\d.]|岁|月|号|日|年|天|个|多岁|周岁|来岁)"
)
_MONEY_CONTEXT = re.compile(r"医保|交|缴|钱|费|一年|一个人|是吗|对吗|对不对|是不是|对吧|吧$|吗$")
_MONEY_BARE = re.compile(r"(?<![\d.])(\d{3,4})(?![\d.]|岁|月|号|日|年|天|个|周岁|多岁)")


def amount(text: str, used: list[tuple[int, int]]) -> Decimal | None:
    """A sum the resident states: 60元, 380块, 交380对不对, 是不是350, or a bare 100..5000 where money
    is talked of (医保350一年是吗). Numbers in `used` spans (dates, ages) are not money."""
    for pattern in (_MONEY_UNIT, _MONEY_VERB, _MONEY_BARE):
        for m in pattern.finditer(text):
            if any(s <= m.start(1) < e for s, e in used):
                continue
            value = Decimal(m.group(1))
            if pattern is _MONEY_BARE and not (
                100 <= value <= 5000 and not 1900 <= value <= 2100 and _MONEY_CONTEXT.search(text)
            ):
                continue
            return value
    return None


# ---- counts -------------------------------------------------------------------------------------
COUNT = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"


def count(run: str) -> int | None:
    """A small count written either way: 2, 两, 十二."""
    if run.isdigit():
        return int(run)
    return chinese_number(run)
