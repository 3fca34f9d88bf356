"""The chat's `ChatProfile` (created on first contact) and its `Staff` post, if any."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlmodel import Session, select

from bot import clock
from bot.registry.models import ChatProfile, Staff


def _chat_id(data: dict[str, Any]) -> int | None:
    chat = data.get("event_chat")  # set by aiogram's UserContextMiddleware
    return chat.id if chat is not None else None


class ProfileMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: Session | None = data.get("session")
        chat_id = _chat_id(data)
        profile = None
        if session is not None and chat_id is not None:
            profile = session.get(ChatProfile, chat_id)
            if profile is None:
                profile = ChatProfile(chat_id=chat_id, updated_at=clock.now())
                session.add(profile)
        data["profile"] = profile
        return await handler(event, data)


class StaffMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: Session | None = data.get("session")
        chat_id = _chat_id(data)
        staff = None
        if session is not None and chat_id is not None:
            staff = session.exec(select(Staff).where(Staff.chat_id == chat_id)).first()
        data["staff"] = staff
        return await handler(event, data)
