"""Baseline for bench/bot_throughput.py: a bare aiogram echo bot, long polling TELEGRAM_API_BASE."""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main() -> None:
    bot = Bot(os.environ["BOT_TOKEN"],
              session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"])))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    await dp.start_polling(bot, polling_timeout=10, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
