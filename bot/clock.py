"""The one clock every module reads "today" from (settable via YIBAO_TODAY)."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """Today in Asia/Shanghai, or the date pinned by YIBAO_TODAY (YYYY-MM-DD)."""
    pinned = os.environ.get("YIBAO_TODAY")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(TZ).date()
