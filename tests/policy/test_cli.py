"""`yibao policy ...` through typer's CliRunner: one JSON object per --json call, clear errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot import clock
from bot.cli import app

runner = CliRunner()
PACKS_DIR = Path(__file__).resolve().parents[2] / "bot" / "policy" / "packs"


@pytest.fixture(autouse=True)
def _today():
    clock.set_today(None)
    yield
    clock.set_today(None)


def _json(*args: str) -> dict:
    result = runner.invoke(app, ["policy", *args, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one JSON object"
    return json.loads(lines[0])


def test_done_when_wuhe_dibao_pays_60() -> None:
    clock.set_today(dt.date(2023, 11, 20))
    data = _json("amount", "wuhe", "--category", "低保")
    assert data["personal"] == 60 and data["total"] == 1020 and data["subsidy"] == 320
    assert any(c["locator"] == "二（二）2" and "60" in c["quote"] for c in data["citations"])


def test_amount_outside_every_pack_says_so() -> None:
    clock.set_today(dt.date(2030, 1, 1))
    data = _json("amount", "wuhe", "--category", "dibao")
    assert data["personal"] == 60 and data["coverage_year"] == 2024 and "2030-01-01" in data["note"]


def test_amount_with_age_and_on() -> None:
    data = _json("amount", "tengzhou", "--birth-date", "1962-11-20", "--on", "2022-11-20")
    assert data["personal"] == 175


def test_deadline_migrant() -> None:
    data = _json("deadline", "wuhe", "--migrant", "--on", "2024-02-28")
    assert data["deadline"] == "2024-02-29" and data["days_left"] == 1 and data["extended"] is True


def test_benefit_start() -> None:
    data = _json("benefit-start", "wuhe", "--paid", "2024-03-15")
    assert data["benefit_start"] == "2024-09-01" and data["rule"] == "late_waiting_7th_month"
    data = _json("benefit-start", "wuhe", "--paid", "2024-04-08", "--newborn-birth", "2024-01-10")
    assert data["benefit_start"] == "2024-01-10"


def test_refusal_is_one_json_object() -> None:
    data = _json("deadline", "tengzhou", "--migrant", "--on", "2022-12-01")
    assert data["ok"] is False and data["refusal"] and "deadline" not in data


def test_list_and_show() -> None:
    assert {p["locality"] for p in _json("list")["packs"]} == {"wuhe", "taoyuan", "tengzhou", "tanghe"}
    assert _json("show", "tanghe")["pack"]["locality"]["division_code"] == "411328"
    result = runner.invoke(app, ["policy", "show", "tengzhou"])
    assert result.exit_code == 0 and "370481" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["amount", "wuhe", "--category", "乱写"], "不认识的类别"),
        (["amount", "nowhere"], "没有“nowhere”的政策包"),
        (["amount", "wuhe", "--on", "2023-13-01"], "YYYY-MM-DD"),
        (["amount", "wuhe", "--age", "60", "--birth-date", "1960-01-01"], "只能给一个"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], words: str) -> None:
    result = runner.invoke(app, ["policy", *args])
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


def test_check_valid_and_broken_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(PACKS_DIR / "wuhe-2024.yaml")])
    assert result.exit_code == 0 and "OK" in result.stdout

    data = yaml.safe_load((PACKS_DIR / "wuhe-2024.yaml").read_text("utf-8"))
    data["financing"]["personal"]["value"] = -1
    del data["dates"]["benefit"]
    broken = tmp_path / "wuhe-2024.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = runner.invoke(app, ["policy", "check", str(broken)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("wuhe-2024.yaml: financing.personal.value:") for line in lines)
    assert any(line.startswith("wuhe-2024.yaml: dates.benefit:") for line in lines)

    result = runner.invoke(app, ["policy", "check", str(broken), "--json"])
    data = json.loads(result.stdout)
    assert data["ok"] is False and len(data["errors"]) == 2


def test_check_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "none-2024.yaml")])
    assert result.exit_code == 1 and "none-2024.yaml: <file>: file not found" in result.output
