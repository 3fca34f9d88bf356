"""Audit log of lookups and the per-chat lookup limit derived from it.

The limit is counted from AuditLog rows (not process memory), so it holds across restarts and
across several bot processes sharing a database. The subject of a lookup is stored masked.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from bot import clock
from bot.registry import ids
from bot.registry.models import AuditLog
from bot.settings import Settings, get_settings

# Actions that count against a chat's lookup limit.
LOOKUP_ACTIONS = ("status", "household_status")
# A refused attempt is recorded but does not count, so a chat is free again one window after
# its last real lookup however often it retried meanwhile.
OUTCOME_RATE_LIMITED = "rate_limited"


def lookups_in_window(session: Session, chat_id: int, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    since = clock.now() - timedelta(seconds=settings.lookup_window_seconds)
    return session.execute(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.chat_id == chat_id,
            AuditLog.at >= since,
            AuditLog.action.in_(LOOKUP_ACTIONS),
            AuditLog.outcome != OUTCOME_RATE_LIMITED,
        )
    ).scalar_one()


def lookup_allowed(session: Session, chat_id: int | None, settings: Settings | None = None) -> bool:
    """True while the chat has made fewer than settings.lookup_limit lookups in the last
    settings.lookup_window_seconds. Lookups without a chat (CLI, staff tools) are not limited."""
    if chat_id is None:
        return True
    settings = settings or get_settings()
    return lookups_in_window(session, chat_id, settings) < settings.lookup_limit


def record(session: Session, *, chat_id: int | None, actor: str, action: str, id_number: str | None = None,
           outcome: str) -> AuditLog:
    """Add an audit row (flushed, committed with the caller's session). The ID is masked here."""
    row = AuditLog(at=clock.now(), chat_id=chat_id, actor=actor, action=action,
                   subject_masked=ids.mask(id_number) if id_number else None, outcome=outcome)
    session.add(row)
    session.flush()
    return row
