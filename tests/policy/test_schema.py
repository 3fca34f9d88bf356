"""Malformed packs fail with one clear line naming the file, the field and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.policy.loader import check_pack_file

PACKS_DIR = Path(__file__).resolve().parents[2] / "bot" / "policy" / "packs"


@pytest.fixture(scope="module")
def wuhe() -> dict[str, Any]:
    return yaml.safe_load((PACKS_DIR / "wuhe-2024.yaml").read_text("utf-8"))


def _check(tmp_path: Path, data: dict[str, Any], name: str = "wuhe-2024.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return check_pack_file(path)


def _one(errors: list[str], field: str, words: str) -> None:
    hits = [e for e in errors if e.startswith("wuhe-2024.yaml: ") and field in e and words in e]
    assert hits, f"no error naming {field!r} with {words!r}; got: {errors}"
    assert all("\n" not in e for e in errors)


def test_shipped_pack_is_valid(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    assert _check(tmp_path, wuhe) == []


def test_missing_field(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    del data["financing"]["personal"]
    _one(_check(tmp_path, data), "financing.personal", "Field required")


def test_wrong_type(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["financing"]["personal"]["value"] = "三百八"
    _one(_check(tmp_path, data), "financing.personal.value", "三百八")


def test_negative_amount(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["categories"][1]["help"]["subsidy"]["value"] = -320
    _one(_check(tmp_path, data), "categories[1].help.subsidy.value", "greater than or equal to 0")


def test_subsidy_above_contribution(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["categories"][1]["help"]["subsidy"]["value"] = 400
    _one(_check(tmp_path, data), "categories[1] (dibao)", "above the personal contribution 380")


def test_uncovered_waiting_must_be_quoted(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    """A pack may only say "not reimbursed during the wait" where its quote says 不予报销."""
    data = copy.deepcopy(wuhe)
    late = data["dates"]["late"]
    assert late["uncovered_in_waiting"] is True
    late["quote"] = late["quote"].split("，等待期内")[0] + "。"
    _one(_check(tmp_path, data), "dates.late", "不予报销")


def test_fixed_help_must_add_up(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["categories"][1]["help"]["personal"]["value"] = 70
    _one(_check(tmp_path, data), "categories[1] (dibao)", "!= the personal contribution 380")


def test_unknown_category(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["categories"][0]["code"] = "wubao_typo"
    _one(_check(tmp_path, data), "categories[0]", "unknown category code 'wubao_typo'")


def test_unknown_key_rejected(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["financing"]["personel"] = 1
    _one(_check(tmp_path, data), "financing.personel", "Extra inputs are not permitted")


def test_quote_not_in_source(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["categories"][1]["help"]["subsidy"]["quote"] = "对低保对象给予 330 元定额资助"
    _one(
        _check(tmp_path, data),
        "categories[1].help.subsidy.quote",
        "quote not found in 001_eed7a0ad29b0fb7e.txt",
    )


def test_split_must_add_up(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    data["financing"]["government_split"][2]["value"] = 65
    _one(_check(tmp_path, data), "financing", "government_split adds up to 641")


def test_task_table_typo_caught(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    data = copy.deepcopy(wuhe)
    del data["task_table"]["total_mismatch_note"]
    _one(_check(tmp_path, data), "task_table", "targets add up to 542469")


def test_file_name_must_match(tmp_path: Path, wuhe: dict[str, Any]) -> None:
    errors = _check(tmp_path, wuhe, "wuhe-2025.yaml")
    assert errors == [
        "wuhe-2025.yaml: <file>: file name should be wuhe-2024.yaml (locality id and coverage year)"
    ]


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "wuhe-2024.yaml"
    path.write_text("financing: {personal: [", "utf-8")
    [error] = check_pack_file(path)
    assert error.startswith("wuhe-2024.yaml: line ") and "not valid YAML" in error
