"""Scheduler tables: campaign, outbox_message, scheduler_lease.

Hand-written so it runs the same on SQLite and PostgreSQL; mirrors scheduler/models.py.
APScheduler's own job table (`apscheduler_jobs`) is created by its SQLAlchemyJobStore on start.

Revision ID: 0002_scheduler
Revises: 0001_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_scheduler"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("locality_id", sa.String(), nullable=False),
        sa.Column("coverage_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("offset_label", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("send_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="active"),
        sa.Column("built_at", sa.DateTime(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("excluded_paid", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("note", sa.String(), nullable=True),
        sa.UniqueConstraint("locality_id", "coverage_year", "kind", "offset_label", "send_on",
                            name="uq_campaign_wave"),
    )
    op.create_index("ix_campaign_locality_id", "campaign", ["locality_id"])
    op.create_index("ix_campaign_send_on", "campaign", ["send_on"])

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False, server_default="text"),
        sa.Column("text", sa.String(), nullable=False, server_default=""),
        sa.Column("file_path", sa.String(), nullable=True),
        sa.Column("reply_markup", sa.JSON(), nullable=True),
        sa.Column("chat_link_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("coverage_year", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("key", name="uq_outbox_message_key"),
    )
    op.create_index("ix_outbox_message_campaign_id", "outbox_message", ["campaign_id"])
    op.create_index("ix_outbox_message_chat_id", "outbox_message", ["chat_id"])
    op.create_index("ix_outbox_ready", "outbox_message", ["status", "not_before"])

    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    op.drop_index("ix_outbox_ready", table_name="outbox_message")
    op.drop_index("ix_outbox_message_chat_id", table_name="outbox_message")
    op.drop_index("ix_outbox_message_campaign_id", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_index("ix_campaign_send_on", table_name="campaign")
    op.drop_index("ix_campaign_locality_id", table_name="campaign")
    op.drop_table("campaign")
