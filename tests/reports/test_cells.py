"""Spreadsheet injection and control characters (issue 12): roster text reaches cadres' XLSX files
and the importers' CSV reports as text, never as a formula, and one odd name cannot break a file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from bot.reports.cells import csv_cell, visible
from bot.reports.unpaid_xlsx import write_unpaid_xlsx
from tests.reports.test_renderers import Household, Member

FORMULAS = ["=1+2", '=HYPERLINK("http://example.invalid","点我")', "@SUM(A1)", "+86 138", "-1", "\t=1", "\r=1"]


def test_unpaid_xlsx_writes_formula_like_names_as_text(tmp_path: Path) -> None:
    members = [Member(name, "3403**********0011", "=2*3", False) for name in FORMULAS]
    out = write_unpaid_xlsx([Household("=H1", "=镇", "@村", members)], tmp_path / "u.xlsx", "=标题")
    ws = load_workbook(out).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [ws.cell(row=r, column=4) for r in range(3, 3 + len(FORMULAS))]
    assert [c.value for c in names] == [visible(n) for n in FORMULAS]
    assert all(c.quotePrefix for c in names)
    assert ws.cell(row=3, column=7).value == "=2*3" and ws.cell(row=3, column=1).value == "=H1"


def test_a_control_character_in_a_name_does_not_break_the_list(tmp_path: Path) -> None:
    members = [Member("张\x1b三", "3403**********0011", None, False), Member("李\x07四", "3403**********0022", None, False),
               Member("王五", "3403**********0033", "138\x00", False)]
    out = write_unpaid_xlsx([Household("H1", "城关镇", "东\x0b村", members)], tmp_path / "u.xlsx", "东村")
    ws = load_workbook(out).active
    assert [ws.cell(row=r, column=4).value for r in (3, 4, 5)] == ["张\\x1b三", "李\\x07四", "王五"]
    assert ws.cell(row=3, column=3).value == "东\\x0b村"


def test_csv_cells_get_an_apostrophe_before_a_formula() -> None:
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_cell(v) for v in [*FORMULAS, "张三", 12, None, "a=b"]])
    row = next(csv.reader(io.StringIO(buf.getvalue())))
    assert row[: len(FORMULAS)] == ["'" + visible(v) for v in FORMULAS]
    assert row[len(FORMULAS):] == ["张三", "12", "", "a=b"]
