"""Enrolment history imported from the insurance system: one row per person and coverage year.

Payments already say who enrolled in the years the registry holds; this table adds earlier years
(and years insured under the employee scheme) from an export, plus whether the fund reimbursed
anything that year, which the 2025 incentives need. Mirrors bot/registry/history.py.

Revision ID: 0004_history
Revises: 0003_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_history"
down_revision = "0003_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_history",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("coverage_year", sa.Integer(), nullable=False),
        sa.Column("insured", sa.Boolean(), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("zero_claim", sa.Boolean(), nullable=True),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "coverage_year", name="pk_enrolment_history"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_enrolment_history_person"),
    )


def downgrade() -> None:
    op.drop_table("enrolment_history")
