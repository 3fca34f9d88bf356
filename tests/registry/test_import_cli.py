"""`yibao import roster|payments` end to end on the documented sample files, and the XLSX sample."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot import clock
from bot.cli import app
from bot.registry import db
from bot.registry.importers import import_roster
from bot.settings import get_settings

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture()
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    clock.set_today(dt.date(2023, 12, 31))
    yield url
    clock.set_today(None)
    get_settings.cache_clear()


def test_cli_imports_the_documented_samples(cli_db: str, tmp_path: Path) -> None:
    roster = shutil.copy(SAMPLES / "roster-sample.csv", tmp_path / "roster.csv")
    payments = shutil.copy(SAMPLES / "payments-sample.csv", tmp_path / "payments.csv")
    runner = CliRunner()
    out = runner.invoke(app, ["import", "roster", str(roster), "--locality", "wuhe", "-q"])
    assert out.exit_code == 0, out.output
    assert "新增 5" in out.output
    out = runner.invoke(app, ["import", "payments", str(payments), "--year", "2024", "-q"])
    assert out.exit_code == 0, out.output
    assert "新增 4" in out.output
    out = runner.invoke(app, ["import", "payments", str(payments), "--year", "2024", "-q"])
    assert out.exit_code == 0 and "新增 0" in out.output and "未变 4" in out.output
    engine = db.get_engine(cli_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM payment")).scalar() == 4
    engine.dispose()


def test_cli_reports_bad_rows_and_file_errors(cli_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    with open(SAMPLES / "roster-sample.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][4] = "火星镇"
    with open(bad, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    runner = CliRunner()
    out = runner.invoke(app, ["import", "roster", str(bad), "--locality", "wuhe", "-q"])
    assert out.exit_code == 1 and "有问题 1" in out.output and "bad.csv.errors.csv" in out.output
    out = runner.invoke(app, ["import", "roster", str(tmp_path / "missing.csv"), "--locality", "wuhe", "-q"])
    assert out.exit_code == 2 and "找不到文件" in out.output
    out = runner.invoke(app, ["import", "payments", str(bad), "--year", "2024", "-q"])
    assert out.exit_code == 2 and "缺少必需的列" in out.output


def test_sample_xlsx_matches_the_csv(engine, tmp_path: Path, pinned_today: dt.date) -> None:  # noqa: ANN001
    """docs/samples/roster-sample.xlsx is the CSV sample saved by openpyxl (regenerate with
    YIBAO_WRITE_SAMPLES=1); both import to the same people."""
    from openpyxl import Workbook

    with open(SAMPLES / "roster-sample.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    for row in rows:
        ws.append(row)
    built = tmp_path / "roster-sample.xlsx"
    wb.save(built)
    if os.environ.get("YIBAO_WRITE_SAMPLES"):
        shutil.copy(built, SAMPLES / "roster-sample.xlsx")
    committed = SAMPLES / "roster-sample.xlsx"
    assert committed.exists(), "run with YIBAO_WRITE_SAMPLES=1 to create docs/samples/roster-sample.xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(committed, read_only=True).active
    assert [["" if c is None else c for c in r] for r in sheet.iter_rows(values_only=True)] == rows
    report = import_roster(committed, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (len(rows) - 1, 0)
