"""Database engines, schema migration and sessions.

Default storage is a SQLite file (``DATABASE_URL``, default ``sqlite:///var/yibao.db``) in WAL mode;
PostgreSQL is used when ``DATABASE_URL`` says so. Every ``yibao`` command gets its engine from
`open_db`, which migrates the schema (Alembic, programmatically) and seeds localities/areas from
the policy packs on first use, so a fresh ``DATABASE_URL`` just works.

Two scopes (docs/architecture.md, "Concurrency"): `session_scope()` for anything that may write
(on SQLite every transaction not declared read-only begins IMMEDIATE and waits for the write lock)
and `read_scope()` for reads (BEGIN DEFERRED, no write lock). Both are synchronous and short: async
code runs them in a worker thread (`asyncio.to_thread`), never across an `await`.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, select

from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_PG_MIGRATION_LOCK = 0x59_49_42_41_4F  # "YIBAO": one migrator at a time across processes
# Execution option marking a connection's transactions read-only (see read_scope).
READ_ONLY = "yibao_read_only"

# SQLite tuned for a single-machine bot: WAL lets readers run while the importer writes,
# synchronous=NORMAL is durable across application crashes in WAL mode, busy_timeout waits
# for another process's write instead of failing at once (for transactions that begin IMMEDIATE,
# see _install_sqlite_hooks).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the
        # module's legacy mode runs DDL outside any transaction, so a failed migration
        # could leave a half-built schema (SQLAlchemy docs, "Serializable isolation").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            if pragma.startswith("PRAGMA journal_mode") and not wal:
                continue
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that may write takes the write lock at BEGIN (IMMEDIATE), so a busy database
        # makes it wait busy_timeout. A deferred BEGIN that reads first and writes later cannot wait:
        # if another connection committed in between, SQLite answers "database is locked" at once
        # (SQLITE_BUSY_SNAPSHOT in WAL mode). Declared reads begin DEFERRED and take no write lock;
        # query_only makes a write slipped into one fail loudly instead of racing for the lock.
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # asked for no transaction at all (e.g. PRAGMA wal_checkpoint)
        read_only = bool(options.get(READ_ONLY, False))
        raw = conn.connection.driver_connection
        if raw.isolation_level is not None:  # SQLAlchemy's reset after an AUTOCOMMIT checkout restores ""
            raw.isolation_level = None
        info = conn.connection.info
        if info.get("query_only", False) != read_only:
            conn.exec_driver_sql(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
            info["query_only"] = read_only
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """A new engine for `url` (default: settings.database_url). SQLite files get their parent
    directory created and the pragmas above; ``sqlite://`` is one shared in-memory database."""
    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if in_memory:
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _install_sqlite_hooks(engine, wal=not in_memory)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def alembic_config(connection: Any = None) -> Config:
    """Programmatic Alembic config pointing at the packaged migrations directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def schema_heads() -> set[str]:
    return set(_script().get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_heads())


_migrated: weakref.WeakSet[Engine] = weakref.WeakSet()
_migrate_lock = threading.Lock()


def ensure_schema(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision (Alembic ``upgrade heads``).

    Idempotent and cheap on repeat: an engine already checked in this process returns at once;
    otherwise one query compares the stored revision with the scripts' heads before doing anything.
    The upgrade runs in one transaction (PostgreSQL under an advisory lock, so two processes starting
    together do not both migrate).
    """
    if engine in _migrated:
        return
    with _migrate_lock:
        if engine in _migrated:
            return
        heads = schema_heads()
        # The usual case (schema already current) is a read: it must not queue behind a long writer
        # such as a roster import, or every command would wait on start-up.
        with engine.connect().execution_options(**read_only_options(engine)) as conn, conn.begin():
            current = set(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                          .get_current_heads())
        if current != heads:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                current = set(ctx.get_current_heads())  # again, under the write lock: someone may have won
                if current != heads:
                    log.info("migrating database schema from %s to %s", sorted(current) or "empty",
                             sorted(heads))
                    command.upgrade(alembic_config(conn), "heads")
        _migrated.add(engine)


def _newest_packs() -> list[Any]:
    """The newest policy pack of each locality."""
    from bot.policy import all_packs

    newest: dict[str, Any] = {}
    for pack in all_packs():
        loc = pack.locality.id
        if loc not in newest or pack.coverage_year > newest[loc].coverage_year:
            newest[loc] = pack
    return list(newest.values())


