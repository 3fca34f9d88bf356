"""The outbox sender: drains `outbox_message` to Telegram at a global rate, safely across processes.

Delivery is at-least-once, with the duplicate window made as small as we can:

1. claim: one atomic statement moves a small batch `pending -> sending` with `claimed_by`/`claimed_at`
   (PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so several senders never claim the same row;
   SQLite: the same `UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`, atomic because SQLite
   has one writer at a time);
2. send: one Bot API call per row, paced by a global token schedule and at most 1 msg/s per chat, with
   at most `in_flight` calls whose outcome is not yet committed;
3. mark: the row becomes `sent` only after Telegram accepted it, committed in the very next event-loop
   iteration after the response (responses that arrived in the same iteration share a commit). Only
   that commit gives the row's slot back, so the next message is taken from the rate schedule after
   the previous ones are recorded, never before.

A process killed between Telegram's acceptance and step 3 leaves a row in `sending`; once its lease
(`lease_seconds`) expires another sender re-sends it. Telegram offers no idempotency key and no way to
ask "did you get this?", so those rows are the one place a resident can get a message twice. Step 3
bounds them by the in-flight window (scheduler/window.py): as few unrecorded sends at a time as keep
the rate, which is one against the local fake Bot API even at 1,000 msg/s. (With up to 64 calls in
flight and a slot freed before its commit, a kill -9 at 1,000 msg/s used to cost 10-20 duplicates;
bench/outbox_crash.py and docs/performance.md.)

Errors: 429 pauses every sender until `retry_after` (a shared row, `leases.OUTBOX_PAUSE`); 5xx, network
errors and timeouts retry with exponential backoff (`attempts`, `not_before`) up to `max_attempts`;
403 (blocked, kicked, deactivated) ends the chat's reminder subscriptions and skips the row; any other
4xx fails the row with its error text. Quiet hours: nothing is claimed inside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, bindparam, text, update
from sqlmodel import Session

from bot import clock
from bot.registry.db import read_scope
from bot.settings import Settings, get_settings
from scheduler import leases
from scheduler.models import FAILED, PENDING, SENDING, SENT, SKIPPED, OutboxMessage
from scheduler.timeutil import after_quiet_hours, in_quiet_hours, utcnow
from scheduler.window import InFlightWindow

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: avoid more than one message per second to the same chat
FLUSH_RETRY_SECONDS = 0.5
MAX_CHAT_WAIT_SECONDS = 5.0  # a chat's later messages wait in memory this long at most, then go back to the queue
HEARTBEAT_SECONDS = 1.0
SENDER_TTL_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
ERROR_TEXT_LIMIT = 500

_CLAIM_COLUMNS = ("id, key, chat_id, kind, text, file_path, reply_markup, attempts, campaign_id, "
                  "chat_link_id, household_id, coverage_year")
PAUSE_CHECK_SECONDS = 0.5  # how often the shared 429 pause row is re-read (a local 429 pauses at once)
PACE_SLACK_SECONDS = 0.004  # sleep only when this far ahead: per-message 1 ms sleeps cost more than sends

# Marking `sent` is the hot write (once per event-loop iteration with responses): one cached Core
# statement run as executemany on a plain connection, not an ORM bulk update (5 ms per flush under load).
_MARK_SENT = text(
    "UPDATE outbox_message SET status = 'sent', sent_at = :now, last_error = NULL "
    "WHERE id = :id AND claimed_by = :me"
).bindparams(bindparam("now", type_=DateTime()))


@dataclass
class Claimed:
    """A claimed row, detached from any session."""

    id: int
    key: str
    chat_id: int
    kind: str
    text: str
    file_path: str | None
    reply_markup: Any
    attempts: int
    campaign_id: int | None
    chat_link_id: int | None
    household_id: int | None
    coverage_year: int | None


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    rate_limited: int = 0
    started: float = field(default_factory=time.monotonic)
    first_send: float | None = None
    last_send: float | None = None

    def rate(self) -> float:
        if self.first_send is None or self.last_send is None or self.last_send <= self.first_send:
            return 0.0
        return (self.sent - 1) / (self.last_send - self.first_send)


# A "recheck" is called with the claimed rows that carry a subscription/household guard, before
# sending; it returns {row id: reason} for rows that must be skipped, and may replace row.text.
Recheck = Callable[[Session, list[Claimed]], dict[int, str]]


def default_recheck(session: Session, rows: list[Claimed]) -> dict[int, str]:
    from scheduler.campaigns import recheck

    return recheck(session, rows)


def make_bot(settings: Settings) -> Any:
    """An aiogram Bot for the configured token and Bot API server (the fake one in tests)."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    if not settings.bot_token:
        raise SystemExit("缺少 BOT_TOKEN，无法发送提醒。BOT_TOKEN is not set; the sender cannot run.")
    session = (AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
               if settings.telegram_api_base else AiohttpSession())
    return Bot(settings.bot_token, session=session)


