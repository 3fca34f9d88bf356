"""The two transaction scopes of bot.registry.db: writes wait for the lock instead of failing, reads take
no write lock and cannot write."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bot.registry import db


@pytest.fixture()
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'scopes.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES ('a', 1)")
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> dict[str, int]:
    with db.read_scope(engine) as s:
        return {k: v for k, v in s.execute(text("SELECT k, v FROM t"))}


def test_read_then_write_survives_another_connections_commit(sqlite_engine: Engine) -> None:
    """The failure of issue 11: a transaction reads, another connection commits, the first then writes.
    With a deferred BEGIN SQLite refuses the write at once ("database is locked"); a write scope
    begins IMMEDIATE, so the other writer waits for it instead and both writes land."""
    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with db.session_scope(sqlite_engine) as s:
                s.execute(text("INSERT INTO t VALUES ('b', 2)"))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)
        finally:
            other_done.set()

    with db.session_scope(sqlite_engine) as s:
        assert s.execute(text("SELECT v FROM t WHERE k = 'a'")).scalar_one() == 1
        worker = threading.Thread(target=other_writer)
        worker.start()
        # Give the other writer every chance to commit in between (it cannot: it waits for our lock).
        other_done.wait(timeout=1.0)
        s.execute(text("UPDATE t SET v = 10 WHERE k = 'a'"))
    worker.join()
    assert errors == []
    assert _rows(sqlite_engine) == {"a": 10, "b": 2}


def test_read_scope_takes_no_write_lock_and_sees_committed_data(sqlite_engine: Engine) -> None:
    with db.session_scope(sqlite_engine) as writer:
        writer.execute(text("UPDATE t SET v = 5 WHERE k = 'a'"))  # holds the write lock, uncommitted
        # A reader in the same thread would wait on busy_timeout (and fail) if it wanted the lock.
        assert _rows(sqlite_engine) == {"a": 1}
    assert _rows(sqlite_engine) == {"a": 5}


def test_a_write_inside_read_scope_fails_and_leaves_nothing(sqlite_engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="readonly"), db.read_scope(sqlite_engine) as s:
        s.execute(text("INSERT INTO t VALUES ('c', 3)"))
    # The pooled connection is writable again for the next write scope.
    with db.session_scope(sqlite_engine) as s:
        s.execute(text("INSERT INTO t VALUES ('d', 4)"))
    assert _rows(sqlite_engine) == {"a": 1, "d": 4}


def test_start_up_on_a_current_database_takes_no_write_lock(tmp_path: Path) -> None:
    """Every command starts with `open_db` (migrate, seed). With IMMEDIATE as the default that would
    queue behind a long writer such as a roster import; on a current database it must only read."""
    from sqlalchemy import event

    from bot.settings import Settings

    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    db.open_db(Settings(database_url=url))
    db._open.pop(url).dispose()
    holder = db.get_engine(url)
    engine = db.get_engine(url)

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_conn, _record) -> None:  # noqa: ANN001 - fail at once instead of waiting 10 s
        dbapi_conn.execute("PRAGMA busy_timeout = 0")

    try:
        with holder.begin() as conn:  # another process's write transaction, open throughout
            conn.exec_driver_sql("UPDATE locality SET name_zh = name_zh")
            db.prepare(engine)
            with db.read_scope(engine) as s:
                assert db.seed_localities(s, dry_run=True) == 0
    finally:
        engine.dispose()
        holder.dispose()


@pytest.mark.postgres
def test_postgresql_read_scope_is_read_only(pg_database: str) -> None:
    engine = db.get_engine(pg_database)
    try:
        with db.session_scope(engine) as s:
            s.execute(text("CREATE TABLE IF NOT EXISTS scope_probe (k TEXT PRIMARY KEY)"))
        with pytest.raises(DBAPIError, match="read-only"), db.read_scope(engine) as s:
            s.execute(text("INSERT INTO scope_probe VALUES ('x')"))
        with db.session_scope(engine) as s:
            s.execute(text("INSERT INTO scope_probe VALUES ('y')"))
        with db.read_scope(engine) as s:
            assert list(s.execute(text("SELECT k FROM scope_probe")).scalars()) == ["y"]
        with db.session_scope(engine) as s:
            s.execute(text("DROP TABLE scope_probe"))
    finally:
        engine.dispose()
