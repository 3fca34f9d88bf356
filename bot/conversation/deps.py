"""What the dialogue needs from outside itself: the database and the settings, and who is talking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from bot.settings import Settings, get_settings


@dataclass
class Deps:
    settings: Settings
    engine_: Engine | None = None
    chat_id: int | None = None  # the registry's key for the chat (Telegram chat id)

    @cached_property
    def engine(self) -> Engine:
        if self.engine_ is not None:
            return self.engine_
        from bot.registry.db import open_db

        return open_db(self.settings)

    @classmethod
    def default(cls, chat_id: int | None = None) -> Deps:
        return cls(get_settings(), None, chat_id)
