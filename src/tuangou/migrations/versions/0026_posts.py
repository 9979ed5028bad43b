"""posts: posts, replies, likes, the day's deal, each community's posting rhythm

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("screened", sa.String(length=200), nullable=True),
        sa.Column("pinned_at", sa.DateTime(), nullable=True),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("share_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('experience', 'deal')", name=op.f("ck_posts_kind")),
        sa.CheckConstraint(
            "status IN ('published', 'held', 'hidden', 'deleted')", name=op.f("ck_posts_status")
        ),
        sa.CheckConstraint(
            "(kind = 'deal') = (campaign_id IS NOT NULL OR listing_id IS NOT NULL)",
            name=op.f("ck_posts_deal"),
        ),
        sa.CheckConstraint(
            "campaign_id IS NULL OR listing_id IS NULL", name=op.f("ck_posts_one_link")
        ),
        sa.CheckConstraint(
            "like_count >= 0 AND reply_count >= 0 AND share_count >= 0",
            name=op.f("ck_posts_counts"),
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_posts_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index("ix_posts_community_created", "posts", ["community_id", "created_at", "id"])
    op.create_index(
        "ix_posts_author_community_created", "posts", ["author_id", "community_id", "created_at"]
    )
    op.create_index(
        "ix_posts_pinned",
        "posts",
        ["community_id", "pinned_at"],
        sqlite_where=sa.text("pinned_at IS NOT NULL"),
        postgresql_where=sa.text("pinned_at IS NOT NULL"),
    )
    op.create_table(
        "post_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("screened", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('published', 'held', 'hidden', 'deleted')",
            name=op.f("ck_post_replies_status"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_post_replies_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_post_replies_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_replies_post_id_posts")
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["post_replies.id"],
            name=op.f("fk_post_replies_reply_to_id_post_replies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_replies")),
    )
    op.create_index("ix_post_replies_post_created", "post_replies", ["post_id", "created_at", "id"])
    op.create_index(
        "ix_post_replies_author_community_created",
        "post_replies",
        ["author_id", "community_id", "created_at"],
    )
    op.create_table(
        "post_likes",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_likes_post_id_posts")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_post_likes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_likes")),
    )
    op.create_table(
        "post_day_deals",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_post_day_deals_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["marked_by"], ["users.id"], name=op.f("fk_post_day_deals_marked_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_day_deals_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("community_id", "day", name=op.f("pk_post_day_deals")),
    )
    op.create_table(
        "post_rhythms",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("deals_per_day", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=True),
        sa.Column("closes", sa.String(length=5), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("deals_per_day >= 0", name=op.f("ck_post_rhythms_deals")),
        sa.CheckConstraint(
            "(opens IS NULL) = (closes IS NULL)", name=op.f("ck_post_rhythms_hours")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_post_rhythms_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_post_rhythms_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_post_rhythms")),
    )


def downgrade() -> None:
    op.drop_table("post_rhythms")
    op.drop_table("post_day_deals")
    op.drop_table("post_likes")
    op.drop_index("ix_post_replies_author_community_created", table_name="post_replies")
    op.drop_index("ix_post_replies_post_created", table_name="post_replies")
    op.drop_table("post_replies")
    op.drop_index("ix_posts_pinned", table_name="posts")
    op.drop_index("ix_posts_author_community_created", table_name="posts")
    op.drop_index("ix_posts_community_created", table_name="posts")
    op.drop_table("posts")
