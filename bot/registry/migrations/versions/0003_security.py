"""Security (issue 12): staff bound to the Telegram user, keyed audit subjects, the app's own keys.

- staff.chat_id becomes staff.user_id. In Telegram a private chat's id equals its user's id, so a
  post bound from a private chat (chat id > 0) keeps its rights under the same number. A post bound
  from a group (chat id < 0) made every member of the group staff; it is revoked (deleted), with
  an audit row each (actor "migration", action "staff_revoked", outcome "group_bound"). That person
  asks the county admin for a new code and sends /bind in a private chat.
- invite_code.used_by_user_id: who redeemed a code (used_by_chat_id stays: where it was sent).
- audit_log.subject_key: a keyed hash of the looked-up ID number, so lookups of one ID can be
  limited across chats; indexes for that count and for the global failed-lookup ceiling.
- app_secret: keys generated here when settings give none; the audit key is created now, inside
  the migration's transaction, so every process sharing the database uses the same one.

Revision ID: 0003_security
Revises: 0002_scheduler
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from bot import clock
from bot.registry.models import AwareDateTime

revision = "0003_security"
down_revision = "0002_scheduler"
branch_labels = None
depends_on = None

AUDIT_KEY_NAME = "audit_subject_key"  # bot.registry.audit reads it under this name


def _revoke_group_bound_staff(conn: sa.Connection) -> None:
    staff = sa.table("staff", sa.column("id", sa.Integer()), sa.column("chat_id", sa.BigInteger()))
    audit = sa.table(
        "audit_log", sa.column("at", AwareDateTime()), sa.column("chat_id", sa.BigInteger()),
        sa.column("actor", sa.String()), sa.column("action", sa.String()), sa.column("outcome", sa.String()),
    )
    group_bound = [row.chat_id for row in conn.execute(sa.select(staff.c.chat_id).where(staff.c.chat_id <= 0))]
    now = clock.now()
    for chat_id in group_bound:
        conn.execute(audit.insert().values(at=now, chat_id=chat_id, actor="migration", action="staff_revoked",
                                           outcome="group_bound"))
    conn.execute(staff.delete().where(staff.c.chat_id <= 0))


def upgrade() -> None:
    conn = op.get_bind()
    _revoke_group_bound_staff(conn)
    # Two batches: SQLite rebuilds the table per batch, and a constraint on the renamed column
    # is only seen once the rename has happened.
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("uq_staff_chat_id", type_="unique")
        batch.alter_column("chat_id", new_column_name="user_id", existing_type=sa.BigInteger(),
                           existing_nullable=False)
    with op.batch_alter_table("staff") as batch:
        batch.create_unique_constraint("uq_staff_user_id", ["user_id"])

    op.add_column("invite_code", sa.Column("used_by_user_id", sa.BigInteger(), nullable=True))

    op.add_column("audit_log", sa.Column("subject_key", sa.String(64), nullable=True))
    op.create_index("ix_audit_log_subject_at", "audit_log", ["subject_key", "at"])
    op.create_index("ix_audit_log_outcome_at", "audit_log", ["outcome", "at"])

    table = op.create_table(
        "app_secret",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secret"),
    )
    op.bulk_insert(table, [{"name": AUDIT_KEY_NAME, "value": secrets.token_hex(32), "created_at": clock.now()}])


def downgrade() -> None:
    op.drop_table("app_secret")
    op.drop_index("ix_audit_log_outcome_at", table_name="audit_log")
    op.drop_index("ix_audit_log_subject_at", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("subject_key")
    with op.batch_alter_table("invite_code") as batch:
        batch.drop_column("used_by_user_id")
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("uq_staff_user_id", type_="unique")
        batch.alter_column("user_id", new_column_name="chat_id", existing_type=sa.BigInteger(),
                           existing_nullable=False)
    with op.batch_alter_table("staff") as batch:
        batch.create_unique_constraint("uq_staff_chat_id", ["chat_id"])
