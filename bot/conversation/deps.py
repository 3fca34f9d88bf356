"""What the dialogue needs from outside itself: the database and the settings, and who is talking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from bot.registry.chats import Chat
from bot.settings import Settings, get_settings


@dataclass
class Deps:
    settings: Settings
    engine_: Engine | None = None
    # The registry's key for the chat: a Chat (channel + address); a Telegram chat id is accepted.
    chat: Chat | int | None = None

    def __post_init__(self) -> None:
        self.chat = Chat.of(self.chat)

    @cached_property
    def engine(self) -> Engine:
        if self.engine_ is not None:
            return self.engine_
        from bot.registry.db import open_db

        return open_db(self.settings)

    @classmethod
    def default(cls, chat: Chat | int | None = None) -> Deps:
        return cls(get_settings(), None, chat)
