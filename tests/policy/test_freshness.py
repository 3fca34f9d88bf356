"""When the year has moved on: which pack covers the running campaign, the label for residents,
`yibao policy status` and the staff warning."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from bot import clock
from bot.cli import app
from bot.policy import get_pack
from bot.policy.freshness import currency, running_year, staff_warning_zh

runner = CliRunner()
ISSUE_DAY = dt.date(2026, 11, 30)  # counties collect for 2027; our newest packs are 2023 and 2024


@pytest.fixture(autouse=True)
def _today():
    clock.set_today(None)
    yield
    clock.set_today(None)


def test_pack_covers_its_own_campaign() -> None:
    wuhe = get_pack("wuhe")
    cur = currency(wuhe, dt.date(2023, 11, 20))
    assert cur.covers_now and cur.note_zh is None and cur.running_year == 2024
    # Until the same day a year after it opened (2023-09-01), including late payment in the benefit year
    assert currency(wuhe, dt.date(2024, 8, 31)).covers_now
    assert not currency(wuhe, dt.date(2024, 9, 1)).covers_now


def test_a_year_that_is_over_is_labelled_with_the_contact() -> None:
    wuhe = get_pack("wuhe")
    cur = currency(wuhe, ISSUE_DAY)
    assert not cur.covers_now and cur.pack_year == 2024 and cur.running_year == 2027
    assert "五河县2024年度" in cur.note_zh and "五政办秘〔2023〕50号" in cur.note_zh
    assert "该年度已经结束" in cur.note_zh and "新一年度的通知还没有收录" in cur.note_zh
    assert "0552-5056951" in cur.note_zh


def test_next_campaign_open_while_the_benefit_year_runs() -> None:
    tanghe = get_pack("tanghe")  # opened 2022-10-15 for 2023; by 2023-11-20 the 2024 campaign runs
    cur = currency(tanghe, dt.date(2023, 11, 20))
    assert not cur.covers_now and running_year(tanghe, dt.date(2023, 11, 20)) == 2024
    assert "2024年度的参保缴费已经开始" in cur.note_zh
    # 滕州 prints only per-town offices: the note sends residents to no particular town's phone
    tengzhou = currency(get_pack("tengzhou"), ISSUE_DAY)
    assert "镇医保办" not in tengzhou.note_zh


def test_staff_warning_only_when_behind() -> None:
    assert staff_warning_zh(get_pack("wuhe"), dt.date(2023, 11, 20)) is None
    line = staff_warning_zh(get_pack("wuhe"), ISSUE_DAY)
    assert line.startswith("⚠") and "2027年度征缴" in line and "yibao policy new" in line


def test_policy_status_lists_every_locality() -> None:
    result = runner.invoke(app, ["policy", "status", "--on", ISSUE_DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["locality"]: r for r in data["localities"]}
    assert set(rows) == {"wuhe", "taoyuan", "tengzhou", "tanghe"}
    assert rows["wuhe"]["newest_year"] == 2024 and rows["wuhe"]["running_year"] == 2027
    assert not any(r["covers_now"] for r in rows.values())
    clock.set_today(dt.date(2023, 11, 20))
    text = runner.invoke(app, ["policy", "status"]).stdout
    assert "wuhe" in text and "覆盖当前征缴" in text
    assert "未覆盖" in text and "yibao policy new tanghe --year 2024" in text


def test_policy_status_bad_date() -> None:
    result = runner.invoke(app, ["policy", "status", "--on", "2026-13-01"])
    assert result.exit_code == 2 and "格式不对" in result.output
