"""The chat's `ChatProfile` (created on first contact).

There is no staff middleware: staff rights belong to the Telegram user, and the staff and admin
handlers check the caller's post in the same short transaction that reads the data they show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlmodel import Session

from bot import clock
from bot.registry.models import ChatProfile


class ProfileMiddleware(BaseMiddleware):
    """Puts the chat's profile into handler data under `profile` (None without a chat or session)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: Session | None = data.get("session")
        chat = data.get("event_chat")  # set by aiogram's UserContextMiddleware
        data["profile"] = self.load(session, chat.id) if session is not None and chat is not None else None
        return await handler(event, data)

    @staticmethod
    def load(session: Session, chat_id: int) -> ChatProfile:
        """The profile, created on first contact, in a transaction of its own that ends here.

        Handlers write in their own short transactions (worker threads). If this read stayed open
        while they did, SQLite could not later turn it into the write of a new profile ("database is
        locked": its snapshot is older than their commit), and the handler's work would be followed
        by an apology. The session is opened with expire_on_commit=False, so `profile` stays usable.
        """
        profile = session.get(ChatProfile, chat_id)
        if profile is None:  # first contact
            profile = ChatProfile(chat_id=chat_id, updated_at=clock.now())
            session.add(profile)
        session.commit()
        return profile
