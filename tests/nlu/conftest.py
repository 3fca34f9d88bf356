"""NLU tests read dates without a year relative to a pinned today (2023-11-20, 五河's campaign)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot import clock

TODAY = dt.date(2023, 11, 20)


@pytest.fixture(autouse=True)
def _pinned_today() -> Iterator[None]:
    clock.set_today(TODAY)
    yield
    clock.set_today(None)
