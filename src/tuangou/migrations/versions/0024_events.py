"""events: a community's events with seats, a waitlist, check-in codes and an optional fee

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("pickup_point_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("queue_seq", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("over_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("taken >= 0 AND taken <= seats", name=op.f("ck_events_no_overbooking")),
        sa.CheckConstraint("seats >= 1 AND seats <= 1000", name=op.f("ck_events_seats")),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_events_fee")),
        sa.CheckConstraint(
            "fee = 0 OR supplier_id IS NOT NULL OR status = 'draft'",
            name=op.f("ck_events_payee"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_events_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["leaders.id"], name=op.f("fk_events_leader_id_leaders")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_events_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_point_id"],
            ["pickup_points.id"],
            name=op.f("fk_events_pickup_point_id_pickup_points"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_events_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_leader_id"), "events", ["leader_id"])
    op.create_index("ix_events_community_starts", "events", ["community_id", "starts_at"])
    op.create_index("ix_events_status_starts", "events", ["status", "starts_at"])
    op.create_table(
        "event_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seated_at", sa.DateTime(), nullable=True),
        sa.Column("promoted", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("attended_at", sa.DateTime(), nullable=True),
        sa.Column("checked_in_by", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('held', 'signed_up', 'waitlisted', 'cancelled', 'released')",
            name=op.f("ck_event_signups_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_signups_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_signups_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_event_signups_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["checked_in_by"], ["users.id"], name=op.f("fk_event_signups_checked_in_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint("event_id", "user_id", name="uq_event_signups_member"),
        sa.UniqueConstraint("event_id", "code", name="uq_event_signups_code"),
    )
    op.create_index(op.f("ix_event_signups_user_id"), "event_signups", ["user_id"])
    op.create_index(
        "ix_event_signups_event_status_seq", "event_signups", ["event_id", "status", "seq"]
    )
    op.create_index("ix_event_signups_order", "event_signups", ["order_id"])


def downgrade() -> None:
    op.drop_table("event_signups")
    op.drop_table("events")
