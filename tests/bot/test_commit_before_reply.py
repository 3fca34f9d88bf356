"""Nothing is confirmed before it is stored, and one chat's reply in flight does not hold up another:
through the production dispatcher and the resident dialogue (no per-update session, no process lock)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.types import Chat, Message, Update, User
from sqlalchemy import Engine, func, select

from bot import clock
from bot.registry import db
from bot.registry.models import ChatProfile
from bot.settings import Settings
from handlers.middlewares import SORRY_TEXT

TOKEN = "123456:TEST-middleware"
ME = User(id=123456, is_bot=True, first_name="bot")


class RecordingSession(BaseSession):
    """A Bot API stand-in: records each call with whether the chat's place was committed at that moment;
    calls to a chat in `gates` wait for its event first (a slow round trip)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.calls: list[tuple[str, int | None, str | None, int]] = []
        self.gates: dict[int, asyncio.Event] = {}
        self._ids = itertools.count(1)

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        chat_id = getattr(method, "chat_id", None)
        if chat_id in self.gates:
            await self.gates[chat_id].wait()
        with db.read_scope(self.engine) as s:
            stored = s.execute(select(func.count()).select_from(ChatProfile)
                               .where(ChatProfile.address == str(chat_id), ChatProfile.locality_id.is_not(None))).scalar()
        self.calls.append((type(method).__name__, chat_id, getattr(method, "text", None), int(stored or 0)))
        if type(method).__name__ == "GetMe":
            return ME
        return Message(message_id=next(self._ids), date=clock.now(), chat=Chat(id=int(chat_id or 0), type="private"),
                       from_user=ME, text=getattr(method, "text", None))

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


def _update(chat_id: int, text: str, update_id: int) -> Update:
    return Update.model_validate({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1700000000, "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "居民"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "居民"},
    }})


@pytest.fixture()
def harness(tmp_path: Path) -> tuple[Dispatcher, Bot, RecordingSession, Engine]:
    from bot.app import build_dispatcher
    from handlers.resident import router

    url = f"sqlite:///{tmp_path / 'commit.db'}"
    engine = db.get_engine(url)
    db.prepare(engine)  # schema and the packs' localities
    dp = build_dispatcher(Settings(database_url=url, bot_token=TOKEN), engine=engine, flood_guard=False)
    session = RecordingSession(engine)
    yield dp, Bot(TOKEN, session=session), session, engine
    router._parent_router = None
    engine.dispose()


async def test_a_place_is_stored_before_it_is_confirmed(harness) -> None:  # noqa: ANN001
    dp, bot, rec, engine = harness
    await dp.feed_update(bot, _update(901, "我是五河县的", 1))
    sends = [c for c in rec.calls if c[0] == "SendMessage"]
    assert sends and "记住了" in sends[0][2]
    assert sends[0][3] == 1  # the chat's place was committed when the confirmation went out


async def test_a_failed_write_is_never_confirmed(harness, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    dp, bot, rec, engine = harness
    from bot.registry import profiles

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(profiles, "remember_place", broken)
    await dp.feed_update(bot, _update(902, "我是五河县的", 2))
    texts = [c[2] for c in rec.calls if c[0] == "SendMessage"]
    assert not any("记住了" in t for t in texts) and SORRY_TEXT in texts


async def test_one_chats_reply_in_flight_does_not_hold_up_another(harness) -> None:  # noqa: ANN001
    dp, bot, rec, engine = harness
    slow = asyncio.Event()
    rec.gates[903] = slow  # chat 903's replies hang in flight
    first = asyncio.create_task(dp.feed_update(bot, _update(903, "我是五河县的", 3)))
    await asyncio.sleep(0.2)  # let it reach its reply
    second = asyncio.create_task(dp.feed_update(bot, _update(904, "我是滕州的", 4)))
    try:
        # A lock around whole updates (the old session middleware) would never let this complete.
        await asyncio.wait_for(asyncio.shield(second), timeout=30)
    finally:
        slow.set()
    await first
    assert [c[3] for c in rec.calls if c[1] == 904 and c[0] == "SendMessage"][:1] == [1]
    assert [c[3] for c in rec.calls if c[1] == 903 and c[0] == "SendMessage"][:1] == [1]
