"""points: the points journal, awards, check-ins, balances and experience

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points_transfers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_transfers")),
    )
    op.create_index(
        op.f("ix_points_transfers_user_id"), "points_transfers", ["user_id"], unique=False
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["points_transfers.id"],
            name=op.f("fk_points_entries_transfer_id_points_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_index("ix_points_entries_account", "points_entries", ["account"], unique=False)
    op.create_index(
        op.f("ix_points_entries_transfer_id"), "points_entries", ["transfer_id"], unique=False
    )
    op.create_table(
        "points_balances",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("experience", sa.Integer(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_points_balances_balance_not_negative")),
        sa.CheckConstraint(
            "experience >= 0", name=op.f("ck_points_balances_experience_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_points_balances_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_points_balances")),
    )
    op.create_table(
        "points_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("experience", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_points_awards_by_id_users")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_points_awards_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_awards")),
        sa.UniqueConstraint(
            "user_id", "reason", "key", name=op.f("uq_points_awards_user_id_reason_key")
        ),
    )
    op.create_index(
        "ix_points_awards_user_reason_day",
        "points_awards",
        ["user_id", "reason", "day"],
        unique=False,
    )
    op.create_table(
        "points_checkins",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_points_checkins_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_points_checkins")),
    )


def downgrade() -> None:
    op.drop_table("points_checkins")
    op.drop_index("ix_points_awards_user_reason_day", table_name="points_awards")
    op.drop_table("points_awards")
    op.drop_table("points_balances")
    op.drop_index(op.f("ix_points_entries_transfer_id"), table_name="points_entries")
    op.drop_index("ix_points_entries_account", table_name="points_entries")
    op.drop_table("points_entries")
    op.drop_index(op.f("ix_points_transfers_user_id"), table_name="points_transfers")
    op.drop_table("points_transfers")
