"""Named leases in the `scheduler_lease` table, shared by every process on the database.

Used for the single-scheduler lock, the shared 429 pause and the roll of live senders. Every write
is one atomic statement, so two processes can race on the same name safely on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, select

from bot.registry.db import insert_for
from scheduler.models import SchedulerLease
from scheduler.timeutil import utcnow

SCHEDULER_LOCK = "scheduler"
OUTBOX_PAUSE = "outbox-pause"
SENDER_PREFIX = "sender:"


def acquire(session: Session, name: str, holder: str, ttl: float, now: datetime | None = None) -> bool:
    """Take or renew lease `name` for `ttl` seconds; False while someone else holds an unexpired one."""
    now = now or utcnow()
    until = now + timedelta(seconds=ttl)
    ins = insert_for(session)(SchedulerLease).values(name=name, holder=holder, expires_at=until, updated_at=now)
    if session.execute(ins.on_conflict_do_nothing(index_elements=["name"])).rowcount == 1:
        return True
    upd = (
        update(SchedulerLease)
        .where(SchedulerLease.name == name,
               or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=until, updated_at=now)
    )
    return session.execute(upd).rowcount == 1


def release(session: Session, name: str, holder: str) -> None:
    session.execute(delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder))


def holder_of(session: Session, name: str, now: datetime | None = None) -> SchedulerLease | None:
    """The unexpired lease row, or None."""
    now = now or utcnow()
    row = session.get(SchedulerLease, name)
    return row if row is not None and row.expires_at >= now else None


def extend_pause(session: Session, until: datetime, now: datetime | None = None) -> None:
    """Make every sender wait until `until` (never shortens a longer pause already set)."""
    now = now or utcnow()
    ins = insert_for(session)(SchedulerLease).values(name=OUTBOX_PAUSE, holder="429", expires_at=until, updated_at=now)
    if session.execute(ins.on_conflict_do_nothing(index_elements=["name"])).rowcount == 1:
        return
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == OUTBOX_PAUSE, SchedulerLease.expires_at < until)
        .values(expires_at=until, updated_at=now)
    )


def paused_until(session: Session, now: datetime | None = None) -> datetime | None:
    row = holder_of(session, OUTBOX_PAUSE, now)
    return row.expires_at if row is not None else None


def live_senders(session: Session, now: datetime | None = None) -> int:
    now = now or utcnow()
    q = select(func.count()).select_from(SchedulerLease).where(
        and_(SchedulerLease.name.like(SENDER_PREFIX + "%"), SchedulerLease.expires_at >= now))
    return int(session.exec(q).one())
