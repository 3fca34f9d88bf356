"""Update middlewares: error guard, flood guard, settings, database session.

`setup_middlewares(dp, settings, engine)` installs them on `dp.update` as outer middlewares, so they
run once per update (after aiogram's own user-context and FSM middlewares) in this order:

    ErrorGuard -> FloodGuard -> settings -> session -> routers

The error guard is outermost so it sees exceptions after the session middleware has rolled back.
Handlers receive `settings` and `session` (see docs/architecture.md); the dispatcher's workflow data
adds `engine`. The resident dialogue keeps its place itself (bot.registry.profiles); staff rights are
checked by the staff handlers themselves, by Telegram user id (handlers/staff.py).
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from handlers.middlewares.db import DbSessionMiddleware
from handlers.middlewares.errors import SORRY_TEXT, ErrorGuardMiddleware
from handlers.middlewares.flood import FloodGuardMiddleware
from handlers.middlewares.settings import SettingsMiddleware


def setup_middlewares(dp: Dispatcher, settings: Any, engine: Any, *, flood_guard: bool = True) -> None:
    dp.update.outer_middleware(ErrorGuardMiddleware())
    if flood_guard:
        dp.update.outer_middleware(FloodGuardMiddleware())
    dp.update.outer_middleware(SettingsMiddleware(settings))
    dp.update.outer_middleware(DbSessionMiddleware(engine))


__all__ = [
    "SORRY_TEXT",
    "DbSessionMiddleware",
    "ErrorGuardMiddleware",
    "FloodGuardMiddleware",
    "SettingsMiddleware",
    "setup_middlewares",
]
