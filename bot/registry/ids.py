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
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from bot import clock

# Separators people type or paste between digit groups (after folding, see `fold`): whitespace,
# hyphens and dashes, underscore, dot, slash, backslash, middle dots. The detector allows up to
# _MAX_GAP of them between two digits ("340321  19491211  0013", "340321 - 19491211 - 0013").
_SEP_CLASS = r"[\s\-_./\\·・\u2010-\u2015\u2212]"
_SEPARATORS = re.compile(_SEP_CLASS + "+")
_MAX_GAP = 3
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


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character as the ID reader sees it: any script's decimal digit becomes its ASCII digit
    (NFKC leaves Arabic-Indic or Devanagari digits alone), invisible format characters (zero-width
    space and joiners, BOM, soft hyphen, bidi marks: category Cf) vanish, the rest is NFKC
    (full-width digits, ｘ, ／)."""
    if ch.isascii():
        return ch
    if unicodedata.category(ch) == "Cf":
        return ""
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", ch)


def fold(text: str) -> str:
    """The text with every character folded by `_fold_char` (ASCII text is returned as is)."""
    if text.isascii():
        return text
    # str.translate with a table for this text's distinct characters: C speed for long texts.
    return text.translate({ord(ch): _fold_char(ch) for ch in set(text) if not ch.isascii()})


def normalize(raw: str) -> str:
    """Folded (`fold`: full-width and other scripts' digits to ASCII, invisible characters dropped),
    separators removed, a trailing x upper-cased.

    Does not validate: '３４０３ ２２…ｘ' becomes '340322…X'.
    """
    if raw is None:
        return ""
    text = fold(str(raw))
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


# ---- The one ID detector -------------------------------------------------------------------
# Works on folded text (`fold`). A "run" is a maximal sequence of digits joined by at most
# _MAX_GAP separators, optionally ending in X; it must not touch another digit (nor its X a
# letter or digit). Within a run, "groups" are the digit strings between separators.
_GAP = f"{_SEP_CLASS}{{0,{_MAX_GAP}}}"
_RUN = re.compile(
    r"(?<![0-9])[0-9](?:" + _GAP + r"[0-9])*(?:" + _GAP + r"[Xx](?![0-9A-Za-z]))?(?![0-9])"
)
_GROUP = re.compile(r"[0-9]+[Xx]?|[Xx]")
# The shortest ID is a legacy 15-digit number; shorter runs are left alone.
_MIN_CHARS = 15


@dataclass(frozen=True)
class IdSpan:
    """An ID-number candidate in a text: text[start:end] is how it was typed, `number` normalised."""

    start: int
    end: int
    number: str


def _fits(chars: str) -> bool:
    """18 characters with at most a final X, or 15 digits: the two shapes of an ID number."""
    return (len(chars) == 18 and "X" not in chars[:-1]) or (len(chars) == 15 and "X" not in chars)


def _windows(run: str) -> list[tuple[int, int, str]]:
    """Candidates in one run as (start, end, number) relative to the run: the whole run when it
    holds 15 or 18 characters; otherwise consecutive groups adding up to 18 (X only last) or 15.
    Windows whose number is valid win ("1234 340321 19491211 0013" finds the middle number);
    without any, the first fitting windows are returned so the caller can say what is wrong."""
    groups = list(_GROUP.finditer(run))
    whole = "".join(g.group(0) for g in groups).upper()
    if _fits(whole):
        return [(0, len(run), whole)]
    fits: list[tuple[int, int, str]] = []
    for i in range(len(groups)):
        total = ""
        for j in range(i, len(groups)):
            total += groups[j].group(0).upper()
            if len(total) > 18 or "X" in total[:-1]:
                break
            if _fits(total):
                fits.append((i, j, total))
    valid = [f for f in fits if validate(f[2]).ok]
    found: list[tuple[int, int, str]] = []
    free_from = 0
    for i, j, number in valid or fits:  # left to right, not overlapping
        if i >= free_from:
            found.append((groups[i].start(), groups[j].end(), number))
            free_from = j + 1
    return found


def _positions(text: str) -> list[int]:
    """For each character of `fold(text)`, its index in `text` (folding drops or expands some)."""
    return [i for i, ch in enumerate(text) for _ in (ch if ch.isascii() else _fold_char(ch))]


def _runs(folded: str) -> list[re.Match[str]]:
    """Runs holding at least _MIN_CHARS digits (an X counts): every place an ID could be."""
    if sum(map(folded.count, "0123456789")) < _MIN_CHARS - 1:  # cheap: most texts stop here
        return []
    return [m for m in _RUN.finditer(folded) if sum(ch.isalnum() for ch in m.group(0)) >= _MIN_CHARS]


def _original(span: tuple[int, int], where: list[int] | None) -> tuple[int, int]:
    start, end = span
    return (start, end) if where is None else (where[start], where[end - 1] + 1)


def find_id_spans(text: str) -> list[IdSpan]:
    """Every ID-number candidate in free text with where it was typed (see `find_ids`)."""
    if not text:
        return []
    folded = fold(text)
    runs = _runs(folded)
    if not runs:
        return []
    where = None if text.isascii() else _positions(text)
    spans: list[IdSpan] = []
    for m in runs:
        for start, end, number in _windows(m.group(0)):
            spans.append(IdSpan(*_original((m.start() + start, m.start() + end), where), number))
    return spans


def find_ids(text: str) -> list[str]:
    """ID-number candidates in free text, normalised (not validated: the caller reports why a
    candidate is wrong). Order of appearance, duplicates removed.

    Catches every form `validate` accepts inside any text, also split by up to three separators
    (spaces, dots, dashes, slashes, underscores), with zero-width characters, in full-width or
    another script's digits, and glued to a command ("/bind340321…")."""
    return list(dict.fromkeys(span.number for span in find_id_spans(text)))


def mask_in_text(text: str) -> str:
    """Mask every ID-shaped run in a text: the one helper for logs, transcripts and reports.

    Every run of 15 or more digits (with separators, in any script, as `find_ids` reads them) is
    replaced by its `mask` as a whole, so whatever `find_ids` or `validate` would read as an ID is
    hidden, and so is a longer number an ID is glued to. The rest of the text is kept as written.
    """
    if not text:
        return text
    folded = fold(text)
    runs = _runs(folded)
    if not runs:
        return text
    where = None if text.isascii() else _positions(text)
    out: list[str] = []
    last = 0
    for m in runs:
        start, end = _original(m.span(), where)
        out.append(text[last:start])
        out.append(mask(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)
