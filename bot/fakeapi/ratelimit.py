"""Token buckets the fake Bot API uses to answer 429 the way Telegram does above its limits."""

from __future__ import annotations

import math
import time


class TokenBucket:
    """`rate` tokens per second, holding at most `burst` (default: one second's worth, at least 1).

    `take()` returns 0.0 when a token was taken, else the seconds until one will be available
    (the caller answers 429 and nothing is consumed, like Telegram's flood control).
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        if now > self.stamp:  # a caller may pass an instant read just before this bucket existed
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """Telegram reports whole seconds, never 0."""
    return max(1, math.ceil(wait))
