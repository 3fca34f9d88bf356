"""Unpaid list (XLSX) for cadres: one row per unpaid person, grouped by household.

Cadres phone households, so the full name and phone stay; the ID number is masked (the cadre does not
need it to call, and the file is easily forwarded). Every cell goes through `bot.reports.cells`, so
roster text such as `=HYPERLINK(...)` stays text and a control character in a name cannot break the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.reports.cells import xlsx_cell

HEADERS = ("户号", "乡镇", "村（社区）", "姓名", "与户主关系", "身份证号（已隐藏）", "联系电话", "外出务工")
WIDTHS = (14, 12, 14, 10, 10, 22, 16, 10)


def _get(obj: Any, *names: str, default: Any = "") -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def write_unpaid_xlsx(households: Iterable[Any], path: str | Path, title: str) -> Path:
    """Write households (lookup.HouseholdUnpaid-like) to path; returns the path.

    Streams rows (openpyxl write-only mode) so a whole town's list stays fast and small in memory,
    and writes to a temporary name then renames, so a crash never leaves a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("未缴费名单")
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    title_cell = xlsx_cell(ws, title)
    title_cell.font = Font(bold=True, size=13)
    ws.append([title_cell])
    header = []
    for name in HEADERS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    n_households = n_people = 0
    for hh in households:
        n_households += 1
        code = _get(hh, "household_code", "code")
        town = _get(hh, "town", "town_name")
        village = _get(hh, "village", "village_name")
        for m in _get(hh, "members", default=[]):
            n_people += 1
            ws.append([
                xlsx_cell(ws, value)
                for value in (
                    str(code), town, village, _get(m, "name"), _get(m, "relation"),
                    _get(m, "masked_id"), _get(m, "phone"), "是" if _get(m, "migrant", default=False) else "",
                )
            ])
    ws.append([])
    ws.append([f"合计：{n_households} 户，{n_people} 人未缴费"])
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path
