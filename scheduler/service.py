"""Scheduler service: placeholder with the interface `yibao run` uses until the scheduler lands."""

from __future__ import annotations

from typing import Any


class EmbeddedScheduler:
    """Runs the reminder jobs and outbox sender inside the bot process (`yibao run`)."""

    def __init__(self, settings: Any, bot: Any | None = None) -> None:
        self.settings = settings
        self.bot = bot

    async def start(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
