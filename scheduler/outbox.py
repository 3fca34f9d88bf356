"""The outbox: every broadcast message is a row, written here and sent only by the senders
(`scheduler.sender` for Telegram, `scheduler.channels` for WeChat and SMS).

`enqueue` is the one way in (contract in docs/architecture.md). The unique `key` makes enqueueing
idempotent across restarts and processes: `INSERT ... ON CONFLICT (key) DO NOTHING`, so a job that
runs twice, or two schedulers racing, can never queue the same reminder twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from bot.registry.db import insert_for
from bot.settings import get_settings
from scheduler.models import MESSAGE_KINDS, OUTBOX_STATUSES, OutboxMessage
from scheduler.timeutil import after_quiet_hours, utcnow


def enqueue(
    session: Session,
    *,
    key: str,
    chat_id: int | None = None,
    text: str,
    campaign_id: int | None = None,
    kind: str = "text",
    file_path: str | None = None,
    reply_markup: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    chat_link_id: int | None = None,
    household_id: int | None = None,
    coverage_year: int | None = None,
    chat: Any = None,
    params: dict[str, Any] | None = None,
) -> bool:
    """Queue one message; False when a message with this key already exists (nothing changes).

    The recipient is `chat` (a `bot.registry.chats.Chat`: Telegram, WeChat or SMS) or, for Telegram,
    `chat_id`. `params`: the values a templated message is filled from (WeChat templates, SMS).

    `not_before` (naive UTC) defaults to now; either way it is moved past the quiet hours.
    `chat_link_id`/`household_id`/`coverage_year` make the sender re-check, right before sending,
    that the subscription is still active and the household still has someone unpaid.
    """
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"outbox: kind must be one of {MESSAGE_KINDS}, not {kind!r}")
    if kind != "text" and not file_path:
        raise ValueError("outbox: document and photo messages need file_path")
    if chat is None:
        if chat_id is None:
            raise ValueError("outbox: a message needs chat or chat_id")
        from bot.registry.chats import Chat

        chat = Chat.telegram(chat_id)
    if kind != "text" and chat.chat_id is None:
        raise ValueError("outbox: documents and photos go to Telegram chats only")
    settings = get_settings()
    now = utcnow()
    when = after_quiet_hours(not_before or now, settings.quiet_hours_start, settings.quiet_hours_end)
    values = dict(
        key=key, chat_id=chat.chat_id, channel=chat.channel, address=chat.address, params=params,
        text=text, campaign_id=campaign_id, kind=kind, file_path=file_path,
        reply_markup=reply_markup, not_before=when, created_at=now, status="pending", attempts=0,
        chat_link_id=chat_link_id, household_id=household_id, coverage_year=coverage_year,
    )
    stmt = (insert_for(session)(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.__table__.c.id))
    # The returned id, not rowcount: with RETURNING, PostgreSQL drivers report rowcount -1.
    return session.execute(stmt).first() is not None


def counts(session: Session, campaign_id: int | None = None) -> dict[str, int]:
    """Messages per status (every status present, zero when none), for one campaign or all."""
    q = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if campaign_id is not None:
        q = q.where(OutboxMessage.campaign_id == campaign_id)
    found = Counter(dict(session.exec(q).all()))
    return {status: int(found.get(status, 0)) for status in OUTBOX_STATUSES}
