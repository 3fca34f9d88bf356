"""The one clock every module reads "today" and "now" from.

Set `YIBAO_TODAY=2023-11-20` (environment or `.env`) to pin the date for demos and tests;
the time of day stays real so rate limits and quiet hours still behave. Timezone: Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

_override: dt.date | None = None
_now_override: dt.datetime | None = None


def _pinned() -> dt.date | None:
    if _now_override is not None:
        return _now_override.astimezone(TZ).date()
    if _override is not None:
        return _override
    raw = os.environ.get("YIBAO_TODAY")
    if not raw:
        from bot.settings import get_settings

        raw = get_settings().yibao_today
    return dt.date.fromisoformat(raw) if raw else None


def set_today(day: dt.date | None) -> None:
    """Pin (or with None, unpin) today's date inside this process."""
    global _override
    _override = day


def set_now(instant: dt.datetime | None) -> None:
    """Pin (or with None, unpin) the full instant, for tests of quiet hours and schedules.

    A naive datetime is taken as Asia/Shanghai. Pinning the instant also pins today.
    """
    global _now_override
    if instant is not None and instant.tzinfo is None:
        instant = instant.replace(tzinfo=TZ)
    _now_override = instant


def now() -> dt.datetime:
    """Aware datetime in Asia/Shanghai; the date part follows the pinned day if any."""
    if _now_override is not None:
        return _now_override.astimezone(TZ)
    real = dt.datetime.now(TZ)
    pinned = _pinned()
    return real if pinned is None else real.replace(year=pinned.year, month=pinned.month, day=pinned.day)


def today() -> dt.date:
    """Today in Asia/Shanghai, or the pinned date."""
    pinned = _pinned()
    return pinned if pinned is not None else dt.datetime.now(TZ).date()
