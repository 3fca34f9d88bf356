"""The person's insurance history as residents tell it: years without cover, years paid back, years
paid in a row, and a year without claims (断保两年, 补交了一年, 连续交了五年, 去年没报销).

Counts are read in digits or spelt out (两年, 三年: normalisation leaves a lone numeral before 年
alone, since 一年到头 is a word).
"""

from __future__ import annotations

import re

from bot.nlu.numbers import COUNT, count

_YEARS = COUNT + r"年"
_UNINSURED = (
    re.compile(r"(?:断保|断交|断缴|断了|停保|停交|漏交|漏保|没交|没缴|没有交|没有缴|没参保|没买)(?:了)?(?:有)?" + _YEARS),
    re.compile(_YEARS + r"(?:都|也|多)?(?:没|没有)(?:交|缴|参保|买)"),
)
_LAST_YEAR_UNPAID = re.compile(r"去年(?:的)?(?:医保)?(?:没|没有)(?:交|缴|参保|买)")
_PAID_BACK = re.compile(r"补(?:交|缴|上|办)?(?:了)?" + _YEARS)
_CONTINUOUS = re.compile(r"(?:连续|连着|一直|年年)(?:交|缴|参保)?(?:了)?(?:有)?" + _YEARS)
# "Never claimed" needs 过 or a span of time: 为什么没有报销 is a complaint, 还没报销 a claim waiting.
_NO_CLAIMS = re.compile(
    r"(?<!还)(?:没|没有|未|从没|从来没)(?:有)?(?:报销过|报过|看过病|住过院|用过|生过病|花过)"
    r"|(?:一年|一整年|去年|今年|这一年|这几年|一次)(?:都|也|里|内|到头)?(?:没|没有)(?:看病|生病|报销|用|住院|花)"
)


def _years(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            value = count(m.group(1))
            if value is not None and 0 < value <= 50:
                return value
    return None


def uninsured_years(text: str) -> int | None:
    """Years without cover: 断保两年, 两年没交; 去年没交 is one."""
    found = _years(_UNINSURED, text)
    if found is None and _LAST_YEAR_UNPAID.search(text):
        return 1
    return found


def paid_back_years(text: str) -> int | None:
    return _years((_PAID_BACK,), text)


def continuous_years(text: str) -> int | None:
    return _years((_CONTINUOUS,), text)


def no_claims(text: str) -> bool:
    """A year without claims (去年没报销, 一年没看病) — not 还没报销 (a claim still waiting)."""
    return bool(_NO_CLAIMS.search(text))
