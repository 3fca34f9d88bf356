"""Schema: Alembic creates it, repeats are no-ops, the models match the migration, localities seed."""

from __future__ import annotations

from types import SimpleNamespace

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from bot.registry import db
from bot.registry.models import REGISTRY_TABLES, Area, Locality


def fake_pack(loc: str = "wuhe", level: str = "town", entries=(("城关镇", 100, 150), ("头铺镇", 50, None))):
    return SimpleNamespace(
        locality=SimpleNamespace(id=loc, name_zh="五河县", division_code="340322"),
        coverage_year=2024,
        task_table=SimpleNamespace(
            level=level,
            entries=[SimpleNamespace(name=n, aliases=[], target=t, registered_population=p) for n, t, p in entries],
        ),
    )


def test_fresh_database_is_at_head(engine):
    assert db.current_revisions(engine) == db.schema_heads()
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in REGISTRY_TABLES} <= tables
    assert db.VERSION_TABLE in tables


def test_ensure_schema_is_idempotent_and_keeps_data(engine):
    with Session(engine) as s:
        s.add(Locality(id="x", name_zh="某县", division_code="999999"))
        s.commit()
    db._migrated.discard(engine)  # force the real check, as a new process would
    db.ensure_schema(engine)
    db.ensure_schema(engine)
    with Session(engine) as s:
        assert s.get(Locality, "x").name_zh == "某县"
    assert db.current_revisions(engine) == db.schema_heads()


def _registry_diffs(conn) -> list:
    """Autogenerate's differences between the database and the models, for registry tables only."""
    names = {t.name for t in REGISTRY_TABLES}

    def table_of(diff) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        obj = item[1]
        if getattr(obj, "table", None) is not None:  # index, constraint
            return obj.table.name
        if hasattr(obj, "columns") and not isinstance(obj, str):  # table
            return obj.name
        return item[2]  # ('add_column'|'modify_*', schema, table, ...)

    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, SQLModel.metadata) if table_of(d) in names]


def test_models_match_migration(engine):
    with engine.connect() as conn:
        assert _registry_diffs(conn) == []
    # ...and the comparison does notice a difference (DDL rolled back: transactional on both).
    with engine.connect() as conn:
        trans = conn.begin()
        conn.exec_driver_sql("DROP INDEX ix_person_area")
        assert len(_registry_diffs(conn)) == 1
        trans.rollback()
    with engine.connect() as conn:
        assert _registry_diffs(conn) == []


def test_downgrade_and_upgrade_again(engine):
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), "base")
    assert not ({t.name for t in REGISTRY_TABLES} & set(inspect(engine).get_table_names()))
    db._migrated.discard(engine)
    db.ensure_schema(engine)
    assert db.current_revisions(engine) == db.schema_heads()


def test_open_db_creates_parent_dir_and_migrates(tmp_path, monkeypatch):
    from bot.settings import Settings

    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'fresh.db'}"
    engine = db.open_db(Settings(database_url=url))
    try:
        assert (tmp_path / "a" / "b" / "fresh.db").exists()
        assert db.current_revisions(engine) == db.schema_heads()
        assert db.open_db(Settings(database_url=url)) is engine
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db._open.pop(url, None)
        engine.dispose()


def test_seed_localities_idempotent(session):
    assert db.seed_localities(session, [fake_pack()]) == 3
    assert db.seed_localities(session, [fake_pack()]) == 0
    changed = fake_pack(entries=(("城关镇", 120, 150), ("头铺镇", 50, None), ("朱顶镇", 10, None)))
    assert db.seed_localities(session, [changed]) == 2
    session.commit()
    towns = {a.name: a for a in session.exec(select(Area).where(Area.locality_id == "wuhe"))}
    assert set(towns) == {"城关镇", "头铺镇", "朱顶镇"}
    assert towns["城关镇"].target == 120 and towns["城关镇"].registered_population == 150
    assert all(a.parent_id is None and a.level == "town" for a in towns.values())
    assert session.get(Locality, "wuhe").division_code == "340322"