def _light_path_ok(bot: Any) -> bool:
    """Whether text messages may skip aiogram's models: a real aiogram Bot on its aiohttp session with
    no default properties (parse_mode, link previews, protect_content ...) that would change the request.
    Anything else (test doubles, custom sessions) goes through `bot.send_message` unchanged."""
    import dataclasses

    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession

    if type(bot) is not Bot or type(bot.session) is not AiohttpSession or bot.session.middleware._middlewares:
        return False
    default = bot.default
    return all(getattr(default, f.name) is None for f in dataclasses.fields(default))


def sender_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxSender:
    """Drains the outbox. `await run()` until `stop()`; `await run(until_empty=True)` to drain and return."""

    def __init__(
        self,
        engine: Engine,
        bot: Any,
        *,
        settings: Settings | None = None,
        rate: float | None = None,
        lease_seconds: float = 30.0,
        max_attempts: int = 8,
        request_timeout: float = 10.0,
        recheck: Recheck | None = default_recheck,
        name: str | None = None,
        progress_every: float = 5.0,
        in_flight: int | None = None,
    ) -> None:
        """`in_flight` pins the window of unrecorded sends (default: sized to the rate, see window.py)."""
        self.engine = engine
        self.bot = bot
        self.settings = settings or get_settings()
        self.paid = bool(self.settings.allow_paid_broadcast)
        self.total_rate = float(rate or (self.settings.paid_broadcast_rate_per_second if self.paid
                                         else self.settings.send_rate_per_second))
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.request_timeout = request_timeout
        self.recheck = recheck
        self.name = name or sender_id()
        self.progress_every = progress_every
        self.stats = SenderStats()
        self._rate = self.total_rate
        self.in_flight = in_flight
        self._stop = asyncio.Event()
        # Finished rows waiting for their commit: id, status, error, not_before, undo attempt, and when
        # the row took its in-flight slot (None: it holds none).
        self._done: list[tuple[int, str, str | None, datetime | None, bool, float | None]] = []
        self._flush_scheduled = False
        self.window: InFlightWindow | None = None
        self._inflight: set[asyncio.Task] = set()
        self._chat_last: dict[int, float] = {}
        self._next_at = 0.0
        self._pause_until_mono = 0.0
        self._last_heartbeat = 0.0
        self._last_pause_check = -PAUSE_CHECK_SECONDS
        self._last_progress = 0.0
        self._dialect = engine.dialect.name
        self._light = _light_path_ok(bot)

    # ---- public -------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    async def run(self, *, until_empty: bool = False, poll_interval: float = 0.5) -> SenderStats:
        self.window = InFlightWindow(self._rate, fixed=self.in_flight)
        log.info("outbox sender %s: %.0f msg/s%s, unrecorded sends at a time: %s", self.name, self.total_rate,
                 " (paid broadcast)" if self.paid else "", self.in_flight or "as few as the rate needs")
        try:
            while not self._stop.is_set():
                self._heartbeat()
                wait = self._must_wait()
                if wait > 0:
                    await self._sleep(min(wait, poll_interval * 4))
                    continue
                batch = self._claim(max(1, min(200, int(self._rate * 0.25) + 1)))
                if not batch:
                    await self._settle()
                    if until_empty and not self._inflight and self._nothing_left():
                        break
                    await self._sleep(poll_interval)
                    continue
                for row in batch:
                    if self._stop.is_set():
                        self._finish(row.id, PENDING, None, utcnow(), undo_attempt=True)  # not sent: hand back
                        continue
                    await self._dispatch(row)
                self._progress()
            await self._settle()
        finally:
            self._flush()
            self._sign_off()
        self._progress(force=True)
        return self.stats

    async def _dispatch(self, row: Claimed) -> None:
        """Send one claimed row when the rate schedule and a free slot allow."""
        now_m = time.monotonic()
        ready = max(now_m, self._chat_last.get(row.chat_id, -PER_CHAT_INTERVAL) + PER_CHAT_INTERVAL)
        if ready - now_m > MAX_CHAT_WAIT_SECONDS:
            # A chat with a backlog: hand the row back rather than hold it (and its lease) for long.
            self._finish(row.id, PENDING, None, utcnow() + timedelta(seconds=ready - now_m), undo_attempt=True)
            return
        self._chat_last[row.chat_id] = ready  # at most one message per second to a chat
        if ready > now_m:
            self._spawn(self._send_later(row, ready - now_m))  # waits without holding a slot
        elif (slot := await self._take_slot(row)) is not None:
            self._spawn(self._send(row, slot))

    async def _send_later(self, row: Claimed, wait: float) -> None:
        await self._sleep(wait)
        if self._stop.is_set():
            self._finish(row.id, PENDING, None, utcnow(), undo_attempt=True)
        elif (slot := await self._take_slot(row)) is not None:
            await self._send(row, slot)

    async def _take_slot(self, row: Claimed) -> float | None:
        """The row's turn in the rate schedule, then an in-flight slot (given back by the commit that
        records the row's outcome, see _flush); returns when the slot was taken. None when a 429 pause
        handed the row back instead."""
        assert self.window is not None
        await self._pace()
        if self._pause_until_mono > time.monotonic():
            self._finish(row.id, PENDING, "paused by 429", self._pause_not_before(), undo_attempt=True)
            return None
        return await self.window.acquire()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    # ---- claiming ------------------------------------------------------------------------------------

    def _claim(self, n: int) -> list[Claimed]:
        now = utcnow()
        stale = now - timedelta(seconds=self.lease_seconds)
        lock = " FOR UPDATE SKIP LOCKED" if self._dialect == "postgresql" else ""
        sql = text(
            f"UPDATE outbox_message SET status = 'sending', claimed_by = :me, claimed_at = :now, "
            f"attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox_message WHERE "
            f"channel = 'telegram' AND "  # issue 15: other channels have their own senders (scheduler.channels)
            f"((status = 'pending' AND not_before <= :now) OR (status = 'sending' AND claimed_at < :stale)) "
            f"AND (campaign_id IS NULL OR campaign_id NOT IN (SELECT id FROM campaign WHERE status = 'paused')) "
            f"ORDER BY not_before, id LIMIT :n{lock}) RETURNING {_CLAIM_COLUMNS}"
        ).bindparams(bindparam("now", type_=DateTime()), bindparam("stale", type_=DateTime()))
        with Session(self.engine) as session:
            rows = [Claimed(*r) for r in session.execute(sql, {"me": self.name, "now": now, "stale": stale, "n": n})]
            skip: dict[int, str] = {}
            guarded = [r for r in rows if r.chat_link_id is not None or r.household_id is not None]
            if guarded and self.recheck is not None:
                skip = self.recheck(session, guarded)
            if skip:
                self._mark(session, [(i, SKIPPED, reason, None, False) for i, reason in skip.items()], now)
                self.stats.skipped += len(skip)
            session.commit()
        rows.sort(key=lambda r: r.id)
        return [r for r in rows if r.id not in skip]

    def _nothing_left(self) -> bool:
        with read_scope(self.engine) as session:
            left = session.execute(text("SELECT count(*) FROM outbox_message WHERE channel = 'telegram' "
                                        "AND status IN ('pending', 'sending')"))
            return int(left.scalar_one()) == 0

    # ---- sending -------------------------------------------------------------------------------------

    async def _send(self, row: Claimed, slot: float) -> None:
        from aiogram.exceptions import (
            TelegramForbiddenError,
            TelegramNetworkError,
            TelegramRetryAfter,
            TelegramServerError,
        )

        try:
            await self._call(row)
        except TelegramRetryAfter as e:
            self.stats.rate_limited += 1
            self._on_429(float(e.retry_after))
            self._finish(row.id, PENDING, f"429 retry_after={e.retry_after}", self._pause_not_before(),
                         undo_attempt=True, slot=slot)
        except TelegramForbiddenError as e:
            self._deactivate(row.chat_id)
            self.stats.skipped += 1
            self._finish(row.id, SKIPPED, f"403 {e.message}", None, slot=slot)
        except (TelegramServerError, TelegramNetworkError, TimeoutError, OSError) as e:
            self._retry_later(row, f"{type(e).__name__}: {e}", slot)
        except asyncio.CancelledError:
            # Stopped mid-call: whether Telegram got it is unknown, so the row stays `sending` and is
            # re-sent after its lease, like after a crash. The slot is simply given back.
            if self.window is not None:
                self.window.release()
            raise
        except Exception as e:  # noqa: BLE001 - any other API answer (400, 404, bad file) fails the row
            self.stats.failed += 1
            self._finish(row.id, FAILED, f"{type(e).__name__}: {e}", None, slot=slot)
        else:
            now_m = time.monotonic()
            self.stats.sent += 1
            self.stats.first_send = self.stats.first_send or now_m
            self.stats.last_send = now_m
            self._finish(row.id, SENT, None, None, slot=slot)

    async def _call(self, row: Claimed) -> None:
        from aiogram.types import FSInputFile

        kw: dict[str, Any] = {"request_timeout": int(self.request_timeout)}
        if self.paid:
            kw["allow_paid_broadcast"] = True
        markup = row.reply_markup
        if isinstance(markup, str):
            import json

            markup = json.loads(markup)
        if markup:
            from aiogram.types import InlineKeyboardMarkup

            kw["reply_markup"] = InlineKeyboardMarkup.model_validate(markup)
        if row.kind == "text" and self._light and "reply_markup" not in kw:  # keyboards: aiogram's encoding
            await self._send_text_light(row, kw)
        elif row.kind == "text":
            await self.bot.send_message(row.chat_id, row.text, **kw)
        elif row.kind == "document":
            await self.bot.send_document(row.chat_id, FSInputFile(row.file_path), caption=row.text or None, **kw)
        elif row.kind == "photo":
            await self.bot.send_photo(row.chat_id, FSInputFile(row.file_path), caption=row.text or None, **kw)
        else:
            raise ValueError(f"unknown message kind {row.kind!r}")

    async def _send_text_light(self, row: Claimed, kw: dict[str, Any]) -> None:
        """sendMessage through the bot's own aiohttp session without building pydantic models on success.

        Profiling at 1,000 msg/s showed aiogram's per-call models (SendMessage in, Response[Message]
        out) as the largest CPU cost after the socket itself. The request is the form aiogram would
        post (same URL, same field encoding); a 2xx `{"ok": true}` answer is accepted as is; any other
        answer goes through aiogram's own `check_response`, so 429/403/400/5xx raise exactly the
        exceptions `bot.send_message` would, and timeouts/connection errors become the same
        TelegramNetworkError.
        """
        import aiohttp
        from aiogram.exceptions import TelegramNetworkError
        from aiogram.methods import SendMessage

        bot = self.bot
        session = bot.session
        http = await session.create_session()
        form: dict[str, str] = {"chat_id": str(row.chat_id), "text": row.text}
        if "allow_paid_broadcast" in kw:
            form["allow_paid_broadcast"] = "true"
        url = session.api.api_url(token=bot.token, method="sendMessage")
        try:
            async with http.post(url, data=form, timeout=aiohttp.ClientTimeout(total=kw["request_timeout"])) as resp:
                raw = await resp.text()
                status = resp.status
        except TimeoutError as e:
            raise TelegramNetworkError(method=self._method(SendMessage, row, kw),
                                       message="Request timeout error") from e
        except aiohttp.ClientError as e:
            raise TelegramNetworkError(method=self._method(SendMessage, row, kw),
                                       message=f"{type(e).__name__}: {e}") from e
        if 200 <= status <= 226:
            with contextlib.suppress(ValueError):
                if session.json_loads(raw).get("ok") is True:
                    return
        session.check_response(bot=bot, method=self._method(SendMessage, row, kw), status_code=status, content=raw)

    @staticmethod
    def _method(cls: Any, row: Claimed, kw: dict[str, Any]) -> Any:
        extra = {k: v for k, v in kw.items() if k != "request_timeout"}
        return cls(chat_id=row.chat_id, text=row.text, **extra)

    def _retry_later(self, row: Claimed, error: str, slot: float | None) -> None:
        if row.attempts >= self.max_attempts:
            self.stats.failed += 1
            self._finish(row.id, FAILED, f"gave up after {row.attempts} attempts: {error}", None, slot=slot)
            return
        self.stats.retried += 1
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (row.attempts - 1))
        self._finish(row.id, PENDING, error, utcnow() + timedelta(seconds=delay), slot=slot)

    def _on_429(self, retry_after: float) -> None:
        """Pause this sender now and every other sender through the shared row."""
        self._pause_until_mono = max(self._pause_until_mono, time.monotonic() + retry_after)
        until = utcnow() + timedelta(seconds=retry_after)
        log.warning("outbox: Telegram asked to wait %.0f s (429); all senders pause", retry_after)
        with Session(self.engine) as session:
            leases.extend_pause(session, until)
            session.commit()

    def _pause_not_before(self) -> datetime:
        return utcnow() + timedelta(seconds=max(0.0, self._pause_until_mono - time.monotonic()))

    def _deactivate(self, chat_id: int) -> None:
        """The user blocked the bot: end their reminder subscriptions (kept, with ended_at, for audit)."""
        from bot.registry.models import ChatLink

        now = clock.now()  # ChatLink keeps aware Asia/Shanghai timestamps
        with Session(self.engine) as session:
            session.execute(update(ChatLink).where(ChatLink.chat_id == chat_id, ChatLink.active)
                            .values(active=False, ended_at=now))
            session.commit()
        log.info("outbox: chat %s blocked the bot; its reminder subscriptions ended", chat_id)

    # ---- marking: the crash window is from Telegram's answer to this commit ---------------------------

    def _finish(self, row_id: int, status: str, error: str | None, not_before: datetime | None,
                undo_attempt: bool = False, slot: float | None = None) -> None:
        """Record a row's outcome in the next commit; `slot` (when the row took its in-flight slot): the
        commit gives that slot back."""
        self._done.append((row_id, status, error[:ERROR_TEXT_LIMIT] if error else None, not_before,
                           undo_attempt, slot))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            with self.engine.begin() as conn:
                self._mark(conn, done, utcnow())
        except Exception:  # noqa: BLE001 - keep the outcomes and the slots: send nothing we cannot record
            log.exception("outbox: could not record %d sends; retrying", len(done))
            self._done = done + self._done
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_later(FLUSH_RETRY_SECONDS, self._flush)
            return
        if self.window is not None:
            for d in done:
                if d[5] is not None:
                    self.window.release(d[5])

    def _mark(self, session: Session | Connection, done: list[tuple], now: datetime) -> None:
        sent = [{"id": d[0], "me": self.name, "now": now} for d in done if d[1] == SENT]
        if sent:
            session.execute(_MARK_SENT, sent)
        others = [d for d in done if d[1] != SENT]
        if others:
            stmt = (
                update(OutboxMessage.__table__)
                .where(OutboxMessage.__table__.c.id == bindparam("b_id"))
                .values(status=bindparam("b_status"), last_error=bindparam("b_error"),
                        not_before=bindparam("b_not_before"),
                        attempts=OutboxMessage.__table__.c.attempts - bindparam("b_undo"))
            )
            session.execute(stmt, [
                {"b_id": d[0], "b_status": d[1], "b_error": d[2], "b_not_before": d[3] or now,
                 "b_undo": 1 if d[4] else 0}
                for d in others
            ])

    # ---- pacing, pauses, heartbeats -------------------------------------------------------------------

    async def _pace(self) -> None:
        interval = 1.0 / self._rate
        now_m = time.monotonic()
        # Never bank more than a few intervals of idle time: a burst above the rate invites 429s.
        self._next_at = max(self._next_at, now_m - 2 * interval)
        # At high rates a sleep per message (1 ms at 1,000 msg/s) costs more loop time than the send;
        # run up to PACE_SLACK_SECONDS ahead of schedule instead (a handful of messages), which keeps
        # the average rate exact and the burst tiny.
        ahead = self._next_at - now_m
        if ahead > PACE_SLACK_SECONDS or (ahead > 0 and interval > PACE_SLACK_SECONDS):
            await asyncio.sleep(ahead)
        self._next_at += interval

    def _must_wait(self) -> float:
        """Seconds to wait before claiming: a shared 429 pause or the quiet hours."""
        now = utcnow()
        now_m = time.monotonic()
        local = self._pause_until_mono - now_m
        shared = 0.0
        # Another sender's 429 reaches us within PAUSE_CHECK_SECONDS; reading the row before every
        # claim (5 per second at 1,000 msg/s) bought nothing but commits.
        if now_m - self._last_pause_check >= PAUSE_CHECK_SECONDS:
            self._last_pause_check = now_m
            with read_scope(self.engine) as session:  # a read: no write lock every half second
                until = leases.paused_until(session, now)
            shared = (until - now).total_seconds() if until else 0.0
            if shared > local:
                self._pause_until_mono = now_m + shared
        wait = max(local, shared, 0.0)
        if wait == 0 and in_quiet_hours(now, self.settings.quiet_hours_start, self.settings.quiet_hours_end):
            end = after_quiet_hours(now, self.settings.quiet_hours_start, self.settings.quiet_hours_end)
            wait = max(1.0, (end - now).total_seconds())
        return wait

    def _heartbeat(self) -> None:
        now_m = time.monotonic()
        if now_m - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = now_m
        with Session(self.engine) as session:
            leases.acquire(session, leases.SENDER_PREFIX + self.name, self.name, SENDER_TTL_SECONDS)
            n = max(1, leases.live_senders(session))
            session.commit()
        rate = self.total_rate / n  # live senders split the global rate evenly
        if rate != self._rate:
            log.info("outbox sender %s: %d live senders, my share %.1f msg/s", self.name, n, rate)
            self._rate = rate
            if self.window is not None:
                self.window.set_rate(rate)

    def _sign_off(self) -> None:
        with Session(self.engine) as session:
            leases.release(session, leases.SENDER_PREFIX + self.name, self.name)
            session.commit()

    async def _settle(self) -> None:
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        self._flush()
        while self._done:  # a failed commit is being retried
            await asyncio.sleep(FLUSH_RETRY_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    def _progress(self, force: bool = False) -> None:
        now_m = time.monotonic()
        if not force and now_m - self._last_progress < self.progress_every:
            return
        self._last_progress = now_m
        s = self.stats
        w = self.window
        log.info("outbox sender %s: sent %d (%.1f msg/s), retried %d, 429s %d, skipped %d, failed %d; "
                 "in-flight window %s, turnaround %s ms", self.name, s.sent, s.rate(), s.retried, s.rate_limited,
                 s.skipped, s.failed, w.size if w else "-",
                 f"{w.turnaround * 1000:.2f}" if w and w.turnaround is not None else "-")


__all__ = ["Claimed", "OutboxSender", "SenderStats", "make_bot", "SENT", "SENDING", "FAILED", "SKIPPED"]
