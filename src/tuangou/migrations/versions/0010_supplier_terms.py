"""supplier terms: a SKU's floor price and maximum leader commission; a leader's own supplier

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("floor_price", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_commission_bps", sa.Integer(), nullable=True))
    # The defaults (docs/ARCHITECTURE.md, *Supplier terms*): 70% of the single price, rounded
    # up to a whole fen, and the platform's default commission of 10%.
    op.execute("UPDATE skus SET floor_price = (price * 70 + 99) / 100, max_commission_bps = 1000")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.alter_column("floor_price", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("max_commission_bps", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f("ck_skus_floor_price_positive"), "floor_price > 0")
        batch_op.create_check_constraint(
            op.f("ck_skus_max_commission_within_bounds"),
            "max_commission_bps >= 0 AND max_commission_bps <= 5000",
        )
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leader_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_suppliers_leader_id"), ["leader_id"])


def downgrade() -> None:
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_suppliers_leader_id"), type_="unique")
        batch_op.drop_column("leader_id")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_skus_max_commission_within_bounds"), type_="check")
        batch_op.drop_constraint(op.f("ck_skus_floor_price_positive"), type_="check")
        batch_op.drop_column("max_commission_bps")
        batch_op.drop_column("floor_price")
