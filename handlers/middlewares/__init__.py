"""Update middlewares: error guard, flood guard, settings, database session, chat profile.

`setup_middlewares(dp, settings, engine)` installs them on `dp.update` as outer middlewares, so they
run once per update (after aiogram's own user-context and FSM middlewares) in this order:

    ErrorGuard -> FloodGuard -> settings -> session -> profile -> routers

The error guard is outermost so it sees exceptions after the session middleware has rolled back.
Handlers receive `settings`, `session`, `profile` (see docs/architecture.md). Staff rights are
checked by the staff handlers themselves, by Telegram user id (handlers/staff.py).
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from handlers.middlewares.db import DbSessionMiddleware
from handlers.middlewares.errors import SORRY_TEXT, ErrorGuardMiddleware
from handlers.middlewares.flood import FloodGuardMiddleware
from handlers.middlewares.profile import ProfileMiddleware
from handlers.middlewares.settings import SettingsMiddleware


def setup_middlewares(dp: Dispatcher, settings: Any, engine: Any, *, flood_guard: bool = True) -> None:
    dp.update.outer_middleware(ErrorGuardMiddleware())
    if flood_guard:
        dp.update.outer_middleware(FloodGuardMiddleware())
    dp.update.outer_middleware(SettingsMiddleware(settings))
    dp.update.outer_middleware(DbSessionMiddleware(engine))
    dp.update.outer_middleware(ProfileMiddleware())


__all__ = [
    "SORRY_TEXT",
    "DbSessionMiddleware",
    "ErrorGuardMiddleware",
    "FloodGuardMiddleware",
    "ProfileMiddleware",
    "SettingsMiddleware",
    "setup_middlewares",
]
