"""The scheduler service: APScheduler 3 with its jobs in the project database, plus the outbox sender,
under a single-scheduler lease.

`yibao run` embeds it (`EmbeddedScheduler(settings, bot).start()/shutdown()`); `yibao scheduler` runs
it as its own process. Only one scheduler may run per database: the `scheduler` lease row is taken
atomically and renewed by a heartbeat; a second scheduler gets `SchedulerLocked` (one line, Chinese
and English). The embedded one then runs the bot without a scheduler; `yibao scheduler` exits 2.

Nothing here blocks the event loop it is started from (the bot's, in `yibao run`): APScheduler runs as
a BackgroundScheduler in its own thread, with its job store queries and the jobs in its threads; the
sender has its own thread and event loop; every database call made from the loop (lease, start-up,
shutdown) goes through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot import clock
from scheduler import leases
from scheduler.sender import OutboxSender, make_bot, sender_id

log = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 30.0
HEARTBEAT_SECONDS = 10.0


class SchedulerLocked(RuntimeError):
    """Another scheduler holds the lease on this database."""

    def __init__(self, holder: str | None) -> None:
        self.holder = holder
        super().__init__(
            f"另一个调度器正在使用此数据库（{holder}），本进程不再启动调度器。"
            f" Another scheduler is already running on this database ({holder}); not starting a second one."
        )


class SchedulerLock:
    """The `scheduler` lease: acquire once, renew on a heartbeat, release on shutdown."""

    def __init__(self, engine: Engine, holder: str | None = None, ttl: float = LOCK_TTL_SECONDS) -> None:
        self.engine, self.holder, self.ttl = engine, holder or sender_id(), ttl

    def acquire(self) -> None:
        with Session(self.engine) as session:
            ok = leases.acquire(session, leases.SCHEDULER_LOCK, self.holder, self.ttl)
            session.commit()
            if not ok:
                current = leases.holder_of(session, leases.SCHEDULER_LOCK)
                raise SchedulerLocked(current.holder if current else "?")

    def renew(self) -> bool:
        with Session(self.engine) as session:
            ok = leases.acquire(session, leases.SCHEDULER_LOCK, self.holder, self.ttl)
            session.commit()
        return ok

    def release(self) -> None:
        with Session(self.engine) as session:
            leases.release(session, leases.SCHEDULER_LOCK, self.holder)
            session.commit()


def _localities() -> list[str]:
    from bot.policy import all_packs

    return sorted({p.locality.id for p in all_packs()})


class EmbeddedScheduler:
    """Runs the reminder jobs and the outbox sender inside an asyncio program."""

    def __init__(self, settings: Any, bot: Any | None = None, *, engine: Engine | None = None,
                 with_sender: bool = True, localities: list[str] | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self.engine = engine
        self.with_sender = with_sender
        self.localities = localities
        self.scheduler: Any = None
        self.sender: OutboxSender | None = None
        self.lock: SchedulerLock | None = None
        self._tasks: list[asyncio.Task] = []
        self._sender_thread: threading.Thread | None = None
        self._sender_loop: asyncio.AbstractEventLoop | None = None
        self._channels: Any = None  # WeChat and SMS senders (scheduler.channels.runner)
        self.running = False

    async def start(self, *, raise_if_locked: bool = False) -> None:
        try:
            await asyncio.to_thread(self._start_blocking)
        except SchedulerLocked as e:
            if raise_if_locked:
                raise
            log.warning("%s", e)
            return
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="scheduler-heartbeat"))
        if self.with_sender:
            if self.settings.bot_token:
                await asyncio.to_thread(self._start_sender_thread)
                self._tasks.append(asyncio.create_task(self._watch_sender(), name="outbox-sender"))
            else:
                log.warning("no BOT_TOKEN: reminders are queued but not sent by this process")
            await self._start_channels()
        self.running = True

    def _start_blocking(self) -> None:
        """Schema, lease, job store and jobs: all database work, run in a worker thread."""
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        from bot.registry.db import ensure_schema, get_engine
        from scheduler.jobs import MISFIRE_GRACE_SECONDS, register_jobs

        if self.engine is None:
            self.engine = get_engine(self.settings.database_url)
        ensure_schema(self.engine)
        self.lock = SchedulerLock(self.engine)
        self.lock.acquire()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1},
            timezone=clock.TZ,
        )
        self.scheduler.start()
        ids = register_jobs(self.scheduler, self.localities if self.localities is not None else _localities())
        log.info("scheduler started (%s): %d jobs", self.lock.holder, len(ids))

    async def _start_channels(self) -> None:
        """Issue 15: WeChat and SMS reminders have senders of their own, started when configured."""
        from scheduler.channels.runner import ChannelSenders

        channels = ChannelSenders(self.settings, self.engine)
        if await asyncio.to_thread(channels.start):
            self._channels = channels

    # The sender gets its own thread, event loop and Bot session. Its database calls are short but
    # blocking; on SQLite, inside the bot's loop they could wait on a write lock that a bot update holds
    # across an `await` (sending its reply before committing), stalling both until busy_timeout.
    # In its own thread the wait is real waiting, and the bot's loop never stops for reminders.
    def _start_sender_thread(self) -> None:
        ready = threading.Event()

        async def main() -> None:
            bot = make_bot(self.settings)
            self.sender = OutboxSender(self.engine, bot, settings=self.settings)
            self._sender_loop = asyncio.get_running_loop()
            ready.set()
            try:
                await self.sender.run()
            finally:
                await bot.session.close()

        def target() -> None:
            try:
                asyncio.run(main())
            except Exception:  # noqa: BLE001 - logged; the watcher task notices the thread ended
                log.exception("outbox sender stopped with an error")
            finally:
                ready.set()

        self._sender_thread = threading.Thread(target=target, name="outbox-sender", daemon=True)
        self._sender_thread.start()
        ready.wait(timeout=10)

    async def _watch_sender(self) -> None:
        while self._sender_thread is not None and self._sender_thread.is_alive():
            await asyncio.sleep(0.5)

    async def _heartbeat(self) -> None:
        assert self.lock is not None
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                ok = await asyncio.to_thread(self.lock.renew)
            except Exception:  # noqa: BLE001 - a database hiccup: try again next beat, lease has slack
                log.exception("scheduler heartbeat failed")
                continue
            if not ok:
                log.error("scheduler lease lost to another process; stopping jobs here")
                await self._stop_jobs()
                return

    async def _stop_jobs(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            await asyncio.to_thread(scheduler.shutdown, wait=False)

    async def wait(self) -> None:
        """Until the sender or heartbeat ends (standalone process)."""
        if self._tasks:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def shutdown(self) -> None:
        if self.sender is not None and self._sender_loop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed: the sender has ended
                self._sender_loop.call_soon_threadsafe(self.sender.stop)
        if self._sender_thread is not None:
            await asyncio.to_thread(self._sender_thread.join, 30)
        if self._channels is not None:
            await asyncio.to_thread(self._channels.stop)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._stop_jobs()
        if self.lock is not None and self.running:
            await asyncio.to_thread(self.lock.release)
        self.running = False
