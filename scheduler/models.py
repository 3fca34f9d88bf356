"""Scheduler tables: reminder campaigns, the outbox of messages to send, and named leases.

Created by Alembic revision `0002_scheduler` (bot/registry/migrations/versions/0002_scheduler.py);
keep the two in step. Times are naive UTC (see `scheduler.timeutil.utcnow`) so SQLite and
PostgreSQL compare them the same way. No foreign keys into the registry: the outbox must keep
working (and keep its history) when registry rows are re-imported.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

# Campaign kinds and statuses
DEADLINE, MIGRANT, NEWBORN = "deadline", "migrant", "newborn"
CAMPAIGN_KINDS = (DEADLINE, MIGRANT, NEWBORN)
ACTIVE, PAUSED, DONE = "active", "paused", "done"

# Outbox statuses
PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
OUTBOX_STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED)
MESSAGE_KINDS = ("text", "document", "photo")


def _utc(nullable: bool = True) -> Any:
    """A naive-UTC timestamp column (SQLModel's default type insists on aware values)."""
    return Field(default=None, sa_column=Column(DateTime(), nullable=nullable))


class Campaign(SQLModel, table=True):
    """One reminder wave: a kind, an offset before a deadline, the day it goes out."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("locality_id", "coverage_year", "kind", "offset_label", "send_on",
                                       name="uq_campaign_wave"),)

    id: int | None = Field(default=None, primary_key=True)
    locality_id: str = Field(index=True)
    coverage_year: int
    kind: str  # deadline | migrant | newborn
    offset_label: str  # e.g. "D-30", "D-0" (the last day), "春节返乡"
    deadline: date | None = None  # the deadline the wave points at (newborn waves: None, per baby)
    send_on: date = Field(index=True)
    status: str = Field(default=ACTIVE)  # active | paused | done
    built_at: datetime | None = _utc()
    recipients: int = 0  # messages queued when built
    excluded_paid: int = 0  # subscribed households left out because everyone had paid
    note: str | None = None


def _telegram_channel(context: Any) -> str | None:
    return "telegram" if context.get_current_parameters().get("chat_id") is not None else None


def _telegram_address(context: Any) -> str | None:
    chat_id = context.get_current_parameters().get("chat_id")
    return None if chat_id is None else str(chat_id)


class OutboxMessage(SQLModel, table=True):
    """A message to send. `key` is unique: enqueueing the same key twice is a no-op.

    The recipient is `channel` + `address` (Alembic 0005_channels): a Telegram chat id as text, a
    WeChat openid, a phone. Telegram rows also keep the numeric `chat_id` the Bot API sender reads
    (channel and address are filled from it when a row names only that). Each channel has its own
    sender: `scheduler.sender` for Telegram, `scheduler.channels` for the others.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_ready", "status", "not_before"),
                      Index("ix_outbox_channel_address", "channel", "address"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    campaign_id: int | None = Field(default=None, index=True)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    channel: str | None = Field(default=None, sa_column=Column(String(16), nullable=False, default=_telegram_channel,
                                                                server_default="telegram"))
    address: str | None = Field(default=None, sa_column=Column(String(64), nullable=False, default=_telegram_address))
    # Values of a templated message (WeChat template / subscription message, SMS template), kept
    # beside the text: the channel fills its approved template from them (scheduler.channels.reminders).
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    kind: str = "text"  # text | document | photo
    text: str = ""
    file_path: str | None = None
    reply_markup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Re-checked right before sending (campaign reminders): still subscribed, household still unpaid.
    chat_link_id: int | None = None
    household_id: int | None = None
    coverage_year: int | None = None
    status: str = Field(default=PENDING)
    attempts: int = 0
    last_error: str | None = None
    not_before: datetime = _utc(nullable=False)
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc()
    claimed_by: str | None = None
    claimed_at: datetime | None = _utc()


class SchedulerLease(SQLModel, table=True):
    """Named rows shared by every process on the database.

    - `scheduler`: the one running scheduler (holder, expires_at renewed by a heartbeat);
    - `outbox-pause`: `expires_at` is the end of a Telegram 429 flood wait every sender obeys;
    - `sender:<id>`: one per live sender, so they split the global rate between them.
    """

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=100)
    holder: str | None = None
    expires_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
