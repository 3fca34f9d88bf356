"""A cheap per-chat flood guard: a chat sending faster than a person can type is ignored for a while.

In-process only (each webhook process keeps its own buckets); the durable, cross-process limit on
ID lookups is `bot.registry.audit.lookup_allowed`, which the status handler calls.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

FLOOD_TEXT = "您发送得太快了，请稍等几秒再发。"


class FloodGuardMiddleware(BaseMiddleware):
    """Token bucket per chat: `burst` updates at once, refilled at `rate` per second. The first update
    over the limit gets one short notice; further ones are dropped silently until the bucket refills."""

    def __init__(self, rate: float = 1.0, burst: float = 30.0, max_chats: int = 100_000) -> None:
        self.rate, self.burst, self.max_chats = rate, burst, max_chats
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # chat -> (tokens, stamp, warned)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        now = time.monotonic()
        tokens, stamp, warned = self._buckets.get(chat.id, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            self._remember(chat.id, (tokens - 1.0, now, False))
            return await handler(event, data)
        self._remember(chat.id, (tokens, now, True))
        if not warned:
            bot = data.get("bot")
            if bot is not None:
                # A notice that cannot be sent is not worth an error.
                with contextlib.suppress(Exception):
                    await bot.send_message(chat.id, FLOOD_TEXT)
        return None

    def _remember(self, chat_id: int, value: tuple[float, float, bool]) -> None:
        if len(self._buckets) >= self.max_chats and chat_id not in self._buckets:
            self._buckets.clear()  # bounded memory; forgetting only makes the guard lenient
        self._buckets[chat_id] = value
