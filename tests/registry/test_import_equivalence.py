"""The importers accept and refuse exactly the rows they did before the speed work (issue 13), with
the same reasons, counts and stored data, on generated files (tests/registry/data/generated.py) and
on the committed sample files.

The expected outcomes are frozen in `data/import_outcomes.json`, recorded with the importers of
commit aba6f67 (before any change of issue 13). Rewrite them only for a deliberate change of the
rules: `YIBAO_FREEZE_OUTCOMES=1 pytest tests/registry/test_import_equivalence.py` records the current
behaviour and skips.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.policy import get_pack
from bot.registry.importers import import_payments, import_roster
from bot.reports.cells import is_formula_like

from .data.builders import write_csv, write_xlsx
from .data.generated import generate

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
FROZEN = DATA / "import_outcomes.json"


def _towns(locality: str) -> list[str]:
    return [e.name for e in get_pack(locality).task_table.entries]


def _errors(path: Path) -> list[list[str]]:
    report = path.with_name(path.name + ".errors.csv")
    if not report.exists():
        return []
    with open(report, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    # The record predates the CSV-injection guard (issue 12), which writes `-350` as `'-350`.
    return [[c[1:] if c[:1] == "'" and is_formula_like(c[1:]) else c for c in row] for row in rows]


def _digest(engine: Engine) -> dict[str, str]:
    """A fingerprint of everything an import writes, independent of row ids and backend."""
    queries = {
        "people": "SELECT p.id_number, p.name, h.code, p.relation, a.name, p.phone, CAST(p.migrant AS INTEGER), p.birth_date "
        "FROM person p LEFT JOIN household h ON h.id = p.household_id LEFT JOIN area a ON a.id = p.area_id",
        "households": "SELECT h.code, a.name FROM household h LEFT JOIN area a ON a.id = h.area_id",
        "areas": "SELECT a.name, a.level, p.name FROM area a LEFT JOIN area p ON p.id = a.parent_id",
        "categories": "SELECT p.id_number, c.category, c.recognised_on FROM category_membership c "
        "JOIN person p ON p.id = c.person_id",
        "payments": "SELECT p.id_number, y.coverage_year, y.paid_on, y.amount, y.channel, y.source_file "
        "FROM payment y JOIN person p ON p.id = y.person_id",
    }
    out = {}
    with engine.connect() as conn:
        for key, sql in queries.items():
            rows = sorted(
                "|".join(_plain(v) for v in row) for row in conn.execute(text(sql)).all()
            )
            out[key] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    return out


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return f"{float(value):.2f}"  # SQLite gives 380 or 380.0 where PostgreSQL gives Decimal('380.00')
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    text_value = str(value)
    return text_value[:10] if len(text_value) >= 10 and text_value[4:5] == "-" and text_value[7:8] == "-" else text_value


def _outcome(report: Any, path: Path) -> dict[str, Any]:
    return {
        "file": path.name,
        "counts": [report.inserted, report.updated, report.unchanged, report.bad],
        "errors": _errors(path),
    }


def _case_generated_wuhe(engine: Engine, tmp: Path) -> list[dict[str, Any]]:
    files = generate("wuhe", _towns("wuhe"), 700, seed=1)
    roster = write_csv(tmp / "wuhe-roster.csv", files.roster_header, files.roster)
    pays = write_csv(tmp / "wuhe-payments.csv", files.payment_header, files.payments)
    return [
        _outcome(import_roster(roster, "wuhe", engine=engine, chunk_rows=300), roster),
        _outcome(import_roster(roster, "wuhe", engine=engine), roster),
        _outcome(import_payments(pays, 2024, engine=engine, chunk_rows=300), pays),
        _outcome(import_payments(pays, 2024, locality="wuhe", engine=engine), pays),
    ]


def _case_generated_tengzhou_xlsx(engine: Engine, tmp: Path) -> list[dict[str, Any]]:
    files = generate("tengzhou", _towns("tengzhou"), 600, seed=2)
    roster = write_xlsx(tmp / "tz-roster.xlsx", files.roster_header, files.roster, title="滕州市花名册")
    pays = write_csv(tmp / "tz-payments.csv", files.payment_header, files.payments, encoding="gb18030")
    return [
        _outcome(import_roster(roster, "tengzhou", engine=engine), roster),
        _outcome(import_payments(pays, 2023, engine=engine), pays),
    ]


def _case_generated_tanghe_gbk(engine: Engine, tmp: Path) -> list[dict[str, Any]]:
    files = generate("tanghe", _towns("tanghe"), 500, seed=3)
    roster = write_csv(tmp / "th-roster.csv", files.roster_header, files.roster, encoding="gbk")
    pays = write_xlsx(tmp / "th-payments.xlsx", files.payment_header, files.payments)
    return [
        _outcome(import_roster(roster, "tanghe", engine=engine, chunk_rows=200), roster),
        _outcome(import_payments(pays, 2023, engine=engine), pays),
    ]


def _case_committed_files(engine: Engine, tmp: Path) -> list[dict[str, Any]]:
    out = []
    for source, call in (
        (DATA / "roster-gbk.csv", lambda p: import_roster(p, "wuhe", engine=engine)),
        (SAMPLES / "roster-sample.csv", lambda p: import_roster(p, "wuhe", engine=engine)),
        (SAMPLES / "roster-sample.xlsx", lambda p: import_roster(p, "wuhe", engine=engine)),
        (SAMPLES / "payments-sample.csv", lambda p: import_payments(p, 2024, engine=engine)),
    ):
        copy = tmp / source.name
        copy.write_bytes(source.read_bytes())
        out.append(_outcome(call(copy), copy))
    return out


CASES = {
    "generated-wuhe": _case_generated_wuhe,
    "generated-tengzhou-xlsx": _case_generated_tengzhou_xlsx,
    "generated-tanghe-gbk": _case_generated_tanghe_gbk,
    "committed-files": _case_committed_files,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_outcomes_match_the_frozen_record(
    case: str, engine: Engine, tmp_path: Path, pinned_today: dt.date
) -> None:
    outcomes = CASES[case](engine, tmp_path)
    got = {"imports": outcomes, "database": _digest(engine)}
    frozen = json.loads(FROZEN.read_text("utf-8")) if FROZEN.exists() else {}
    if os.environ.get("YIBAO_FREEZE_OUTCOMES"):
        if engine.dialect.name != "sqlite":
            pytest.skip("outcomes are frozen from the SQLite run")
        frozen[case] = got
        FROZEN.write_text(json.dumps(frozen, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
        pytest.skip(f"froze the outcomes of {case}")
    assert case in frozen, f"no frozen outcome for {case}: run with YIBAO_FREEZE_OUTCOMES=1 on the old code"
    expected = frozen[case]
    for mine, theirs in zip(got["imports"], expected["imports"], strict=True):
        assert mine["file"] == theirs["file"]
        assert mine["errors"] == theirs["errors"], mine["file"]
        assert mine["counts"] == theirs["counts"], mine["file"]
    assert got["database"] == expected["database"]
