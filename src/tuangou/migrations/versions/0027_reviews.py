"""reviews: verified buyers' reviews (晒单) of their completed order lines, with one reply,
and the counts of their stars per product, SKU, team campaign and wave

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("leader_user_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("reply_by", sa.Integer(), nullable=True),
        sa.Column("reply_role", sa.String(length=16), nullable=True),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_reviews_rating_range")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reviews_quantity_positive")),
        sa.CheckConstraint(
            "photo_count >= 0 AND photo_count <= 9", name=op.f("ck_reviews_photo_count_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_id", "line_id", name="uq_reviews_order_line"),
    )
    op.create_index(op.f("ix_reviews_supplier_id"), "reviews", ["supplier_id"])
    op.create_index("ix_reviews_product_list", "reviews", ["product_id", "status", "id"])
    op.create_index("ix_reviews_product_stars", "reviews", ["product_id", "status", "rating", "id"])
    op.create_index("ix_reviews_sku_list", "reviews", ["sku_id", "status", "id"])
    op.create_index("ix_reviews_sku_stars", "reviews", ["sku_id", "status", "rating", "id"])
    op.create_index(
        "ix_reviews_campaign_list", "reviews", ["order_kind", "campaign_id", "status", "id"]
    )
    op.create_index(
        "ix_reviews_campaign_stars",
        "reviews",
        ["order_kind", "campaign_id", "status", "rating", "id"],
    )
    op.create_index("ix_reviews_user", "reviews", ["user_id", "id"])
    op.create_table(
        "review_counts",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_review_counts_n_non_negative")),
        sa.PrimaryKeyConstraint("scope", "scope_id", "rating", name="pk_review_counts"),
    )


def downgrade() -> None:
    op.drop_table("review_counts")
    op.drop_table("reviews")
