"""The outbox sender of one non-Telegram channel: claims that channel's rows and sends them through its
`Delivery`, with the same guarantees as the Telegram sender (scheduler.sender):

1. claim: one atomic statement moves a few `pending` rows of the channel to `sending` under this
   sender's name (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite has one writer), so two senders never
   claim one row; rows of a paused campaign are not claimed; nothing is claimed in quiet hours;
2. recheck: a reminder is re-checked right before sending (still subscribed, still unpaid; its text
   and template values recomputed), as for Telegram;
3. send, paced at the channel's rate, one at a time;
4. mark: the outcome is committed right after the channel answers (`sent` only once accepted).
   A process killed between the channel's acceptance and that commit leaves the row `sending`; after
   `lease_seconds` another sender sends it again: the only way a resident gets a reminder twice, as
   for Telegram (neither WeChat nor the SMS provider takes an idempotency key).

Blocked recipients end their subscriptions (WeChat) or are recorded as opted out (SMS); a channel's
rate limit pauses every sender of that channel through the lease row `outbox-pause:<channel>`.
Database work runs in worker threads (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Engine, bindparam, text
from sqlmodel import Session

from bot.settings import Settings, get_settings
from scheduler import leases
from scheduler.channels.base import BLOCKED, FAILED, LATER, PAUSE, RETRY, SENT, Delivery, Outcome, Row
from scheduler.sender import sender_id
from scheduler.timeutil import after_quiet_hours, in_quiet_hours, utcnow

log = logging.getLogger(__name__)

BATCH = 20
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
ERROR_TEXT_LIMIT = 500
PAUSE_PREFIX = "outbox-pause:"
PAUSE_HOLDER = "rate-limited"

_COLUMNS = ("id, key, channel, address, text, params, attempts, campaign_id, chat_link_id, household_id, "
            "coverage_year")

Recheck = Callable[[Session, list[Row]], dict[int, str]]


def default_recheck(session: Session, rows: list[Row]) -> dict[int, str]:
    from scheduler.campaigns import recheck

    return recheck(session, rows)


@dataclass
class ChannelStats:
    sent: int = 0
    blocked: int = 0
    paused: int = 0
    later: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (row key, outcome kind), for tests


class ChannelSender:
    def __init__(self, engine: Engine, delivery: Delivery, *, settings: Settings | None = None,
                 lease_seconds: float = 60.0, max_attempts: int = 8, recheck: Recheck | None = default_recheck,
                 name: str | None = None) -> None:
        self.engine, self.delivery = engine, delivery
        self.settings = settings or get_settings()
        self.channel = delivery.channel
        self.lease_seconds, self.max_attempts, self.recheck = lease_seconds, max_attempts, recheck
        self.name = name or f"{self.channel}:{sender_id()}"
        self.stats = ChannelStats()
        self._stop = asyncio.Event()
        self._next_at = 0.0
        self._dialect = engine.dialect.name

    def stop(self) -> None:
        self._stop.set()

    async def run(self, *, until_empty: bool = False, poll_interval: float = 0.5) -> ChannelStats:
        log.info("%s sender %s: %.1f msg/s", self.channel, self.name, self.delivery.rate)
        while not self._stop.is_set():
            wait = await asyncio.to_thread(self._must_wait)
            if wait > 0:
                await self._sleep(min(wait, poll_interval * 4))
                continue
            rows = await asyncio.to_thread(self._claim, BATCH)
            if not rows:
                if until_empty and await asyncio.to_thread(self._nothing_left):
                    break
                await self._sleep(poll_interval)
                continue
            for i, row in enumerate(rows):
                if self._stop.is_set() or await asyncio.to_thread(self._paused_for) > 0:
                    # Stopped or paused mid-batch: the rest go back untouched.
                    await asyncio.to_thread(self._give_back, rows[i:])
                    break
                await self._pace()
                try:
                    outcome = await self.delivery.send(row)
                except Exception as e:  # noqa: BLE001 - a delivery bug must not lose the row: retry it
                    log.exception("%s: delivery raised", self.channel)
                    outcome = Outcome(RETRY, f"{type(e).__name__}: {e}")
                await asyncio.to_thread(self._record, row, outcome)
        return self.stats

    # ---- claiming ----------------------------------------------------------------------------------

    def _claim(self, n: int) -> list[Row]:
        now = utcnow()
        stale = now - timedelta(seconds=self.lease_seconds)
        lock = " FOR UPDATE SKIP LOCKED" if self._dialect == "postgresql" else ""
        sql = text(
            "UPDATE outbox_message SET status = 'sending', claimed_by = :me, claimed_at = :now, "
            "attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox_message WHERE channel = :channel AND "
            "((status = 'pending' AND not_before <= :now) OR (status = 'sending' AND claimed_at < :stale)) "
            "AND (campaign_id IS NULL OR campaign_id NOT IN (SELECT id FROM campaign WHERE status = 'paused')) "
            f"ORDER BY not_before, id LIMIT :n{lock}) RETURNING {_COLUMNS}"
        ).bindparams(bindparam("now", type_=DateTime()), bindparam("stale", type_=DateTime()))
        with Session(self.engine) as session:
            rows = [self._row(r) for r in session.execute(
                sql, {"me": self.name, "now": now, "stale": stale, "n": n, "channel": self.channel})]
            skip: dict[int, str] = {}
            guarded = [r for r in rows if r.chat_link_id is not None or r.household_id is not None]
            if guarded and self.recheck is not None:
                skip = self.recheck(session, guarded)
            for row_id, reason in skip.items():
                self._set(session, row_id, "skipped", reason)
            self.stats.skipped += len(skip)
            session.commit()
        rows.sort(key=lambda r: r.id)
        return [r for r in rows if r.id not in skip]

    @staticmethod
    def _row(r: Any) -> Row:
        params = r.params
        if isinstance(params, str):  # SQLite hands JSON back as text through a textual statement
            params = json.loads(params)
        return Row(r.id, r.key, r.channel, r.address, r.text, params, r.attempts, r.campaign_id, r.chat_link_id,
                   r.household_id, r.coverage_year)

    def _nothing_left(self) -> bool:
        with Session(self.engine) as session:
            left = session.execute(text("SELECT count(*) FROM outbox_message WHERE channel = :c "
                                        "AND status IN ('pending', 'sending')"), {"c": self.channel})
            return int(left.scalar_one()) == 0

    # ---- bookkeeping -------------------------------------------------------------------------------

    def _set(self, session: Session, row_id: int, status: str, error: str | None, *, not_before: datetime | None = None,
             undo_attempt: bool = False, sent: bool = False) -> None:
        session.execute(
            text("UPDATE outbox_message SET status = :status, last_error = :error, "
                 "not_before = COALESCE(:not_before, not_before), attempts = attempts - :undo, "
                 "sent_at = CASE WHEN :sent THEN :now ELSE sent_at END "
                 "WHERE id = :id AND claimed_by = :me").bindparams(
                bindparam("not_before", type_=DateTime()), bindparam("now", type_=DateTime())),
            {"status": status, "error": error[:ERROR_TEXT_LIMIT] if error else None, "not_before": not_before,
             "undo": 1 if undo_attempt else 0, "sent": sent, "now": utcnow(), "id": row_id, "me": self.name})

    def _record(self, row: Row, outcome: Outcome) -> None:
        s = self.stats
        s.outcomes.append((row.key, outcome.kind))
        with Session(self.engine) as session:
            if outcome.kind == SENT:
                s.sent += 1
                self._set(session, row.id, "sent", None, sent=True)
            elif outcome.kind == BLOCKED:
                s.blocked += 1
                self._set(session, row.id, "skipped", f"blocked: {outcome.detail}")
            elif outcome.kind == PAUSE:
                s.paused += 1
                until = utcnow() + timedelta(seconds=outcome.seconds)
                leases.acquire(session, PAUSE_PREFIX + self.channel, PAUSE_HOLDER, outcome.seconds)
                self._set(session, row.id, "pending", f"paused: {outcome.detail}", not_before=until, undo_attempt=True)
                log.warning("%s: the channel asked to slow down (%s); all %s senders pause %.0f s",
                            self.channel, outcome.detail, self.channel, outcome.seconds)
            elif outcome.kind == LATER:
                s.later += 1
                self._set(session, row.id, "pending", f"later: {outcome.detail}", not_before=outcome.until,
                          undo_attempt=True)
            elif outcome.kind == RETRY and row.attempts < self.max_attempts:
                s.retried += 1
                delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (row.attempts - 1))
                self._set(session, row.id, "pending", outcome.detail, not_before=utcnow() + timedelta(seconds=delay))
            else:
                s.failed += 1
                detail = outcome.detail if outcome.kind == FAILED else f"gave up after {row.attempts} attempts: {outcome.detail}"
                self._set(session, row.id, "failed", detail)
            session.commit()
        if outcome.kind == BLOCKED:
            self._blocked(row)

    def _blocked(self, row: Row) -> None:
        """End what made us write to this recipient: their subscriptions, or (SMS) record the opt-out."""
        from bot.registry import optouts, subscriptions

        chat = row.chat
        ended = subscriptions.unsubscribe(chat, engine=self.engine)
        if chat.channel == "sms":
            optouts.opt_out(chat, "provider: opted out", engine=self.engine)
        log.info("%s: %s cannot be reached (blocked); %d subscriptions ended", self.channel, chat.masked(), ended)

    def _give_back(self, rows: list[Row]) -> None:
        with Session(self.engine) as session:
            for row in rows:
                self._set(session, row.id, "pending", None, undo_attempt=True)
            session.commit()

    # ---- pacing, pauses, quiet hours ---------------------------------------------------------------

    def _paused_for(self) -> float:
        now = utcnow()
        with Session(self.engine) as session:
            row = leases.holder_of(session, PAUSE_PREFIX + self.channel, now)
        return (row.expires_at - now).total_seconds() if row is not None else 0.0

    def _must_wait(self) -> float:
        wait = self._paused_for()
        now = utcnow()
        start, end = self.settings.quiet_hours_start, self.settings.quiet_hours_end
        if wait <= 0 and in_quiet_hours(now, start, end):
            wait = max(1.0, (after_quiet_hours(now, start, end) - now).total_seconds())
        return max(0.0, wait)

    async def _pace(self) -> None:
        interval = 1.0 / self.delivery.rate
        now_m = time.monotonic()
        self._next_at = max(self._next_at, now_m)
        if self._next_at > now_m:
            await asyncio.sleep(self._next_at - now_m)
        self._next_at += interval

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
