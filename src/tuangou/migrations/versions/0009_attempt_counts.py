"""attempt counts: limits on wrong passwords, SMS codes and sign-ups, per phone and per IP

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_counts",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", "window_start"),
    )
    op.create_index("ix_attempt_counts_ends_at", "attempt_counts", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_attempt_counts_ends_at", table_name="attempt_counts")
    op.drop_table("attempt_counts")
