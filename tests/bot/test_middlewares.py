"""Update middlewares: settings and the engine reach handlers, errors are answered politely and logged masked."""

from __future__ import annotations

import io

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlmodel import Session

from bot.registry.db import ensure_schema, get_engine
from bot.registry.models import AuditLog
from bot.settings import Settings
from bot.terminal import TERMINAL_TOKEN, TerminalChat, TerminalSession
from handlers.middlewares import SORRY_TEXT, setup_middlewares


def _chat(tmp_path, router: Router) -> tuple[TerminalChat, io.StringIO, object]:
    engine = get_engine(f"sqlite:///{tmp_path}/m.db")
    ensure_schema(engine)
    dp = Dispatcher()
    dp["engine"] = engine
    setup_middlewares(dp, Settings(database_url=f"sqlite:///{tmp_path}/m.db"))
    dp.include_router(router)
    out = io.StringIO()
    session = TerminalSession(out, tmp_path)
    return TerminalChat(dp, Bot(TERMINAL_TOKEN, session=session), session, 4242), out, engine


async def test_handlers_get_settings_and_engine_and_write_in_their_own_transaction(tmp_path) -> None:
    from bot.registry.db import session_scope

    router = Router()
    seen = {}

    @router.message(Command("x"))
    async def x(message: Message, engine, settings) -> None:
        seen.update(engine=engine is not None, settings=settings is not None)
        with session_scope(engine) as s:
            s.add(AuditLog(chat_id=message.chat.id, actor="t", action="t", outcome="ok"))
        await message.answer("好")

    chat, out, engine = _chat(tmp_path, router)
    await chat.send("/x")
    assert seen == {"engine": True, "settings": True}
    with Session(engine) as s:
        assert len(list(s.exec(AuditLog.__table__.select()))) == 1
    assert "机器人：好" in out.getvalue()


async def test_error_is_logged_masked_rolled_back_and_answered(tmp_path, caplog) -> None:
    router = Router()

    @router.message(Command("boom"))
    async def boom(message: Message, engine) -> None:
        from bot.registry.db import session_scope

        with session_scope(engine) as session:
            session.add(AuditLog(chat_id=message.chat.id, actor="t", action="t", outcome="x"))
            session.flush()
            raise RuntimeError("bad 110101199003074477")

    chat, out, engine = _chat(tmp_path, router)
    await chat.send("/boom")
    assert SORRY_TEXT in out.getvalue()
    assert "110101199003074477" not in caplog.text and "update" in caplog.text
    with Session(engine) as s:
        assert list(s.exec(AuditLog.__table__.select())) == []
