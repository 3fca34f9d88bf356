"""The per-update session: committed before any reply is sent, never held across a Bot API call, and on
SQLite no longer serialising whole updates (one update's reply in flight does not stop another)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.filters import Command
from aiogram.types import Chat, Message, Update, User
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot import clock
from bot.registry import db
from bot.registry.models import AuditLog, Staff
from bot.settings import Settings
from handlers.middlewares import SORRY_TEXT, setup_middlewares

TOKEN = "123456:TEST-middleware"
ME = User(id=123456, is_bot=True, first_name="bot")


class RecordingSession(BaseSession):
    """A Bot API stand-in: records each call with how many audit rows of that chat were committed at
    that moment; calls to a chat in `gates` wait for its event first (a slow round trip)."""

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
            stored = s.execute(select(func.count()).select_from(AuditLog).where(AuditLog.chat_id == chat_id)).scalar()
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
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }})


@pytest.fixture()
def harness(tmp_path: Path) -> tuple[Dispatcher, Bot, RecordingSession, Router, Engine]:
    url = f"sqlite:///{tmp_path / 'mw.db'}"
    engine = db.get_engine(url)
    db.prepare(engine)  # schema and the packs' localities
    dp = Dispatcher()
    setup_middlewares(dp, Settings(database_url=url), engine, flood_guard=False)
    router = Router()
    dp.include_router(router)
    session = RecordingSession(engine)
    yield dp, Bot(TOKEN, session=session), session, router, engine
    engine.dispose()


async def test_writes_are_committed_before_the_reply_is_sent(harness) -> None:  # noqa: ANN001
    dp, bot, rec, router, engine = harness

    @router.message(Command("save"))
    async def save(message: Message, session: Session) -> None:
        session.add(AuditLog(chat_id=message.chat.id, actor="resident", action="subscribe", outcome="ok"))
        await message.answer("好的，已订阅")
        session.add(AuditLog(chat_id=message.chat.id, actor="resident", action="after", outcome="ok"))

    await dp.feed_update(bot, _update(901, "/save", 1))
    assert rec.calls == [("SendMessage", 901, "好的，已订阅", 1)]  # the first row was stored before the reply
    with db.read_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(AuditLog)).scalar() == 2  # and the last one after


async def test_a_failed_commit_is_never_confirmed(harness) -> None:  # noqa: ANN001
    dp, bot, rec, router, engine = harness
    with db.session_scope(engine) as s:
        s.add(Staff(chat_id=902, role="village_cadre", locality_id="wuhe"))

    @router.message(Command("bind"))
    async def bind(message: Message, session: Session) -> None:
        session.add(Staff(chat_id=message.chat.id, role="village_cadre", locality_id="wuhe"))  # duplicate chat
        await message.answer("绑定成功")

    await dp.feed_update(bot, _update(902, "/bind", 2))
    texts = [c[2] for c in rec.calls if c[0] == "SendMessage"]
    assert "绑定成功" not in texts and SORRY_TEXT in texts


async def test_one_updates_reply_in_flight_does_not_hold_up_another(harness) -> None:  # noqa: ANN001
    dp, bot, rec, router, engine = harness

    @router.message(Command("q"))
    async def question(message: Message, session: Session) -> None:
        session.add(AuditLog(chat_id=message.chat.id, actor="resident", action="q", outcome="ok"))
        await message.answer("回答")
        session.add(AuditLog(chat_id=message.chat.id, actor="resident", action="q2", outcome="ok"))
        await message.answer("补充")

    slow = asyncio.Event()
    rec.gates[903] = slow  # chat 903's replies hang in flight
    first = asyncio.create_task(dp.feed_update(bot, _update(903, "/q", 3)))
    await asyncio.sleep(0)  # let it start and reach its reply
    second = asyncio.create_task(dp.feed_update(bot, _update(904, "/q", 4)))
    try:
        # With the whole update under the lock (the old middleware) this never completes.
        await asyncio.wait_for(asyncio.shield(second), timeout=30)
    finally:
        slow.set()
    await first
    assert [c[1:] for c in rec.calls if c[1] == 904] == [(904, "回答", 1), (904, "补充", 2)]
    assert [c[1:] for c in rec.calls if c[1] == 903] == [(903, "回答", 1), (903, "补充", 2)]
    with db.read_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(AuditLog)).scalar() == 4
