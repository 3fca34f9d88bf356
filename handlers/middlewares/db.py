"""The legacy per-update database session (`data["session"]`), kept until every handler does its
database work in worker threads with short transactions (docs/architecture.md, "Concurrency").

Two rules make it safe to run updates concurrently:

- Nothing is confirmed before it is stored: before any Bot API call made while the update runs
  (replies, deletions, callback answers), the update's session is committed. A failed commit raises
  instead of sending, so the error guard apologises instead of confirming.
- No transaction spans a Bot API call: the commit above ends it, and the update gives up this
  process's database lock for the round trip, taking it back afterwards. The HTTP round trips of the
  replies, most of an update's wall time, overlap freely.

The lock is still held across the update's *other* awaits, because the session's transaction can be
open there: aiogram (3.2x) runs every synchronous filter and handler in a worker thread
(`asyncio.to_thread`), and the resident and staff routers have such filters; the Redis FSM storage
and the county status service await too. Without the lock, on SQLite another update's BEGIN
IMMEDIATE would block the event loop on busy_timeout while the first update could not run to commit;
on PostgreSQL every suspended update would keep a pooled connection until the pool ran dry and the
event loop blocked on it (seen under the load test: 15 connections idle in transaction). So both
dialects take it.

What remains (the handlers' part, not this module's): the session's statements and commits are
blocking calls on the event loop; its transaction (BEGIN IMMEDIATE on SQLite, as every write scope)
spans the synchronous filters' thread hops; and on SQLite a BEGIN IMMEDIATE waits on the event loop
while another process writes (a roster import). Once handlers use `bot.registry.db` scopes in
`asyncio.to_thread` and the chat profile is no longer created here (ProfileMiddleware), this
middleware, ProfileMiddleware/StaffMiddleware's session use and the lock go together. Keeping the
legacy session beside handlers that write in threads is not safe on SQLite: an update holding the
lock and a write transaction waits for a worker thread while the worker threads wait for its write
lock (until busy_timeout).
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
    """One update's session and its hold on the process's database lock."""

    def __init__(self, session: Session, lock: asyncio.Lock) -> None:
        self.session, self.lock = session, lock
        self.holding = False
        self.closed = False

    async def hold(self) -> None:
        if not self.holding and not self.closed:
            await self.lock.acquire()
            self.holding = True

    def let_go(self) -> None:
        if self.holding:
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
        self._lock = asyncio.Lock()
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
