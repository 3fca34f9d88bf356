"""The outbox: idempotent enqueue; the sender's handling of 403, 429, 5xx, 400, crashes and quiet hours."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

from sched_helpers import DAYTIME, delivered, settings
from sqlmodel import Session, select

from bot import clock
from bot.registry.models import ChatLink, Household, Person
from scheduler import leases, outbox
from scheduler.models import OutboxMessage
from scheduler.sender import OutboxSender
from scheduler.timeutil import to_utc_naive, utcnow


def _queue(engine, n: int, start: int = 1000) -> None:  # noqa: ANN001
    with Session(engine) as s:
        for i in range(n):
            outbox.enqueue(s, key=f"t:{i}", chat_id=start + i, text=f"提醒 {i}")
        s.commit()


def _rows(engine) -> list[OutboxMessage]:  # noqa: ANN001
    with Session(engine) as s:
        rows = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    _rows_any[:] = rows
    return rows


def test_enqueue_is_idempotent_on_key(engine) -> None:  # noqa: ANN001
    with Session(engine) as s:
        assert outbox.enqueue(s, key="k", chat_id=1, text="a") is True
        assert outbox.enqueue(s, key="k", chat_id=2, text="b") is False
        s.commit()
    rows = _rows(engine)
    assert [(r.chat_id, r.text) for r in rows] == [(1, "a")]


async def test_drains_everything_once(engine, fake_api, bot) -> None:  # noqa: ANN001
    _queue(engine, 40)
    stats = await OutboxSender(engine, bot, settings=settings(), recheck=None).run(until_empty=True)
    got = Counter(c.chat_id for c in delivered(fake_api))
    assert stats.sent == 40 and set(got.values()) == {1} and len(got) == 40
    assert {r.status for r in _rows(engine)} == {"sent"}


async def test_blocked_user_is_skipped_and_subscription_ended(engine, fake_api, bot) -> None:  # noqa: ANN001
    from datetime import date

    with Session(engine) as s:
        hh = Household(locality_id="wuhe", code="H1")
        s.add(hh)
        s.flush()
        p = Person(id_number="340322199001011234", name="王一", household_id=hh.id, birth_date=date(1990, 1, 1))
        s.add(p)
        s.flush()
        s.add(ChatLink(chat_id=777, person_id=p.id, household_id=hh.id))
        s.add(ChatLink(chat_id=778, person_id=p.id, household_id=hh.id))
        s.commit()
    fake_api.block(777)
    with Session(engine) as s:
        outbox.enqueue(s, key="b1", chat_id=777, text="x")
        outbox.enqueue(s, key="b2", chat_id=778, text="y")
        s.commit()
    await OutboxSender(engine, bot, settings=settings(), recheck=None).run(until_empty=True)
    status = {r.chat_id: r.status for r in _rows(engine)}
    assert status == {777: "skipped", 778: "sent"}
    with Session(engine) as s:
        links = {lk.chat_id: lk for lk in s.exec(select(ChatLink))}
    assert links[777].active is False and links[777].ended_at is not None
    assert links[778].active is True and links[778].ended_at is None


async def test_server_errors_retry_with_backoff_then_succeed(engine, fake_api, bot) -> None:  # noqa: ANN001
    _queue(engine, 1)
    fake_api.fail_next(2, 502)
    sender = OutboxSender(engine, bot, settings=settings(), recheck=None)
    task = asyncio.create_task(sender.run(poll_interval=0.02))
    for expected_attempts in (1, 2):
        await _until(lambda n=expected_attempts: _rows(engine)[0].attempts == n and _rows(engine)[0].status == "pending")
        row = _rows(engine)[0]
        assert "502" in (row.last_error or "") or "Server" in (row.last_error or "")
        assert row.not_before > utcnow()  # backed off, not retried at once
        clock.set_now(clock.now() + timedelta(minutes=10))  # let the backoff pass
    await _until(lambda: _rows(engine)[0].status == "sent")
    sender.stop()
    await task
    assert _rows(engine)[0].attempts == 3
    assert len(delivered(fake_api)) == 1


async def test_bad_request_fails_with_error(engine, fake_api, bot) -> None:  # noqa: ANN001
    _queue(engine, 1)
    fake_api.fail_next(1, 400)
    await OutboxSender(engine, bot, settings=settings(), recheck=None).run(until_empty=True)
    row = _rows(engine)[0]
    assert row.status == "failed" and row.last_error
    assert delivered(fake_api) == []


async def test_429_pauses_every_sender_for_retry_after(engine, fake_api, bot) -> None:  # noqa: ANN001
    fake_api.configure(rate_limit=1.0, burst=1.0)  # the second message in a second gets 429
    _queue(engine, 2)
    sender = OutboxSender(engine, bot, settings=settings(), recheck=None)
    task = asyncio.create_task(sender.run(poll_interval=0.02))
    await _until(lambda: any(r.last_error and "429" in r.last_error for r in _rows(engine)))
    with Session(engine) as s:
        until = leases.paused_until(s)
    assert until is not None and until > utcnow()  # a shared row: every sender reads it
    other = OutboxSender(engine, bot, settings=settings(), recheck=None)
    assert other._must_wait() > 0  # a second sender obeys the same pause
    await asyncio.sleep(0.3)
    assert len(delivered(fake_api)) == 1  # nothing more sent while paused
    clock.set_now(clock.now() + timedelta(seconds=5))  # past retry_after on the shared clock
    await _until(lambda: all(r.status == "sent" for r in _rows(engine)), timeout=10)
    sender.stop()
    await task
    calls = [c for c in fake_api.sent if c.method == "sendMessage"]
    rejected = next(c for c in calls if c.status == 429)
    last_ok = [c for c in calls if c.ok][-1]
    assert last_ok.at - rejected.at >= 0.9  # waited the 1 s retry_after the fake answered, then sent
    assert len(delivered(fake_api)) == 2


async def test_quiet_hours_hold_messages_until_morning(engine, fake_api, bot) -> None:  # noqa: ANN001
    night = DAYTIME.replace(hour=22, minute=30)
    clock.set_now(night)
    _queue(engine, 2)
    row = _rows(engine)[0]
    assert row.not_before > utcnow()  # enqueued for 08:00
    sender = OutboxSender(engine, bot, settings=settings(quiet_hours_start="21:00", quiet_hours_end="08:00"),
                          recheck=None)
    task = asyncio.create_task(sender.run(poll_interval=0.02))
    await asyncio.sleep(0.3)
    assert delivered(fake_api) == []
    clock.set_now(night + timedelta(hours=9, minutes=31))  # 08:01 next day
    sender.stop()
    await task
    await OutboxSender(engine, bot, settings=settings(), recheck=None).run(until_empty=True)
    sent = delivered(fake_api)
    assert len(sent) == 2
    morning = to_utc_naive(night.replace(tzinfo=None) + timedelta(hours=9, minutes=30))
    assert all(r.sent_at >= morning for r in _rows(engine))


async def test_crash_after_claim_resends_once_after_lease(engine, fake_api, bot) -> None:  # noqa: ANN001
    """A sender dies with rows claimed but not yet sent: a later sender sends each exactly once."""
    _queue(engine, 30)

    class Dies(Exception):
        pass

    class CrashingBot:
        def __init__(self, real, after: int) -> None:  # noqa: ANN001
            self.real, self.after, self.calls = real, after, 0
            self.hang = asyncio.Event()

        async def send_message(self, *a, **kw):  # noqa: ANN002, ANN003, ANN201
            self.calls += 1
            if self.calls > self.after:
                await self.hang.wait()  # the process froze/died before this request left
            return await self.real.send_message(*a, **kw)

    crashing = CrashingBot(bot, after=10)
    first = OutboxSender(engine, crashing, settings=settings(), recheck=None)
    task = asyncio.create_task(first.run(poll_interval=0.02))
    await _until(lambda: len(delivered(fake_api)) == 10 and sum(r.status == "sent" for r in _rows(engine)) == 10)
    task.cancel()  # the crash: claimed rows stay in 'sending'
    with contextlib.suppress(asyncio.CancelledError):
        await task
    stuck = [r for r in _rows(engine) if r.status == "sending"]
    assert stuck, "the crash should leave claimed rows behind"
    second = OutboxSender(engine, bot, settings=settings(), recheck=None, lease_seconds=30)
    clock.set_now(clock.now() + timedelta(seconds=31))  # the first sender's lease expires
    await second.run(until_empty=True)
    got = Counter(c.chat_id for c in delivered(fake_api))
    assert len(got) == 30 and set(got.values()) == {1}
    assert {r.status for r in _rows(engine)} == {"sent"}
    assert all(r.attempts == 2 for r in _rows(engine) if r.id in {s.id for s in stuck})


_rows_any: list = []


async def _until(cond, timeout: float = 5.0) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"condition not reached in time: {[(r.status, r.attempts, r.last_error, r.not_before) for r in _rows_any]}")
        await asyncio.sleep(0.02)
