"""Update middlewares: error guard, flood guard, settings.

`setup_middlewares(dp, settings)` installs them on `dp.update` as outer middlewares, so they
run once per update (after aiogram's own user-context and FSM middlewares) in this order:

    ErrorGuard -> FloodGuard -> settings -> routers

The error guard is outermost so it sees every exception a handler raises.
Handlers receive `settings` (see docs/architecture.md); the dispatcher's workflow data adds `engine`.
There is no session per update: handlers run their database work in short transactions of their own
(`bot.registry.db.session_scope` in a worker thread), so none spans an await and updates of different
chats run concurrently. Staff rights are checked by the staff handlers themselves, by Telegram user id.
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from handlers.middlewares.errors import SORRY_TEXT, ErrorGuardMiddleware
from handlers.middlewares.flood import FloodGuardMiddleware
from handlers.middlewares.settings import SettingsMiddleware


def setup_middlewares(dp: Dispatcher, settings: Any, *, flood_guard: bool = True) -> None:
    dp.update.outer_middleware(ErrorGuardMiddleware())
    if flood_guard:
        dp.update.outer_middleware(FloodGuardMiddleware())
    dp.update.outer_middleware(SettingsMiddleware(settings))


__all__ = [
    "SORRY_TEXT",
    "ErrorGuardMiddleware",
    "FloodGuardMiddleware",
    "SettingsMiddleware",
    "setup_middlewares",
]
