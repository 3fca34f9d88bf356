"""One database session per update: committed after the handler, rolled back if it raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy import Engine
from sqlmodel import Session


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
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
