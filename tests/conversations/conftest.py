from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runner import DEFAULT_TODAY, CoreChat  # noqa: E402
from world import build  # noqa: E402

from bot import clock  # noqa: E402
from bot.settings import Settings  # noqa: E402


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    engine, people = build(tmp_path / "conv.db", DEFAULT_TODAY)
    yield engine, people
    clock.set_today(None)
    engine.dispose()


@pytest.fixture()
def chat(world: tuple[Any, dict[str, str]]) -> Callable[..., CoreChat]:
    """A new resident chat with the dialogue core: chat(chat_id=..., private=...)."""
    from bot.conversation import Deps

    engine, _ = world
    settings = Settings(status_api_url=None, lookup_limit=5, lookup_window_seconds=600)
    counter = iter(range(5000, 10_000))

    def make(chat_id: int | None = None, *, private: bool = True) -> CoreChat:
        cid = chat_id if chat_id is not None else next(counter)
        return CoreChat(Deps(settings, engine, cid), cid, private=private)

    return make
