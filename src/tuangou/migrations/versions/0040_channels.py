"""channels: members' notification preferences (routes, quiet hours), WeChat subscription
authorisations left per template, one delivery per notification and channel

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("pickup_at_night", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("wechat_openid", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notify_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notify_preferences")),
    )
    op.create_table(
        "wechat_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0", name=op.f("ck_wechat_subscriptions_remaining_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wechat_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_subscriptions")),
        sa.UniqueConstraint(
            "user_id", "template_id", name=op.f("uq_wechat_subscriptions_user_id_template_id")
        ),
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("consumed", sa.Boolean(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_channel_deliveries_notification_id_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_channel_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_deliveries")),
        sa.UniqueConstraint(
            "notification_id",
            "channel",
            name=op.f("uq_channel_deliveries_notification_id_channel"),
        ),
    )
    op.create_index(
        "ix_channel_deliveries_due", "channel_deliveries", ["status", "next_at"], unique=False
    )
    op.create_index(
        "ix_channel_deliveries_user", "channel_deliveries", ["user_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_channel_deliveries_user", table_name="channel_deliveries")
    op.drop_index("ix_channel_deliveries_due", table_name="channel_deliveries")
    op.drop_table("channel_deliveries")
    op.drop_table("wechat_subscriptions")
    op.drop_table("notify_preferences")
