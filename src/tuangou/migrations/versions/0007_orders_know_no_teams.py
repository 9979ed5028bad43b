"""orders know no teams: a team order's team and opener flag live on its seat

``orders.team_id`` and ``orders.is_opener`` repeated what ``team_seats`` holds (every team
order has exactly one seat, with its team and whether its member is the opener). The order
domain no longer reads them, so they go.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_team_id")
        batch.drop_column("team_id")
        batch.drop_column("is_opener")


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("is_opener", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_orders_team_id", ["team_id"], unique=False)
    op.execute(
        """UPDATE orders SET
               team_id = (SELECT s.team_id FROM team_seats s WHERE s.order_id = orders.id),
               is_opener = COALESCE(
                   (SELECT s.is_opener FROM team_seats s WHERE s.order_id = orders.id), false)"""
    )
