"""an order remembers the payment that paid it, so that its refunds go back to that payment

An order may have more than one payment (a member retried, or two callbacks raced); only
one pays it, and any other that succeeds is refunded to itself as a late payment. A later
refund of the order (a team that failed, an after-sale claim) must go back to the payment
that paid it, not to whichever succeeded first.

Existing paid orders get the lowest successful payment that was not refunded as late.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
    op.execute(
        """UPDATE orders SET payment_id = (
               SELECT MIN(p.id) FROM payments p
               WHERE p.order_id = orders.id AND p.status = 'succeeded'
                 AND NOT EXISTS (
                     SELECT 1 FROM refunds r WHERE r.key = 'late:' || CAST(p.id AS VARCHAR(20))
                 )
           )
           WHERE paid_at IS NOT NULL"""
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_id")
