"""Registry tables: localities, areas, households, persons, categories, payments, chats, staff, audit.

Hand-written and portable (SQLite and PostgreSQL): plain types only, every constraint and index
named so later revisions can drop or alter them on both backends.

Revision ID: 0001_registry
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_registry"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "locality",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locality"),
    )
    op.create_table(
        "area",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("locality_id", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.Integer(), nullable=True),
        sa.Column("registered_population", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_area"),
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name="fk_area_locality"),
        sa.ForeignKeyConstraint(["parent_id"], ["area.id"], name="fk_area_parent"),
    )
    op.create_index("ix_area_locality_parent", "area", ["locality_id", "parent_id"])
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("locality_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_household"),
        sa.UniqueConstraint("locality_id", "code", name="uq_household_locality_code"),
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name="fk_household_locality"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name="fk_household_area"),
    )
    op.create_index("ix_household_area", "household", ["area_id"])
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("migrant", sa.Boolean(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("id_number", name="uq_person_id_number"),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name="fk_person_household"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name="fk_person_area"),
    )
    op.create_index("ix_person_area", "person", ["area_id"])
    op.create_index("ix_person_household", "person", ["household_id"])
    op.create_table(
        "category_membership",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("recognised_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("person_id", "category", name="pk_category_membership"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_category_membership_person"),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("coverage_year", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment"),
        sa.UniqueConstraint(
            "person_id", "coverage_year", "paid_on", "amount", "channel", name="uq_payment_dedupe"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_payment_person"),
    )
    op.create_table(
        "chat_profile",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("locality_id", sa.String(64), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("chat_id", name="pk_chat_profile"),
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name="fk_chat_profile_locality"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name="fk_chat_profile_area"),
    )
    op.create_table(
        "chat_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        _ts("consent_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_chat_link"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_chat_link_person"),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name="fk_chat_link_household"),
    )
    op.create_index("ix_chat_link_chat", "chat_link", ["chat_id"])
    op.create_index("ix_chat_link_person", "chat_link", ["person_id"])
    op.create_index("ix_chat_link_household", "chat_link", ["household_id"])
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("locality_id", sa.String(64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.UniqueConstraint("chat_id", name="uq_staff_chat_id"),
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name="fk_staff_locality"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name="fk_staff_area"),
    )
    op.create_table(
        "invite_code",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("locality_id", sa.String(64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("used_at", nullable=True),
        sa.Column("used_by_chat_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_invite_code"),
        sa.ForeignKeyConstraint(["locality_id"], ["locality.id"], name="fk_invite_code_locality"),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name="fk_invite_code_area"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("at"),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject_masked", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_chat_at", "audit_log", ["chat_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_chat_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("invite_code")
    op.drop_table("staff")
    for ix in ("ix_chat_link_household", "ix_chat_link_person", "ix_chat_link_chat"):
        op.drop_index(ix, table_name="chat_link")
    op.drop_table("chat_link")
    op.drop_table("chat_profile")
    op.drop_table("payment")
    op.drop_table("category_membership")
    op.drop_index("ix_person_household", table_name="person")
    op.drop_index("ix_person_area", table_name="person")
    op.drop_table("person")
    op.drop_index("ix_household_area", table_name="household")
    op.drop_table("household")
    op.drop_index("ix_area_locality_parent", table_name="area")
    op.drop_table("area")
    op.drop_table("locality")
