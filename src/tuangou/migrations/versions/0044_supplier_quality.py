"""supplier quality and delivery tracking: the operator's quality thresholds; shipments carry
their carrier, tracking number and tracking step, with one event per step reached

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("max_aftersale_bps", sa.Integer(), nullable=False),
        sa.Column("min_rating_tenths", sa.Integer(), nullable=False),
        sa.Column("min_reviews", sa.Integer(), nullable=False),
        sa.Column("min_on_time_bps", sa.Integer(), nullable=False),
        sa.Column("max_failed_moq_bps", sa.Integer(), nullable=False),
        sa.Column("min_sample", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_quality_thresholds_one_row")),
        sa.CheckConstraint(
            "window_days BETWEEN 7 AND 365", name=op.f("ck_quality_thresholds_window_days")
        ),
        sa.CheckConstraint(
            "max_aftersale_bps BETWEEN 0 AND 10000",
            name=op.f("ck_quality_thresholds_max_aftersale_bps"),
        ),
        sa.CheckConstraint(
            "min_rating_tenths BETWEEN 10 AND 50",
            name=op.f("ck_quality_thresholds_min_rating_tenths"),
        ),
        sa.CheckConstraint("min_reviews >= 1", name=op.f("ck_quality_thresholds_min_reviews")),
        sa.CheckConstraint(
            "min_on_time_bps BETWEEN 0 AND 10000",
            name=op.f("ck_quality_thresholds_min_on_time_bps"),
        ),
        sa.CheckConstraint(
            "max_failed_moq_bps BETWEEN 0 AND 10000",
            name=op.f("ck_quality_thresholds_max_failed_moq_bps"),
        ),
        sa.CheckConstraint("min_sample >= 1", name=op.f("ck_quality_thresholds_min_sample")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_thresholds")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carrier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tracking_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tracking_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("tracking_polled_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_shipments_tracking_status"),
            "tracking_status IS NULL OR tracking_status IN ('shipped', 'in_transit', 'arrived')",
        )
        batch_op.create_index(
            "ix_shipments_tracking", ["tracking_status", "tracking_polled_at"], unique=False
        )
    # Goods already shipped start their tracking at 已发货 (moved by hand from there).
    op.execute("UPDATE shipments SET tracking_status = 'shipped' WHERE shipped_at IS NOT NULL")
    op.create_table(
        "shipment_tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("by_user", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "status IN ('shipped', 'in_transit', 'arrived')",
            name=op.f("ck_shipment_tracking_events_status"),
        ),
        sa.CheckConstraint(
            "source IN ('manual', 'carrier')", name=op.f("ck_shipment_tracking_events_source")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_tracking_events_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_tracking_events")),
        sa.UniqueConstraint(
            "shipment_id", "status", name=op.f("uq_shipment_tracking_events_shipment_id_status")
        ),
    )
    op.execute(
        "INSERT INTO shipment_tracking_events (shipment_id, status, at, source, by_user, note) "
        "SELECT id, 'shipped', shipped_at, 'manual', shipped_by, '' FROM shipments "
        "WHERE shipped_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("shipment_tracking_events")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_tracking")
        batch_op.drop_constraint(op.f("ck_shipments_tracking_status"), type_="check")
        batch_op.drop_column("tracking_polled_at")
        batch_op.drop_column("tracking_status")
        batch_op.drop_column("tracking_no")
        batch_op.drop_column("carrier")
    op.drop_table("quality_thresholds")
