"""Fixtures of the bot tests: a demo registry shared by the end-to-end tests."""

from __future__ import annotations

import pytest
from e2e_support import LOCALITIES, TODAY


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, list[tuple[str, str, bool]]]]:
    """A SQLite registry with small generated populations for every locality, and their samples."""
    from sqlmodel import Session

    from bot import clock
    from bot.registry import demo
    from bot.registry.db import open_db
    from bot.settings import Settings

    path = tmp_path_factory.mktemp("bot-e2e") / "yibao.db"
    url = f"sqlite:///{path}"
    clock.set_today(TODAY)
    try:
        engine = open_db(Settings(database_url=url))
        samples = {}
        for loc in LOCALITIES:
            with Session(engine, expire_on_commit=False) as s:
                samples[loc] = list(demo.generate(s, loc, scale=0.002, seed=1).samples)
                s.commit()
    finally:
        clock.set_today(None)
    return url, samples


