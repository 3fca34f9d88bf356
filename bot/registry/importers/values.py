"""Cell values as rosters and payment lists write them: dates, amounts, yes/no flags, category
lists and a fast path for well-formed ID numbers.

Every parser returns a value or None; the caller turns None into a Chinese reason for the row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import mul

import numpy as np

from bot import clock
from bot.registry import ids

# Excel's day 0 (serial 1 is 1900-01-01, with Lotus's phantom 1900-02-29 accounted for).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SEP_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")


def text(value: object) -> str:
    """A cell as clean text: NFKC (full-width to half-width), trimmed; numbers without a '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value: object) -> dt.date | None:
    """2023-11-05, 2023/11/5, 2023.11.5, 20231105, 2023年11月5日, '2023-11-05 10:30:00', an
    XLSX date cell, or an Excel serial number (45235). None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    s = text(value)
    if not s:
        return None
    m = _SEP_DATE.match(s) or _COMPACT_DATE.match(s)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if _SERIAL.match(s):
        return _from_serial(float(s))
    return None


def _from_serial(serial: float) -> dt.date | None:
    # Serials outside 1982..2119 are not plausible payment or recognition dates here.
    if not 30000 <= serial < 80000:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


_AMOUNT_JUNK = re.compile(r"[¥￥,，\s]|元$|圆$")
CENT = Decimal("0.01")
# No resident pays anywhere near this; it also keeps every amount inside the column (NUMERIC(10,2))
# and Decimal's context (1e308 cannot be quantized to cents).
AMOUNT_LIMIT = Decimal(100_000)


def parse_amount(value: object) -> Decimal | None:
    """'380', '380.00', '¥380', '380元', '1,234.5' -> Decimal with two places; None if not a number
    (NaN and infinity included). An amount of AMOUNT_LIMIT or more is returned as read, unrounded:
    the caller refuses it with its own reason (see `amount_too_large`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = repr(value)
    s = _AMOUNT_JUNK.sub("", text(value))
    if not s:
        return None
    try:
        amount = Decimal(s)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    if amount.copy_abs() >= AMOUNT_LIMIT:
        return amount
    return amount.quantize(CENT)


def amount_too_large(amount: Decimal) -> bool:
    return amount.copy_abs() >= AMOUNT_LIMIT


def control_reason(column_zh: str) -> str:
    """Reason for a cell holding a control character (see bot.reports.cells.has_control: C0/C1
    controls, DEL, bidirectional overrides), which would break XLSX reports and terminals."""
    return f"{column_zh}含有看不见的控制字符（在“值”一栏中以 \\x.. 显示）：请删去这些字符后重新导入。"


_YES = {"是", "y", "yes", "true", "1", "√", "✓", "外出", "外出务工", "务工"}
_NO = {"", "否", "n", "no", "false", "0", "×", "无", "-", "/"}


def parse_flag(value: object) -> bool | None:
    """外出务工 column: 是/否, Y/N, 1/0, √, blank (= no). None when unreadable."""
    s = text(value).lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    return None


_CATEGORY_SPLIT = re.compile(r"[、,，;；/|]+")


def split_categories(value: object) -> list[str]:
    """'低保、残疾人' / '低保,残疾人' / '低保；残疾人' -> ['低保', '残疾人']; blank or 无 -> []."""
    s = text(value)
    if s in ("", "无", "-", "/", "否", "普通居民", "一般居民"):
        return []
    return [part.strip() for part in _CATEGORY_SPLIT.split(s) if part.strip()]


# --- ID numbers -------------------------------------------------------------------------------
# `ids.validate` is the authority; at 1.3 million rows its general path (NFKC, regexes, the clock)
# costs ~17 µs a row, so plain 18-character numbers take exact shortcuts first (per value in
# `check`, per chunk with numpy in `certainly_valid`): the same checks (check digit, a real birth
# date between 1900-01-01 and today), and any failure falls back to ids.validate for the Chinese
# reason. tests/registry/test_id_fast_path.py compares both shortcuts with ids.validate.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_LAST = frozenset("0123456789X")
_ASCII_OFFSET = 48 * sum(_WEIGHTS)  # the byte value of '0' times every weight


@lru_cache(maxsize=65536)
def _birth_ok(yyyymmdd: str, today: dt.date) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= today


_WEIGHTS_NP = np.array(_WEIGHTS, dtype=np.int32)
_CHECK_NP = np.frombuffer(_CHECK.encode(), dtype=np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


class IdChecker:
    """Validate many ID numbers quickly; `check(raw) -> (number, "")` or `("", reason_zh)`;
    `certainly_valid(raws)` settles a whole chunk of plain 18-character numbers at once."""

    def __init__(self) -> None:
        self.today = clock.today()
        self._today_int = self.today.year * 10000 + self.today.month * 100 + self.today.day

    def certainly_valid(self, raws: list[str]) -> np.ndarray:
        """One bool per raw value: True only when it is an 18-character ASCII number that `check`
        would return unchanged (17 digits, the right check character, a real birth date from
        1900-01-01 to today), computed over the whole chunk with numpy. False means "not settled
        here": the caller asks `check` for the value and its reason. So this never widens what is
        accepted (tests/registry/test_id_fast_path.py compares it with ids.validate)."""
        n = len(raws)
        out = np.zeros(n, dtype=bool)
        if n == 0:
            return out
        joined = "".join(raws)
        if len(joined) == 18 * n and joined.isascii():
            return self._plain_block(joined.encode(), n)
        picked = [k for k, raw in enumerate(raws) if len(raw) == 18 and raw.isascii()]
        if picked:
            out[picked] = self._plain_block("".join(raws[k] for k in picked).encode(), len(picked))
        return out

    def _plain_block(self, data: bytes, n: int) -> np.ndarray:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(n, 18)
        d = raw[:, :17].astype(np.int32) - 48
        ok = ((d >= 0) & (d <= 9)).all(axis=1)
        ok &= _CHECK_NP[(d @ _WEIGHTS_NP) % 11] == raw[:, 17]
        year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
        month = d[:, 10] * 10 + d[:, 11]
        day = d[:, 12] * 10 + d[:, 13]
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        month_ok = (month >= 1) & (month <= 12)
        days = _MONTH_DAYS[np.where(month_ok, month, 0)] + (leap & (month == 2))
        ymd = year * 10000 + month * 100 + day
        ok &= month_ok & (day >= 1) & (day <= days) & (ymd >= 19000101) & (ymd <= self._today_int)
        return ok

    def check(self, raw: str) -> tuple[str, str]:
        # isascii() + isdigit() is the same test as [0-9]{17} (isdigit alone accepts other
        # scripts' digits) at a fraction of a regex match's cost.
        if len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and raw[17] in _LAST:
            # Digit bytes times weights, minus the '0' offset: 3x faster than int() per character.
            total = sum(map(mul, raw[:17].encode(), _WEIGHTS)) - _ASCII_OFFSET
            if _CHECK[total % 11] == raw[17] and _birth_ok(raw[6:14], self.today):
                return raw, ""
        result = ids.validate(raw)
        if result.ok:
            return result.number, ""
        return "", result.reason_zh or "身份证号无效"
