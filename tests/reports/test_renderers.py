"""Report renderers: Chinese labels really render, spreadsheets hold what cadres need and no full ID."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

from bot.reports.fonts import cjk_font_name, font_covers
from bot.reports.progress_chart import ChartRow, render_progress_png
from bot.reports.unpaid_xlsx import write_unpaid_xlsx


def test_chart_labels_render_with_a_cjk_font(tmp_path: Path) -> None:
    rows = [ChartRow("柴胡店镇", 0.93), ChartRow("滨湖镇", 0.71), ChartRow("龙阳街道", 1.02)]
    title = "滕州市 各镇街参保进度"
    # matplotlib warns "Glyph ... missing from font(s)" when it would draw a box: make that fail.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = render_progress_png(rows, tmp_path / "chart.png", title, mark=0.96)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 5_000
    labels = "".join(r.name for r in rows) + title + "参保完成率目标线"
    assert font_covers(labels), f"font {cjk_font_name()} lacks glyphs for {labels}"


def test_font_check_can_fail() -> None:
    # A private-use code point no font draws: proves font_covers is not always True.
    assert not font_covers("\ue000")


@dataclass
class Member:
    name: str
    masked_id: str
    phone: str | None
    migrant: bool
    relation: str = "户主"


@dataclass
class Household:
    household_code: str
    town: str
    village: str
    members: list[Member] = field(default_factory=list)


def test_unpaid_xlsx_groups_by_household(tmp_path: Path) -> None:
    hh = [
        Household("H001", "小溪集镇", "桃东村", [Member("张三", "3403**********123X", "13800000000", True),
                                               Member("李四", "3403**********5678", None, False, "配偶")]),
        Household("H002", "小溪集镇", "桃东村", [Member("王五", "3403**********0011", "13900000000", False)]),
    ]
    out = write_unpaid_xlsx(hh, tmp_path / "unpaid.xlsx", "桃东村 未缴费名单")
    ws = load_workbook(out).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "桃东村 未缴费名单"
    assert rows[1][0] == "户号"
    body = [r for r in rows[2:] if r and r[0] in {"H001", "H002"}]
    assert [r[3] for r in body] == ["张三", "李四", "王五"]
    assert body[0][7] == "是" and body[1][7] in (None, "")
    assert any("合计：2 户，3 人" in str(r[0]) for r in rows if r and r[0])
    assert not (tmp_path / "unpaid.xlsx.tmp").exists()
