"""bargain by friends: campaigns, bargains, their cut schedules, helps, counters, refusals

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bargain_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("start_price", sa.Integer(), nullable=False),
        sa.Column("floor_price", sa.Integer(), nullable=False),
        sa.Column("helpers_needed", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("buy_at_any_price", sa.Boolean(), nullable=False),
        sa.Column("helps_per_member", sa.Integer(), nullable=False),
        sa.Column("starts_per_member", sa.Integer(), nullable=False),
        sa.Column("new_member_bonus", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("ship_within_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "sold >= 0 AND held >= 0 AND sold + held <= stock",
            name=op.f("ck_bargain_campaigns_no_oversell"),
        ),
        sa.CheckConstraint(
            "floor_price >= 1 AND start_price - floor_price >= helpers_needed",
            name=op.f("ck_bargain_campaigns_prices"),
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_bargain_campaigns_sku_id_skus")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_bargain_campaigns_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_campaigns")),
    )
    op.create_index(
        op.f("ix_bargain_campaigns_sku_id"), "bargain_campaigns", ["sku_id"], unique=False
    )
    op.create_index(
        op.f("ix_bargain_campaigns_supplier_id"),
        "bargain_campaigns",
        ["supplier_id"],
        unique=False,
    )
    op.create_table(
        "bargains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("starter_id", sa.Integer(), nullable=False),
        sa.Column("share_token", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_price", sa.Integer(), nullable=False),
        sa.Column("floor_price", sa.Integer(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("helpers_needed", sa.Integer(), nullable=False),
        sa.Column("cuts_taken", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "price >= floor_price AND price <= start_price"
            " AND cuts_taken >= 0 AND cuts_taken <= helpers_needed",
            name=op.f("ck_bargains_price_range"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["bargain_campaigns.id"],
            name=op.f("fk_bargains_campaign_id_bargain_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["starter_id"], ["users.id"], name=op.f("fk_bargains_starter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargains")),
    )
    op.create_index(op.f("ix_bargains_campaign_id"), "bargains", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_bargains_starter_id"), "bargains", ["starter_id"], unique=False)
    op.create_index(op.f("ix_bargains_order_id"), "bargains", ["order_id"], unique=False)
    op.create_index("ix_bargains_due", "bargains", ["status", "deadline"], unique=False)
    op.create_table(
        "bargain_cuts",
        sa.Column("bargain_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_bargain_cuts_amount")),
        sa.ForeignKeyConstraint(
            ["bargain_id"], ["bargains.id"], name=op.f("fk_bargain_cuts_bargain_id_bargains")
        ),
        sa.PrimaryKeyConstraint("bargain_id", "revision", "seq", name=op.f("pk_bargain_cuts")),
    )
    op.create_table(
        "bargain_helps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bargain_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("bonus", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("amount >= 1 AND bonus >= 0", name=op.f("ck_bargain_helps_amount")),
        sa.ForeignKeyConstraint(
            ["bargain_id"], ["bargains.id"], name=op.f("fk_bargain_helps_bargain_id_bargains")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["bargain_campaigns.id"],
            name=op.f("fk_bargain_helps_campaign_id_bargain_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["helper_id"], ["users.id"], name=op.f("fk_bargain_helps_helper_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_helps")),
        sa.UniqueConstraint("bargain_id", "helper_id", name="uq_bargain_helps_once"),
    )
    op.create_index(
        op.f("ix_bargain_helps_helper_id"), "bargain_helps", ["helper_id"], unique=False
    )
    op.create_table(
        "bargain_usage",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("helped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["bargain_campaigns.id"],
            name=op.f("fk_bargain_usage_campaign_id_bargain_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bargain_usage_user_id_users")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_bargain_usage")),
    )
    op.create_table(
        "bargain_help_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bargain_id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bargain_id"],
            ["bargains.id"],
            name=op.f("fk_bargain_help_refusals_bargain_id_bargains"),
        ),
        sa.ForeignKeyConstraint(
            ["helper_id"], ["users.id"], name=op.f("fk_bargain_help_refusals_helper_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_help_refusals")),
    )
    op.create_index(
        op.f("ix_bargain_help_refusals_bargain_id"),
        "bargain_help_refusals",
        ["bargain_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bargain_help_refusals_bargain_id"), table_name="bargain_help_refusals")
    op.drop_table("bargain_help_refusals")
    op.drop_table("bargain_usage")
    op.drop_index(op.f("ix_bargain_helps_helper_id"), table_name="bargain_helps")
    op.drop_table("bargain_helps")
    op.drop_table("bargain_cuts")
    op.drop_index("ix_bargains_due", table_name="bargains")
    op.drop_index(op.f("ix_bargains_order_id"), table_name="bargains")
    op.drop_index(op.f("ix_bargains_starter_id"), table_name="bargains")
    op.drop_index(op.f("ix_bargains_campaign_id"), table_name="bargains")
    op.drop_table("bargains")
    op.drop_index(op.f("ix_bargain_campaigns_supplier_id"), table_name="bargain_campaigns")
    op.drop_index(op.f("ix_bargain_campaigns_sku_id"), table_name="bargain_campaigns")
    op.drop_table("bargain_campaigns")
