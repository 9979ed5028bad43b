"""gateways: notifications received from WeChat Pay and Alipay, refunds sent to them, and the
gateway's transaction id on a payment

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("refund_key", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_notifications")),
        sa.UniqueConstraint(
            "gateway",
            "txn_id",
            "event",
            name=op.f("uq_gateway_notifications_gateway_txn_id_event"),
        ),
    )
    op.create_index(
        op.f("ix_gateway_notifications_ref"), "gateway_notifications", ["ref"], unique=False
    )
    op.create_table(
        "gateway_refunds",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("gateway_refund_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_gateway_refunds")),
    )
    op.create_index(op.f("ix_gateway_refunds_gateway"), "gateway_refunds", ["gateway"])
    op.create_index(op.f("ix_gateway_refunds_ref"), "gateway_refunds", ["ref"])
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("gateway_txn", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("gateway_txn")
    op.drop_index(op.f("ix_gateway_refunds_ref"), table_name="gateway_refunds")
    op.drop_index(op.f("ix_gateway_refunds_gateway"), table_name="gateway_refunds")
    op.drop_table("gateway_refunds")
    op.drop_index(op.f("ix_gateway_notifications_ref"), table_name="gateway_notifications")
    op.drop_table("gateway_notifications")
