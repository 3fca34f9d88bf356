"""The chat's `Staff` post, if any."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlmodel import Session, select

from bot.registry.models import Staff


def _chat_id(data: dict[str, Any]) -> int | None:
    chat = data.get("event_chat")  # set by aiogram's UserContextMiddleware
    return chat.id if chat is not None else None


class _ChatRowMiddleware(BaseMiddleware):
    """Puts one row keyed by the update's chat into handler data under `key` (None without a chat)."""

    key: str

    def load(self, session: Session, chat_id: int) -> Any:
        raise NotImplementedError

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: Session | None = data.get("session")
        chat_id = _chat_id(data)
        data[self.key] = self.load(session, chat_id) if session is not None and chat_id is not None else None
        return await handler(event, data)


class StaffMiddleware(_ChatRowMiddleware):
    key = "staff"

    def load(self, session: Session, chat_id: int) -> Staff | None:
        return session.exec(select(Staff).where(Staff.chat_id == chat_id)).first()
