"""The outbox sender's in-flight window: how many Bot API calls may be out whose outcome is not yet
committed.

A slot is taken right before a call and given back only by the commit that records the call's
outcome. So the window's size bounds how many messages a crash (kill -9, power loss) can leave
accepted by Telegram but still marked `sending`, each of which is re-sent after its lease: the
duplicates. Sending `rate` messages per second when one message takes `t` seconds from call to
commit needs `rate * t` slots; fewer caps the rate, more only adds duplicates. The window keeps
`ceil(SHARE * rate * t)` slots, `t` the median turnaround of the last few dozen sends (a median, so a
short stall does not widen the window): against the local fake Bot API (t under a millisecond) that
is one slot even at 1,000 msg/s, so a crash costs at most one duplicate; against Telegram itself (t of
100 ms or more) the window widens so that at least SHARE of the rate is kept. A machine too busy to
turn a send around within 1/(SHARE * rate) seconds gets a second slot rather than a lower rate.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque

SHARE = 0.8  # the window may hold the rate to 80 % of its target rather than add a slot
MAX_SIZE = 64
SAMPLES = 48  # turnarounds the median is taken over


class InFlightWindow:
    """Slots for sends whose outcome is not yet committed. `fixed` pins the size (tests, benchmarks)."""

    def __init__(self, rate: float, *, fixed: int | None = None, max_size: int = MAX_SIZE) -> None:
        self.rate = rate
        self.fixed = fixed
        self.max_size = max_size
        self.size = fixed or 1
        self.busy = 0
        self.turnaround: float | None = None  # seconds, median of the recent samples
        self._samples: deque[float] = deque(maxlen=SAMPLES)
        self._free = asyncio.Event()
        self._free.set()

    async def acquire(self) -> float:
        """Wait for a free slot; returns the monotonic time it was taken (give it to `release`)."""
        while self.busy >= self.size:
            self._free.clear()
            await self._free.wait()
        self.busy += 1
        return time.monotonic()

    def release(self, taken_at: float | None = None) -> None:
        """Give a slot back; `taken_at` (from acquire) feeds the turnaround average after a commit."""
        self.busy -= 1
        if taken_at is not None:
            self._samples.append(time.monotonic() - taken_at)
            self.turnaround = sorted(self._samples)[len(self._samples) // 2]
            self._resize()
        self._free.set()

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        self._resize()

    def _resize(self) -> None:
        if self.fixed is not None or self.turnaround is None:
            return
        self.size = max(1, min(self.max_size, math.ceil(SHARE * self.rate * self.turnaround)))
