"""The delivery seam: what a channel (WeChat, SMS) implements so the outbox can send through it.

A `Delivery` sends one outbox row and says what happened, as an `Outcome`; `ChannelSender`
(scheduler.channels.sender) does everything else the same way for every channel: claiming, pacing,
quiet hours, re-checking a reminder right before sending, and the bookkeeping of each outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.registry.chats import Chat

SENT, BLOCKED, PAUSE, LATER, RETRY, FAILED = "sent", "blocked", "pause", "later", "retry", "failed"


@dataclass
class Row:
    """A claimed outbox row (detached from any session; `text`/`params` may be refreshed by recheck)."""

    id: int
    key: str
    channel: str
    address: str
    text: str
    params: dict[str, Any] | None
    attempts: int
    campaign_id: int | None
    chat_link_id: int | None
    household_id: int | None
    coverage_year: int | None

    @property
    def chat(self) -> Chat:
        return Chat(self.channel, self.address)


@dataclass(frozen=True)
class Outcome:
    """What became of one send.

    - SENT: accepted by the channel; the row is marked sent at once.
    - BLOCKED: the recipient cannot or will not receive (unfollowed, opted out): their reminders end.
    - PAUSE: the channel asked us to slow down: every sender of the channel waits `seconds`.
    - LATER: this recipient only, not now (a number's daily cap): the row waits until `until`.
    - RETRY: a transient error (network, server busy): retried with backoff.
    - FAILED: a permanent error (bad template, bad number): the row fails with `detail`.
    """

    kind: str
    detail: str = ""
    seconds: float = 0.0
    until: datetime | None = None  # naive UTC, for LATER

    @classmethod
    def sent(cls, detail: str = "") -> Outcome:
        return cls(SENT, detail)


class Delivery(Protocol):
    channel: str
    rate: float  # messages per second this channel allows us

    async def send(self, row: Row) -> Outcome: ...

    async def close(self) -> None: ...