def seed_localities(session: Session, packs: Iterable[Any] | None = None, *, dry_run: bool = False) -> int:
    """Create/update each pack's locality and its task-table areas (top level, parent_id NULL).

    Idempotent: existing rows are matched by (locality, level, name) and only their target and
    registered population are refreshed. Returns the number of rows created or changed. Does not
    commit (the caller's session_scope does). `dry_run` only counts (for a read-only session).
    """
    from bot.registry.models import Area, Locality

    changed = 0
    for pack in _newest_packs() if packs is None else packs:
        ident = pack.locality
        loc = session.get(Locality, ident.id)
        division = str(getattr(ident, "division_code", "") or "")
        if loc is None and dry_run:
            return changed + 1
        if loc is None:
            session.add(Locality(id=ident.id, name_zh=ident.name_zh, division_code=division))
            session.flush()
            changed += 1
        elif (loc.name_zh, loc.division_code) != (ident.name_zh, division):
            if dry_run:
                return changed + 1
            loc.name_zh, loc.division_code = ident.name_zh, division
            session.add(loc)
            changed += 1
        table = getattr(pack, "task_table", None)
        if table is None:
            continue
        level = str(table.level)
        existing = {
            a.name: a
            for a in session.exec(
                select(Area).where(Area.locality_id == ident.id, Area.parent_id.is_(None), Area.level == level)
            )
        }
        for entry in table.entries:
            target = getattr(entry, "target", None)
            population = getattr(entry, "registered_population", None)
            area = existing.get(entry.name)
            if dry_run and (area is None or (area.target, area.registered_population) != (target, population)):
                return changed + 1
            if area is None:
                session.add(Area(locality_id=ident.id, level=level, name=entry.name, parent_id=None,
                                 target=target, registered_population=population))
                changed += 1
            elif (area.target, area.registered_population) != (target, population):
                area.target, area.registered_population = target, population
                session.add(area)
                changed += 1
    if not dry_run:
        session.flush()
    return changed


_open: dict[str, Engine] = {}
_open_lock = threading.Lock()


def open_db(settings: Settings | None = None) -> Engine:
    """The engine every command and the bot use: created once per URL, schema migrated and
    localities seeded on first use (checked with a read; written only when something changed)."""
    url = (settings or get_settings()).database_url
    with _open_lock:
        engine = _open.get(url)
        if engine is not None:
            return engine
        engine = get_engine(url)
        prepare(engine)
        _open[url] = engine
        return engine


def prepare(engine: Engine) -> None:
    """Migrate the schema and seed the packs' localities, each only if needed: on a current database
    this is two reads, so start-up never queues behind another process's long write."""
    ensure_schema(engine)
    with read_scope(engine) as session:
        stale = seed_localities(session, dry_run=True) > 0
    if stale:
        with session_scope(engine) as session:
            seed_localities(session)


def _engine_or_default(engine: Engine | None) -> Engine:
    return engine if engine is not None else open_db()


def read_only_options(engine: Engine) -> dict[str, Any]:
    """Execution options that make a connection's transactions read-only (SQLite: BEGIN DEFERRED with
    query_only, so no write lock; PostgreSQL: a READ ONLY transaction)."""
    if engine.dialect.name == "postgresql":
        return {READ_ONLY: True, "postgresql_readonly": True}
    return {READ_ONLY: True}


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """The write scope: a session committed on success and rolled back on error (default engine:
    `open_db()`). On SQLite its transaction begins IMMEDIATE, so it waits for another writer
    (busy_timeout) instead of failing; keep it short and never hold it across an `await`."""
    session = Session(_engine_or_default(engine), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def single_statement(engine: Engine | None = None) -> Iterator[Any]:
    """A bare Core connection for ONE writing statement, which is atomic by itself. PostgreSQL runs it
    in autocommit (no BEGIN and COMMIT round trips); SQLite in a BEGIN IMMEDIATE transaction like
    `session_scope` (no round trips to save, and the lock is waited for, not failed). For hot paths,
    where an ORM session's bookkeeping would cost more than the SQL."""
    eng = _engine_or_default(engine)
    if eng.dialect.name == "postgresql":
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    else:
        with eng.begin() as conn:
            yield conn


@contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """The read scope: a session whose transactions only read (SQLite: BEGIN DEFERRED, no write lock,
    a write raises "attempt to write a readonly database"; PostgreSQL: READ ONLY). Nothing is
    committed; the snapshot ends when the block does."""
    eng = _engine_or_default(engine)
    session = Session(eng, expire_on_commit=False, execution_options=read_only_options(eng))
    try:
        yield session
    finally:
        session.close()


def make_session(engine: Engine | None = None, *, read_only: bool = False) -> Session:
    """A plain session for callers that manage commit/close themselves (e.g. bot middlewares).
    Like session_scope its transactions may write (BEGIN IMMEDIATE on SQLite) unless `read_only`."""
    eng = _engine_or_default(engine)
    return Session(eng, expire_on_commit=False, execution_options=read_only_options(eng) if read_only else {})


def insert_for(bind: Any) -> Any:
    """The dialect's INSERT, with ON CONFLICT, for a session, connection or engine: an upsert is one
    statement, so on SQLite it waits for the write lock instead of failing like a read-then-write."""
    from sqlalchemy.dialects import postgresql, sqlite

    engine = bind.get_bind() if hasattr(bind, "get_bind") else bind
    name = engine.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect {name!r}")


@contextmanager
def scratch_database(base_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on `base_url`'s server for a test or a benchmark; yields its URL
    and drops it afterwards (with any connections still open to it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = get_engine(base_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
