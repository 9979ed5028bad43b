"""suppliers linked to communities (and their trail); who converted a proposal

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_suppliers",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "supplier_id", name=op.f("pk_community_suppliers")),
    )
    op.create_index(
        op.f("ix_community_suppliers_supplier_id"), "community_suppliers", ["supplier_id"]
    )
    op.create_table(
        "community_supplier_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "action IN ('linked', 'unlinked')",
            name=op.f("ck_community_supplier_events_action_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_supplier_events")),
    )
    op.create_index(
        "ix_community_supplier_events_community",
        "community_supplier_events",
        ["community_id", "id"],
    )
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("converted_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("supplier_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("supplier_id")
        batch.drop_column("converted_by")
    op.drop_index("ix_community_supplier_events_community", "community_supplier_events")
    op.drop_table("community_supplier_events")
    op.drop_index(op.f("ix_community_suppliers_supplier_id"), "community_suppliers")
    op.drop_table("community_suppliers")
