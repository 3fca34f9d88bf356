"""Helpers shared by the scheduler tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import clock
from bot.fakeapi import FakeBotAPI
from bot.settings import Settings

# 10:00 on a day in Wuhe's collection period: outside the quiet hours.
DAYTIME = datetime(2023, 12, 24, 10, 0, tzinfo=clock.TZ)
TOKEN = "123456:TEST-token"


def delivered(api: FakeBotAPI) -> list[Any]:
    """Messages the fake API accepted (200), in order."""
    return [c for c in api.sent if c.ok and c.method in ("sendMessage", "sendDocument", "sendPhoto")]


def settings(**kw: Any) -> Settings:
    base = dict(bot_token=TOKEN, send_rate_per_second=200.0)
    base.update(kw)
    return Settings(**base)
