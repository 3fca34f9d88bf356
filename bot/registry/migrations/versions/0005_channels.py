"""Channels (issue 15): a chat is a channel and an address on it, not only a Telegram chat id.

- chat_profile: keyed by (channel, address); `chat_id` stays for Telegram rows; `last_seen_at`
  (when the resident last wrote: WeChat allows 客服消息 for 48 hours after that). Rebuilt, because
  its primary key changes; existing rows become ("telegram", "<chat id>").
- chat_link (reminder subscriptions), audit_log, outbox_message: `channel` and `address` beside
  `chat_id`, which becomes nullable (only Telegram rows have one). Existing rows are Telegram's.
  outbox_message also gets `params`, the values a templated message (WeChat template, SMS) is
  filled from.
- dialogue_state: a chat's dialogue state where no Redis keeps it (the WeChat adapter).
- channel_opt_out: addresses that asked for no more reminders on a channel (SMS "TD").
- api_token: WeChat's access token, shared by every process when there is no Redis.

Revision ID: 0005_channels
Revises: 0004_history
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.registry.models import AwareDateTime

revision = "0005_channels"
down_revision = "0004_history"
branch_labels = None
depends_on = None

TELEGRAM = "telegram"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, AwareDateTime(), nullable=nullable)


def _chat_id_as_text() -> sa.Cast:
    return sa.cast(sa.column("chat_id", sa.BigInteger()), sa.String(64))


def _add_channel_columns(table: str, *, required: bool) -> None:
    """channel + address filled from chat_id for the existing (Telegram) rows."""
    op.add_column(table, sa.Column("channel", sa.String(16), nullable=True,
                                   server_default=TELEGRAM if required else None))
    op.add_column(table, sa.Column("address", sa.String(64), nullable=True))
    t = sa.table(table, sa.column("chat_id", sa.BigInteger()), sa.column("channel", sa.String(16)),
                 sa.column("address", sa.String(64)))
    op.execute(t.update().where(t.c.chat_id.is_not(None)).values(channel=TELEGRAM, address=_chat_id_as_text()))
    with op.batch_alter_table(table) as batch:
        batch.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=True)
        if required:
            batch.alter_column("channel", existing_type=sa.String(16), nullable=False,
                               existing_server_default=TELEGRAM)
            batch.alter_column("address", existing_type=sa.String(64), nullable=False)


def _profile_table(name: str, *, by_channel: bool) -> sa.Table:
    key = (
        [sa.Column("channel", sa.String(16), nullable=False), sa.Column("address", sa.String(64), nullable=False),
         sa.Column("chat_id", sa.BigInteger(), nullable=True)]
        if by_channel else [sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False)]
    )
    extra = [_ts("last_seen_at", nullable=True)] if by_channel else []
    pk = (sa.PrimaryKeyConstraint("channel", "address", name="pk_chat_profile_channel_address") if by_channel
          else sa.PrimaryKeyConstraint("chat_id", name="pk_chat_profile"))
    return op.create_table(
        name, *key,
        sa.Column("locality_id", sa.String(64), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        _ts("updated_at"), *extra, pk,
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name=f"fk_{name}_locality"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=f"fk_{name}_area"),
    )


def upgrade() -> None:
    # chat_profile: new primary key, so a new table; rows copied as Telegram chats.
    _profile_table("chat_profile_v5", by_channel=True)
    op.execute(
        "INSERT INTO chat_profile_v5 (channel, address, chat_id, locality_id, area_id, updated_at) "
        f"SELECT '{TELEGRAM}', CAST(chat_id AS VARCHAR(64)), chat_id, locality_id, area_id, updated_at "
        "FROM chat_profile"
    )
    op.drop_table("chat_profile")
    op.rename_table("chat_profile_v5", "chat_profile")

    _add_channel_columns("chat_link", required=True)
    op.create_index("ix_chat_link_channel_address", "chat_link", ["channel", "address"])

    _add_channel_columns("audit_log", required=False)
    op.create_index("ix_audit_log_channel_address_at", "audit_log", ["channel", "address", "at"])

    _add_channel_columns("outbox_message", required=True)
    op.add_column("outbox_message", sa.Column("params", sa.JSON(), nullable=True))
    op.create_index("ix_outbox_channel_address", "outbox_message", ["channel", "address"])

    op.create_table(
        "dialogue_state",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("channel", "address", name="pk_dialogue_state"),
    )
    op.create_table(
        "channel_opt_out",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        _ts("at"),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address", name="pk_channel_opt_out"),
    )
    op.create_table(
        "api_token",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(1024), nullable=False),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("name", name="pk_api_token"),
    )


def _drop_channel_columns(table: str, *, required: bool) -> None:
    t = sa.table(table, sa.column("chat_id", sa.BigInteger()))
    if required:  # rows of other channels cannot exist without a channel
        op.execute(t.delete().where(t.c.chat_id.is_(None)))
    with op.batch_alter_table(table) as batch:
        batch.drop_column("address")
        batch.drop_column("channel")
        if required:
            batch.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    op.drop_table("api_token")
    op.drop_table("channel_opt_out")
    op.drop_table("dialogue_state")
    op.drop_index("ix_outbox_channel_address", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("params")
    _drop_channel_columns("outbox_message", required=True)
    op.drop_index("ix_audit_log_channel_address_at", table_name="audit_log")
    _drop_channel_columns("audit_log", required=False)
    op.drop_index("ix_chat_link_channel_address", table_name="chat_link")
    _drop_channel_columns("chat_link", required=True)

    _profile_table("chat_profile_v4", by_channel=False)
    op.execute(
        "INSERT INTO chat_profile_v4 (chat_id, locality_id, area_id, updated_at) "
        f"SELECT chat_id, locality_id, area_id, updated_at FROM chat_profile WHERE channel = '{TELEGRAM}'"
    )
    op.drop_table("chat_profile")
    op.rename_table("chat_profile_v4", "chat_profile")
