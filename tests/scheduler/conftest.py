"""Fixtures for the scheduler tests: a migrated SQLite registry, the fake Bot API, pinned clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sched_helpers import DAYTIME, TOKEN
from sqlalchemy import Engine

from bot import clock
from bot.fakeapi import FakeBotAPI
from bot.registry import db
from bot.settings import Settings, get_settings  # noqa: I001


@pytest.fixture()
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'sched.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    eng = db.get_engine(url)
    db.ensure_schema(eng)
    with db.session_scope(eng) as session:
        db.seed_localities(session)
    clock.set_now(DAYTIME)
    yield eng
    clock.set_now(None)
    clock.set_today(None)
    eng.dispose()
    get_settings.cache_clear()


@pytest.fixture()
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture()
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Any]:
    from scheduler.sender import make_bot

    b = make_bot(Settings(bot_token=TOKEN, telegram_api_base=fake_api.base_url))
    yield b
    await b.session.close()
