"""Registry test fixtures: every `engine`/`session` test runs on SQLite and, when DATABASE_URL_PG is
set, on a throwaway PostgreSQL database created for this test session (dropped at the end)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from bot import clock
from bot.registry import db

TODAY = dt.date(2023, 11, 20)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    engine = db.get_engine(f"sqlite:///{path}")
    db.ensure_schema(engine)
    # A checkpoint cannot run inside a write transaction (every SQLAlchemy transaction not declared
    # read-only begins IMMEDIATE): ask for none.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database (dropped afterwards); skips without DATABASE_URL_PG."""
    base = os.environ.get("DATABASE_URL_PG")
    if not base:
        pytest.skip("DATABASE_URL_PG not set: PostgreSQL tests need a server (scripts/test.sh starts one)")
    with db.scratch_database(base, "yibao_test") as url:
        engine = db.get_engine(url)
        db.ensure_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session."""
    with fresh_pg_database() as url:
        yield url


def _truncate_pg(engine: Engine) -> None:
    names = [t for t in inspect(engine).get_table_names() if t != db.VERSION_TABLE]
    if names:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = db.get_engine(f"sqlite:///{path}")
        db.ensure_schema(eng)
        yield eng
        eng.dispose()
    else:
        eng = db.get_engine(request.getfixturevalue("pg_database"))
        db.ensure_schema(eng)
        _truncate_pg(eng)
        yield eng
        eng.dispose()


@pytest.fixture()
def pinned_today() -> Iterator[dt.date]:
    clock.set_today(TODAY)
    yield TODAY
    clock.set_today(None)


@pytest.fixture()
def session(engine: Engine, pinned_today: dt.date) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
