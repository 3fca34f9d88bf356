"""One database session per update: committed after the handler, rolled back if it raised.

SQLite allows one writer per database, and its lock wait (busy_timeout) is a blocking call. If two
updates of this process ran concurrently, one could hold the write lock across an `await` (sending the
reply before the commit) while the other blocked the event loop waiting for that same lock: a
deadlock until the timeout. So on SQLite the updates' database work is serialized by an asyncio lock;
PostgreSQL sessions run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy import Engine
from sqlmodel import Session


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._lock if self._lock is not None else contextlib.nullcontext():
            # expire_on_commit=False: handlers may still read objects (the profile) after the commit.
            with Session(self.engine, expire_on_commit=False) as session:
                data["session"] = session
                try:
                    result = await handler(event, data)
                except BaseException:
                    session.rollback()
                    raise
                session.commit()
                return result
