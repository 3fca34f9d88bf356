"""Rendering rules that hold whatever the engine says: line limit, one source line, year note."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.conversation import render
from bot.policy import get_pack
from bot.policy.engine import Citation


def test_compose_caps_body_lines_and_keeps_source_last() -> None:
    text = render.compose([f"第{i}句。" for i in range(10)], "依据：某文件 一")
    lines = text.splitlines()
    assert len(render.body_lines(text)) == render.MAX_LINES
    assert lines[-1] == "依据：某文件 一"
    # Nothing is dropped: the overflow is joined into the last body line.
    assert all(f"第{i}句" in text for i in range(10))


def test_compose_drops_empty_and_repeated_lines() -> None:
    assert render.compose(["甲。", None, "", "甲。", "乙。"], None) == "甲。\n乙。"


def test_source_line_one_line_per_documents() -> None:
    cits = [Citation("甲文〔2023〕1号", "二（一）", "q"), Citation("甲文〔2023〕1号", "二（二）2", "q"),
            Citation("甲文〔2023〕1号", "二（一）", "q")]
    assert render.source_line(cits) == "依据：甲文〔2023〕1号 二（一）、二（二）2"
    assert render.source_line(cits, frozenset({"二（一）"})) == "依据：甲文〔2023〕1号 二（二）2、二（一）"
    assert render.source_line([]) is None


def test_year_note_while_the_pack_covers_the_running_campaign_and_after() -> None:
    pack: Any = get_pack("wuhe")
    year = pack.coverage_year
    # During 五河's own collection period: no note.
    assert render.year_note(pack, pack.dates.collection.end) is None
    assert render.year_note(pack, pack.dates.collection.end, collection=True) is None
    # Once the next campaign would have opened, every answer says which year it is about.
    note = render.year_note(pack, dt.date(year, 12, 31))
    assert note is not None and f"{year}年度" in note
    # 滕州 in November of its coverage year: its next campaign has opened and is not loaded.
    tengzhou: Any = get_pack("tengzhou")
    note = render.year_note(tengzhou, dt.date(tengzhou.coverage_year, 11, 20))
    assert note is not None and f"{tengzhou.coverage_year}年度" in note


def test_money_and_day_formats() -> None:
    from decimal import Decimal

    assert render.money(Decimal("60.00")) == "60"
    assert render.money(Decimal("87.5")) == "87.5"
    assert render.day("2024-02-29") == "2024年2月29日"
    assert render.day(dt.date(2023, 1, 1)) == "2023年1月1日"
