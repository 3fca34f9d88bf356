"""Any exception in a handler: log it (ID numbers masked) and tell the user politely; never crash."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject, Update

log = logging.getLogger("handlers.errors")

SORRY_TEXT = "抱歉，出了点问题，请稍后再试。"


def _masked(text: str) -> str:
    from bot.registry.ids import mask_in_text

    return mask_in_text(text)


class ErrorGuardMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except Exception as exc:  # noqa: BLE001 - the whole point: one bad update must not stop the bot
            # The traceback is formatted and masked here, not passed as exc_info: exception texts
            # (SQL parameters, user input) may contain ID numbers the log filter would not see.
            update_id = getattr(event, "update_id", None)
            log.error("update %s failed: %s", update_id, _masked("".join(traceback.format_exception(exc))))
            await self._apologise(event, data)
            return None

    @staticmethod
    async def _apologise(event: TelegramObject, data: dict[str, Any]) -> None:
        bot = data.get("bot")
        chat = data.get("event_chat")
        if bot is None or chat is None:
            return
        try:
            if isinstance(event, Update) and isinstance(event.event, CallbackQuery):
                await event.event.answer()
            await bot.send_message(chat.id, SORRY_TEXT)
        except Exception as exc:  # noqa: BLE001 - Telegram may be the thing that failed
            log.warning("could not send the apology to a chat: %s", type(exc).__name__)
