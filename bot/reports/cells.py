"""Text for spreadsheet cells we write (the unpaid XLSX, the importers' `.errors.csv`, any CSV).

Roster text is typed by many hands and may hold anything, so every writer passes its cells through
here (OWASP "CSV injection"):

* a cell beginning with `=`, `+`, `-`, `@`, tab or CR would be read by Excel/WPS as a formula (or
  DDE); in a CSV it gets a leading apostrophe, in an XLSX it is written as a typed string with
  Excel's quote-prefix flag, so it shows as the text it is and stays text when edited;
* control characters have no place in a cell (and most are illegal in XLSX XML, where openpyxl
  raises IllegalCharacterError and would sink a whole village's list for one name): they are shown
  as a visible `\\xNN` escape instead.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# C0 and C1 controls (tab, CR and LF included: no roster value legitimately holds one), DEL, and the
# bidirectional overrides that make a name display as something else.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """The text with every control character shown as `\\xNN` (tab as `\\x09`, U+202E as `\\u202e`)."""
    return _CONTROL.sub(_escape, text)


def has_control(text: str) -> bool:
    """True when the text holds a character `visible` would escape (the importers refuse such cells)."""
    return _CONTROL.search(text) is not None


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A value for csv.writer: numbers pass through; text is made visible and, when a spreadsheet
    would read it as a formula, prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    if is_formula_like(text):
        text = "'" + text
    return visible(text)


def xlsx_cell(ws: Any, value: Any) -> Any:
    """A write-only openpyxl cell for `value`: text is always a typed string (never a formula),
    formula-like text also carries the quote prefix, control characters are made visible."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return WriteOnlyCell(ws, value=value)
    text = str(value)
    cell = WriteOnlyCell(ws, value=visible(text))
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell
