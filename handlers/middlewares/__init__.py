"""Update middlewares: error guard, flood guard, settings, database session, chat profile, staff.

`setup_middlewares(dp, settings, engine)` installs them on `dp.update` as outer middlewares, so they
run once per update (after aiogram's own user-context and FSM middlewares) in this order:

    ErrorGuard -> FloodGuard -> settings -> session -> staff -> routers

The error guard is outermost so it sees exceptions after the session middleware has rolled back.
Handlers receive `settings`, `session`, `staff` (see docs/architecture.md); the dispatcher's workflow
data adds `engine`. The resident dialogue keeps its place itself (bot.registry.profiles).
"""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from handlers.middlewares.db import DbSessionMiddleware
from handlers.middlewares.errors import SORRY_TEXT, ErrorGuardMiddleware
from handlers.middlewares.flood import FloodGuardMiddleware
from handlers.middlewares.profile import StaffMiddleware
from handlers.middlewares.settings import SettingsMiddleware


def setup_middlewares(dp: Dispatcher, settings: Any, engine: Any, *, flood_guard: bool = True) -> None:
    dp.update.outer_middleware(ErrorGuardMiddleware())
    if flood_guard:
        dp.update.outer_middleware(FloodGuardMiddleware())
    dp.update.outer_middleware(SettingsMiddleware(settings))
    dp.update.outer_middleware(DbSessionMiddleware(engine))
    dp.update.outer_middleware(StaffMiddleware())


__all__ = [
    "SORRY_TEXT",
    "DbSessionMiddleware",
    "ErrorGuardMiddleware",
    "FloodGuardMiddleware",
    "SettingsMiddleware",
    "StaffMiddleware",
    "setup_middlewares",
]
