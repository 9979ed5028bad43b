"""coupons: the catalogue, members' coupons and holdings; orders record the price before
discounts, the level and coupon discounts and the coupon; refunds their discounts' share

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("percent_bps", sa.Integer(), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("min_spend", sa.Integer(), nullable=False),
        sa.Column("points_price", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("per_member_limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_coupons_stock_non_negative")),
        sa.CheckConstraint("points_price >= 1", name=op.f("ck_coupons_points_price_positive")),
        sa.CheckConstraint("per_member_limit >= 1", name=op.f("ck_coupons_limit_positive")),
        sa.CheckConstraint(
            "valid_until IS NOT NULL OR valid_days IS NOT NULL",
            name=op.f("ck_coupons_has_validity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    op.create_table(
        "member_coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("percent_bps", sa.Integer(), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("min_spend", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.String(length=64), nullable=False),
        sa.Column("points_paid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'used') = (order_id IS NOT NULL)",
            name=op.f("ck_member_coupons_order_when_used"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_member_coupons_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_member_coupons_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_coupons")),
        sa.UniqueConstraint("user_id", "key", name="uq_member_coupons_user_key"),
    )
    with op.batch_alter_table("member_coupons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_coupons_coupon_id"), ["coupon_id"], unique=False
        )
        batch_op.create_index("ix_member_coupons_user_status", ["user_id", "status"], unique=False)
    op.create_table(
        "coupon_holdings",
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("bought", sa.Integer(), nullable=False),
        sa.CheckConstraint("bought >= 0", name=op.f("ck_coupon_holdings_bought_non_negative")),
        sa.PrimaryKeyConstraint("coupon_id", "user_id", name=op.f("pk_coupon_holdings")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("list_amount", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("level_discount", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("coupon_discount", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("coupon_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_orders_discounts_non_negative"),
            "level_discount >= 0 AND coupon_discount >= 0",
        )
    op.execute("UPDATE orders SET list_amount = amount")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discount_amount", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("discount_amount")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_discounts_non_negative"), type_="check")
        batch_op.drop_column("coupon_id")
        batch_op.drop_column("coupon_discount")
        batch_op.drop_column("level_discount")
        batch_op.drop_column("list_amount")
    op.drop_table("coupon_holdings")
    with op.batch_alter_table("member_coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_member_coupons_user_status")
        batch_op.drop_index(batch_op.f("ix_member_coupons_coupon_id"))
    op.drop_table("member_coupons")
    op.drop_table("coupons")
