"""The legacy per-update database session (`data["session"]`), kept until every handler does its
database work in worker threads with short transactions (docs/architecture.md, "Concurrency").

Two rules make it safe to run updates concurrently:

- Nothing is confirmed before it is stored: before any Bot API call made while the update runs
  (replies, deletions, callback answers), the update's session is committed. A failed commit raises
  instead of sending, so the error guard apologises instead of confirming.
- No transaction spans a Bot API call: the commit above ends it. On SQLite the update also holds this
  process's database lock only while it runs Python code between Bot API calls, and gives it up during
  every call. That lock is what keeps a transaction held across any *other* await (Redis FSM storage,
  the county status service) from meeting another update's BEGIN IMMEDIATE, which would block the
  event loop on busy_timeout while the first update cannot run to release it. The HTTP round trips of
  the replies, most of an update's wall time, overlap freely; PostgreSQL takes no lock at all.

What remains (the handlers' part, not this module's): the session's statements and commits are
blocking calls on the event loop. They are short, but on SQLite a BEGIN IMMEDIATE waits on the event
loop while another process writes (a roster import). Once handlers use `bot.registry.db` scopes in
`asyncio.to_thread`, this middleware and its lock can go.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.types import TelegramObject
from sqlalchemy import Engine
from sqlmodel import Session


class UpdateTransaction:
    """One update's session and its hold on the process's SQLite lock (None on PostgreSQL)."""

    def __init__(self, session: Session, lock: asyncio.Lock | None) -> None:
        self.session, self.lock = session, lock
        self.holding = False
        self.closed = False

    async def hold(self) -> None:
        if self.lock is not None and not self.holding and not self.closed:
            await self.lock.acquire()
            self.holding = True

    def let_go(self) -> None:
        if self.lock is not None and self.holding:
            self.holding = False
            self.lock.release()

    def commit(self) -> None:
        if not self.closed and self.session.in_transaction():
            self.session.commit()

    def close(self) -> None:
        self.closed = True
        self.session.close()
        self.let_go()


_current: ContextVar[UpdateTransaction | None] = ContextVar("yibao_update_transaction", default=None)


class CommitBeforeSending(BaseRequestMiddleware):
    """A Bot API request middleware: commit the running update's writes, let go of the lock for the
    round trip, take it back afterwards. Requests made outside an update pass straight through."""

    async def __call__(self, make_request: NextRequestMiddlewareType, bot: Any, method: Any) -> Any:
        tx = _current.get()
        if tx is None or tx.closed:
            return await make_request(bot, method)
        tx.commit()
        tx.let_go()
        try:
            return await make_request(bot, method)
        finally:
            await tx.hold()


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._bots: weakref.WeakSet[Any] = weakref.WeakSet()

    def _watch(self, bot: Any) -> None:
        """Install CommitBeforeSending on the bot's session, once per bot."""
        if bot is None or bot in self._bots:
            return
        manager = getattr(getattr(bot, "session", None), "middleware", None)
        if manager is None:
            return
        if not any(isinstance(m, CommitBeforeSending) for m in manager):
            manager(CommitBeforeSending())
        self._bots.add(bot)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._watch(data.get("bot"))
        # expire_on_commit=False: handlers keep using objects (the profile) across the commits.
        tx = UpdateTransaction(Session(self.engine, expire_on_commit=False), self._lock)
        await tx.hold()
        token = _current.set(tx)
        data["session"] = tx.session
        try:
            result = await handler(event, data)
            tx.commit()
            return result
        except BaseException:
            tx.session.rollback()
            raise
        finally:
            _current.reset(token)
            tx.close()


__all__ = ["CommitBeforeSending", "DbSessionMiddleware", "UpdateTransaction"]
