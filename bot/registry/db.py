"""Database engines, schema migration and sessions.

Default storage is a SQLite file (``DATABASE_URL``, default ``sqlite:///var/yibao.db``) in WAL mode;
PostgreSQL is used when ``DATABASE_URL`` says so. Every ``yibao`` command gets its engine from
`open_db`, which migrates the schema (Alembic, programmatically) and seeds localities/areas from
the policy packs on first use, so a fresh ``DATABASE_URL`` just works.
"""

from __future__ import annotations

import logging
import threading
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

# SQLite tuned for a single-machine bot: WAL lets readers run while the importer writes,
# synchronous=NORMAL is durable across application crashes in WAL mode, busy_timeout waits
# for another process's write instead of failing at once.
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
        conn.exec_driver_sql("BEGIN")


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
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            current = set(ctx.get_current_heads())
            if current != heads:
                log.info("migrating database schema from %s to %s", sorted(current) or "empty", sorted(heads))
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


def seed_localities(session: Session, packs: Iterable[Any] | None = None) -> int:
    """Create/update each pack's locality and its task-table areas (top level, parent_id NULL).

    Idempotent: existing rows are matched by (locality, level, name) and only their target and
    registered population are refreshed. Returns the number of rows created or changed. Does not
    commit (the caller's session_scope does).
    """
    from bot.registry.models import Area, Locality

    changed = 0
    for pack in _newest_packs() if packs is None else packs:
        ident = pack.locality
        loc = session.get(Locality, ident.id)
        division = str(getattr(ident, "division_code", "") or "")
        if loc is None:
            session.add(Locality(id=ident.id, name_zh=ident.name_zh, division_code=division))
            session.flush()
            changed += 1
        elif (loc.name_zh, loc.division_code) != (ident.name_zh, division):
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
            if area is None:
                session.add(Area(locality_id=ident.id, level=level, name=entry.name, parent_id=None,
                                 target=target, registered_population=population))
                changed += 1
            elif (area.target, area.registered_population) != (target, population):
                area.target, area.registered_population = target, population
                session.add(area)
                changed += 1
    session.flush()
    return changed


_open: dict[str, Engine] = {}
_open_lock = threading.Lock()


def open_db(settings: Settings | None = None) -> Engine:
    """The engine every command and the bot use: created once per URL, schema migrated and
    localities seeded on first use."""
    url = (settings or get_settings()).database_url
    with _open_lock:
        engine = _open.get(url)
        if engine is not None:
            return engine
        engine = get_engine(url)
        ensure_schema(engine)
        with session_scope(engine) as session:
            seed_localities(session)
        _open[url] = engine
        return engine


def _engine_or_default(engine: Engine | None) -> Engine:
    return engine if engine is not None else open_db()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session committed on success and rolled back on error (default engine: `open_db()`)."""
    session = Session(_engine_or_default(engine), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def make_session(engine: Engine | None = None) -> Session:
    """A plain session for callers that manage commit/close themselves (e.g. bot middlewares)."""
    return Session(_engine_or_default(engine), expire_on_commit=False)
