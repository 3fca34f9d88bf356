"""One scheduler per database; on PostgreSQL two senders never claim the same row (SKIP LOCKED)."""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter

import pytest
from sched_helpers import DAYTIME
from sqlalchemy import text
from sqlmodel import Session, select

from bot import clock
from bot.registry import db
from scheduler import outbox
from scheduler.sender import OutboxSender
from scheduler.service import SchedulerLock, SchedulerLocked


def test_second_scheduler_is_refused_with_a_clear_message(engine) -> None:  # noqa: ANN001
    first = SchedulerLock(engine, holder="first")
    first.acquire()
    second = SchedulerLock(engine, holder="second")
    with pytest.raises(SchedulerLocked) as err:
        second.acquire()
    assert "另一个调度器" in str(err.value) and "Another scheduler" in str(err.value) and "first" in str(err.value)
    assert first.renew() is True
    first.release()
    second.acquire()  # free once the first let go
    assert first.renew() is False  # and the first cannot take it back while held


async def test_embedded_scheduler_registers_jobs_and_holds_the_lock(engine) -> None:  # noqa: ANN001
    from bot.settings import Settings
    from scheduler.service import EmbeddedScheduler

    s = Settings(database_url=str(engine.url), bot_token=None)
    one = EmbeddedScheduler(s, engine=engine, localities=["wuhe"])
    await one.start()
    try:
        ids = {j.id for j in one.scheduler.get_jobs()}
        assert ids == {"campaigns:wuhe", "weekly-ranking:wuhe", "daily-unpaid:wuhe"}
        two = EmbeddedScheduler(s, engine=engine, localities=["wuhe"])
        with pytest.raises(SchedulerLocked):
            await two.start(raise_if_locked=True)
    finally:
        await one.shutdown()
    again = EmbeddedScheduler(s, engine=engine, localities=["wuhe"])
    await again.start()  # jobs persisted in the job store are replaced, not duplicated
    try:
        assert len(again.scheduler.get_jobs()) == 3
    finally:
        await again.shutdown()


@pytest.mark.postgres
def test_skip_locked_two_senders_claim_disjoint_rows() -> None:
    url = os.environ.get("DATABASE_URL_PG")
    if not url:
        pytest.skip("DATABASE_URL_PG not set (scripts/test.sh starts PostgreSQL)")
    schema = f"sched_{uuid.uuid4().hex[:8]}"
    admin = db.get_engine(url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine = db.get_engine(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")
    # Daytime in Shanghai: outside it the rows would be held for the quiet hours (this test ran at
    # whatever hour the machine's clock said, and failed from 21:00 to 08:00 Beijing time).
    clock.set_now(DAYTIME)
    try:
        db.ensure_schema(engine)
        with Session(engine) as s:
            for i in range(400):
                outbox.enqueue(s, key=f"pg:{i}", chat_id=i, text="x")
            s.commit()
        senders = [OutboxSender(engine, bot=None, recheck=None, name=f"s{i}") for i in range(2)]
        claimed: list[list[int]] = [[], []]
        barrier = threading.Barrier(2)

        def drain(i: int) -> None:
            barrier.wait()
            while batch := senders[i]._claim(7):
                claimed[i].extend(r.id for r in batch)

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        both = Counter(claimed[0] + claimed[1])
        assert len(both) == 400 and set(both.values()) == {1}  # every row claimed exactly once
        assert claimed[0] and claimed[1]  # and both senders got work
    finally:
        clock.set_now(None)
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.postgres
def test_two_planners_at_once_on_postgresql_do_not_collide() -> None:
    """`yibao campaign list` and the daily job planning the same waves at once: the second waits for the
    first's commit and inserts nothing, instead of failing on the unique wave."""
    from scheduler import campaigns
    from scheduler.models import Campaign

    url = os.environ.get("DATABASE_URL_PG")
    if not url:
        pytest.skip("DATABASE_URL_PG not set (scripts/test.sh starts PostgreSQL)")
    schema = f"plan_{uuid.uuid4().hex[:8]}"
    admin = db.get_engine(url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine = db.get_engine(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")
    try:
        db.prepare(engine)
        first_planned, errors = threading.Event(), []

        def second() -> None:
            first_planned.wait()
            try:
                with db.session_scope(engine) as s:
                    assert len(campaigns.plan(s, "wuhe")) == 10
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        other = threading.Thread(target=second)
        other.start()
        with db.session_scope(engine) as s:
            planned = campaigns.plan(s, "wuhe")
            first_planned.set()
            other.join(timeout=1.0)  # the second planner now waits on our uncommitted waves
        other.join()
        assert errors == []
        with db.read_scope(engine) as s:
            assert len(list(s.exec(select(Campaign)))) == len(planned) == 10
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
