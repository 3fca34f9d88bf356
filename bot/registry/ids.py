"""Resident ID numbers (居民身份证号): the one module for normalising, validating, masking and
reading them.

Checksum and date parsing come from `stdnum.cn.ric`. We deliberately do NOT call
`stdnum.cn.ric.validate`: since python-stdnum 2.2 it also refuses a number whose region code did
not exist yet in the birth year, but the code is the one of the office that issued the card, so
many rural residents born before their county's current code would be wrongly refused.

Privacy: nothing here ever puts a full number into an exception or a message; `mask` is the one
masking helper used everywhere (logs, replies, audit rows, error reports).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from bot import clock

# Whitespace and separators people type or paste between digit groups.
_SEPARATORS = re.compile(r"[\s\-_.·]+")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)

REASON_EMPTY = "请输入身份证号。"
REASON_CHARS = "身份证号只能由数字组成，最后一位可以是 X；请去掉其中的字母、汉字或符号后再试。"
REASON_CHECK = "校验码不正确：身份证号最后一位与前 17 位不符，请逐位核对是否输错。"
REASON_DATE = "出生日期无效：身份证号第 7–14 位不是一个有效的出生日期，请核对。"
NOTE_CONVERTED = "这是 15 位旧身份证号，已按国家标准升级为 18 位（补全出生年份“19”并计算校验码）。"


def reason_length(n: int) -> str:
    return f"位数不对：身份证号应为 18 位（旧号码为 15 位），您输入的是 {n} 位，请核对后重新输入。"


@dataclass(frozen=True)
class IdCheck:
    """Result of `validate`. `number` is the normalised 18-digit number when ok, else ""."""

    ok: bool
    number: str
    reason_zh: str = ""
    converted: bool = False  # True when a 15-digit legacy number was upgraded
    note_zh: str = ""  # informational message for the user (e.g. the 15→18 conversion)

    @property
    def masked(self) -> str:
        return mask(self.number) if self.number else ""


def normalize(raw: str) -> str:
    """Full-width characters to ASCII (NFKC), separators removed, a trailing x upper-cased.

    Does not validate: '３４０３ ２２…ｘ' becomes '340322…X'.
    """
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    text = _SEPARATORS.sub("", text)
    return text.upper()


def with_check_digit(body17: str) -> str:
    """17 digits → the full 18-digit number (stdnum's calc_check_digit wants a placeholder 18th)."""
    return body17 + ric.calc_check_digit(body17 + "0")


def _upgrade_15(number15: str) -> str:
    """15-digit legacy (pre-1999, all born 19xx) → 18 digits with a computed check digit."""
    return with_check_digit(number15[:6] + "19" + number15[6:])


def _birth_date_or_none(number18: str) -> dt.date | None:
    try:
        born = ric.get_birth_date(number18)
    except (ValidationError, ValueError):
        return None
    if born < _EARLIEST_BIRTH or born > clock.today():
        return None
    return born


def validate(raw: str) -> IdCheck:
    """Validate an ID number typed by a person; every failure has a Chinese reason.

    Checks: characters, length (18, or 15 legacy → converted), check digit, birth date (a real
    calendar date, not before 1900 and not after today). The region code is not checked against
    the birth year (see module docstring).
    """
    number = normalize(raw)
    if not number:
        return IdCheck(False, "", REASON_EMPTY)
    if not re.fullmatch(r"[0-9]*X?", number):
        return IdCheck(False, "", REASON_CHARS)
    if len(number) == 15:
        if not number.isdigit():
            return IdCheck(False, "", REASON_CHARS)
        upgraded = _upgrade_15(number)
        if _birth_date_or_none(upgraded) is None:
            return IdCheck(False, "", REASON_DATE)
        return IdCheck(True, upgraded, "", converted=True, note_zh=NOTE_CONVERTED)
    if len(number) != 18:
        return IdCheck(False, "", reason_length(len(number)))
    if number[-1] != ric.calc_check_digit(number):
        return IdCheck(False, "", REASON_CHECK)
    if _birth_date_or_none(number) is None:
        return IdCheck(False, "", REASON_DATE)
    return IdCheck(True, number)


def is_valid(raw: str) -> bool:
    return validate(raw).ok


def _valid_number(raw: str) -> str:
    check = validate(raw)
    if not check.ok:
        # The message carries the reason and a masked form only, never the number itself.
        raise ValueError(f"{check.reason_zh}（{mask(raw)}）")
    return check.number


def birth_date(raw: str) -> dt.date:
    """Birth date of a valid number (15 or 18 digits); ValueError otherwise."""
    number = _valid_number(raw)
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def age_on(raw: str, on: dt.date | None = None) -> int:
    """Age in full years on `on` (default: today from bot.clock). Born 29 Feb: one year older on 1 Mar."""
    born = birth_date(raw)
    on = on or clock.today()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def sex(raw: str) -> Literal["male", "female"]:
    """From the order code (17th digit): odd is male, even is female."""
    number = _valid_number(raw)
    return "male" if int(number[16]) % 2 else "female"


SEX_ZH = {"male": "男", "female": "女"}


def mask(raw: str | None) -> str:
    """The one masking helper: keep the first 4 and last 4 characters, e.g. 3403**********123X.

    Accepts anything (full-width, spaces, wrong length); short input is masked entirely so even a
    fragment never shows more than 8 characters of a number.
    """
    if not raw:
        return ""
    # Fast path for stored numbers (already normalised): lists of thousands are masked at once.
    s = raw.upper() if (raw.isascii() and raw.isalnum()) else normalize(raw)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


# ID-shaped runs in free text: 18 (last may be X) or 15 digits, optionally split by single spaces or
# hyphens (people type "340322 19800101 1234"), not part of a longer digit run. Applied after NFKC.
_G = r"[ \-]?"
_ID_IN_TEXT = re.compile(
    r"(?<![0-9])([0-9](?:" + _G + r"[0-9]){16}" + _G + r"[0-9Xx]|[0-9](?:" + _G + r"[0-9]){14})(?![0-9Xx])"
)


def find_ids(text: str) -> list[str]:
    """ID-number candidates in free text, normalised (not validated: the caller reports why a
    candidate is wrong). Order of appearance, duplicates removed."""
    if not text:
        return []
    found: list[str] = []
    for m in _ID_IN_TEXT.finditer(unicodedata.normalize("NFKC", text)):
        number = normalize(m.group(1))
        if number not in found:
            found.append(number)
    return found


def mask_in_text(text: str) -> str:
    """Mask every ID-shaped run in a text (used by the logging filter as a second line of defence).

    Full-width digits are caught too: the text is NFKC-normalised only where an ID is found.
    """
    if not text:
        return text
    normalized = unicodedata.normalize("NFKC", text)
    if len(normalized) != len(text):
        # NFKC changed lengths (rare compatibility characters): mask on the normalised text.
        return _ID_IN_TEXT.sub(lambda m: mask(m.group(1)), normalized)
    out: list[str] = []
    last = 0
    for m in _ID_IN_TEXT.finditer(normalized):
        out.append(text[last : m.start(1)])
        out.append(mask(m.group(1)))
        last = m.end(1)
    out.append(text[last:])
    return "".join(out)
