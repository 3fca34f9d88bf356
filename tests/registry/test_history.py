"""Enrolment history: derived from payments, completed by an imported file; shown by `yibao status`."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot import clock
from bot.cli import app
from bot.policy import engine as policy_engine
from bot.policy.engine import common
from bot.policy.loader import load_pack_file
from bot.registry import history, ids, lookup
from bot.registry.models import EnrolmentRecord, Payment
from bot.settings import get_settings

from . import world as w

FIXTURES = Path(__file__).resolve().parents[1] / "policy" / "fixtures"


@pytest.fixture()
def world(session):
    return w.build(session)


def _pay(session, person, year: int, day: dt.date) -> None:
    session.add(Payment(person_id=person.id, coverage_year=year, paid_on=day, amount=Decimal("350"),
                        channel="微信", source_file="test"))
    session.commit()


def test_history_from_payments_and_records() -> None:
    h = history.history_from_rows([2022, 2024], [(2019, True, True), (2020, False, None), (2023, True, False)])
    assert h.insured == {2019, 2022, 2023, 2024} and h.known_from == 2019 and h.zero_claim == {2019}
    s = history.summarize(h, 2024)
    assert (s.continuous_years, s.through, s.last_break) == (3, 2024, 2021)
    unpaid_now = history.summarize(h, 2025)
    assert (unpaid_now.continuous_years, unpaid_now.through) == (3, 2024)
    # a payment wins over an imported "not insured" for the same year
    assert 2020 in history.history_from_rows([2020], [(2020, False, None)]).insured
    nothing = history.summarize(history.history_from_rows([], []), 2024)
    assert nothing.continuous_years == 0 and nothing.through is None and nothing.last_break is None


def test_status_shows_continuous_years_from_payments(session, world) -> None:
    _pay(session, world.people["张伟"], 2022, dt.date(2021, 11, 1))
    _pay(session, world.people["张伟"], 2023, dt.date(2022, 11, 1))
    r = lookup.status(session, world.ids["张伟"], "张伟", w.YEAR)
    assert r.enrolled_years == (2022, 2023, 2024)
    assert (r.continuous_years, r.continuous_through, r.last_break) == (3, 2024, None)
    liu = lookup.status(session, world.ids["刘洋"], "刘洋", w.YEAR)  # paid 2023 only
    assert not liu.enrolled and (liu.continuous_years, liu.continuous_through) == (1, 2023)
    chen = lookup.status(session, world.ids["陈静"], "陈静", w.YEAR)
    assert (chen.continuous_years, chen.enrolled_years) == (0, ())
    assert r.to_json()["enrolled_years"] == [2022, 2023, 2024]


def _history_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = ["身份证号,姓名,参保年度,是否参保,险种,当年报销", *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_import_adds_years_and_reports_bad_rows(session, world, engine, tmp_path: Path) -> None:
    zhang = world.ids["张伟"]
    path = _history_csv(tmp_path / "history.csv", [
        [zhang, "张伟", "2021", "是", "职工", "无"],
        [zhang, "张伟", "2022", "是", "居民", "有"],
        [zhang, "张伟", "2023年度", "否", "", ""],
        [zhang, "李四", "2020", "是", "", ""],
        [ids.mask(zhang).replace("*", "0"), "张伟", "2020", "是", "", ""],
        [zhang, "张伟", "1899", "是", "", ""],
        [zhang, "张伟", "2020", "也许", "", ""],
        [zhang, "张伟", "2019", "是", "新农合", ""],
    ])
    report = history.import_history(path, engine=engine)
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (3, 0, 0, 5)
    errors = report.errors_path.read_text("utf-8-sig")
    for reason in ("姓名与花名册不一致", "参保年度应是", "是否参保应填", "险种应填"):
        assert reason in errors
    assert zhang not in errors  # ID numbers are masked in the report
    session.rollback()  # end the read snapshot so the import is visible
    r = lookup.status(session, zhang, "张伟", w.YEAR)
    assert r.enrolled_years == (2021, 2022, 2024) and r.last_break == 2023 and r.continuous_years == 1
    past = history.history_for(session, world.people["张伟"].id)
    assert past.zero_claim == {2021} and past.known_from == 2021
    session.rollback()  # a test session's transaction holds SQLite's write lock (IMMEDIATE): end it first

    again = history.import_history(_history_csv(tmp_path / "again.csv", [
        [zhang, "张伟", "2021", "是", "职工", "无"],
        [zhang, "张伟", "2023", "是", "居民", ""],
    ]), engine=engine)
    assert (again.inserted, again.updated, again.unchanged, again.bad) == (0, 1, 1, 0)
    assert again.errors_path is None and not (tmp_path / "again.csv.errors.csv").exists()
    session.rollback()  # end the read snapshot so the import is visible
    assert lookup.status(session, zhang, "张伟", w.YEAR).continuous_years == 4


def test_waiting_rules_decide_the_benefit_start_from_the_history(session, world, monkeypatch) -> None:
    """Where the pack has 2025 waiting rules, the status answer's benefit start comes from the person's
    history (wiring test: the fictional pack answers for 五河 here)."""
    pack = load_pack_file(FIXTURES / "fictional-2025.yaml", sources_dir=FIXTURES)
    monkeypatch.setattr(common, "select_pack", lambda loc, on: pack)
    monkeypatch.setattr("bot.policy.engine.continuity.select_pack", lambda loc, on: pack)
    history._has_waiting.cache_clear()
    try:
        chen = world.people["陈静"]
        for year in (2020, 2021, 2022):
            _pay(session, chen, year, dt.date(year - 1, 11, 1))
        _pay(session, chen, 2025, dt.date(2025, 3, 10))  # 2023 and 2024 missed
        r = lookup.status(session, world.ids["陈静"], "陈静", 2025)
        assert r.benefit_start == dt.date(2025, 7, 11) and r.benefit_rule == "waiting_4_months"
        assert r.last_break == 2024 and r.continuous_years == 1
        expected = policy_engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=2)
        assert expected.benefit_start == r.benefit_start
    finally:
        history._has_waiting.cache_clear()


@pytest.fixture()
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    clock.set_today(dt.date(2023, 11, 20))
    yield url
    clock.set_today(None)
    get_settings.cache_clear()


def test_cli_status_shows_continuous_years(cli_db: str, tmp_path: Path) -> None:
    from bot.registry import db

    eng = db.open_db()
    from sqlmodel import Session

    with Session(eng) as s:
        world = w.build(s)
        _pay(s, world.people["张伟"], 2023, dt.date(2022, 11, 1))
    runner = CliRunner()
    path = _history_csv(tmp_path / "h.csv", [[world.ids["张伟"], "张伟", "2021", "是", "", ""]])
    out = runner.invoke(app, ["history", "import", str(path)])
    assert out.exit_code == 0 and "新增 1" in out.output, out.output
    out = runner.invoke(app, ["status", world.ids["张伟"], "张伟", "--year", "2024"])
    assert out.exit_code == 0, out.output
    assert "连续参保：2 年（2023—2024 年度）" in out.output
    assert "有参保记录的年度：2021、2023—2024" in out.output and "最近一次断保：2022 年度" in out.output
    assert world.ids["张伟"] not in out.output
    bad = runner.invoke(app, ["history", "import", str(tmp_path / "nope.csv")])
    assert bad.exit_code == 2 and "找不到文件" in bad.output
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enrolment_history")).scalar() == 1
    assert os.environ["DATABASE_URL"] == cli_db


def test_model_matches_migration_0004(engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    def diffs(conn) -> list:  # noqa: ANN001
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        out = []
        for d in compare_metadata(ctx, SQLModel.metadata):
            item = d[0] if isinstance(d, list) else d
            obj = item[1]
            if getattr(obj, "table", None) is not None:  # index, constraint
                table = obj.table.name
            elif hasattr(obj, "columns") and not isinstance(obj, str):  # table
                table = obj.name
            else:  # ('add_column' | 'remove_column' | 'modify_*', schema, table, ...)
                table = item[2]
            if table == EnrolmentRecord.__tablename__:
                out.append(d)
        return out

    with engine.connect() as conn:
        assert diffs(conn) == []
    with engine.connect() as conn:  # ...and the comparison notices a difference (DDL rolled back)
        trans = conn.begin()
        conn.exec_driver_sql("ALTER TABLE enrolment_history ADD COLUMN extra_col INTEGER")
        assert len(diffs(conn)) == 1
        trans.rollback()
