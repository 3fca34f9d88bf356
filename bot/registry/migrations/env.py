"""Alembic environment for the whole project's schema (registry 0001, scheduler 0002, ...).

Normally run through `bot.registry.db.ensure_schema(engine)`, which passes an open connection in
`config.attributes["connection"]` so the upgrade runs inside its transaction. The `alembic` CLI
works too: `alembic -c bot/registry/migrations/alembic.ini upgrade head` (URL from DATABASE_URL).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.registry.models  # noqa: F401  (tables for autogenerate comparisons)
import scheduler.models  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata
VERSION_TABLE = "alembic_version"


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.settings import get_settings

    return get_settings().database_url


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, version_table=VERSION_TABLE,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.registry.db import get_engine

    engine = get_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
