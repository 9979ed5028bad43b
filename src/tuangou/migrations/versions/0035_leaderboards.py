"""leaderboards: scored actions, frozen boards, the leader's monthly awards; reviews'
"helpful" likes

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("likes", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_check_constraint("likes_non_negative", "likes >= 0")
    op.create_table(
        "review_likes",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", "user_id", name="pk_review_likes"),
    )

    op.create_table(
        "board_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('review_liked', 'help', 'invite', 'event')",
            name=op.f("ck_board_actions_board_action_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_actions")),
        sa.UniqueConstraint("community_id", "kind", "ref", name="uq_board_actions_ref"),
    )
    op.create_index("ix_board_actions_community_at", "board_actions", ["community_id", "at"])
    op.create_index("ix_board_actions_user", "board_actions", ["user_id"])
    op.create_index("ix_board_actions_by_user", "board_actions", ["by_user_id"])

    op.create_table(
        "board_freezes",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "period", "start", name="pk_board_freezes"),
    )
    op.create_table(
        "board_standings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("helps", sa.Integer(), nullable=False),
        sa.Column("invites", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("reached_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id", "period", "start", "user_id", name="pk_board_standings"
        ),
        sa.UniqueConstraint(
            "community_id", "period", "start", "rank", name="uq_board_standings_rank"
        ),
    )
    op.create_table(
        "board_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_board_awards_board_award_points_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_awards")),
        sa.UniqueConstraint("community_id", "month", name="uq_board_awards_month"),
    )


def downgrade() -> None:
    op.drop_table("board_awards")
    op.drop_table("board_standings")
    op.drop_table("board_freezes")
    op.drop_index("ix_board_actions_by_user", table_name="board_actions")
    op.drop_index("ix_board_actions_user", table_name="board_actions")
    op.drop_index("ix_board_actions_community_at", table_name="board_actions")
    op.drop_table("board_actions")
    op.drop_table("review_likes")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint("ck_reviews_likes_non_negative", type_="check")
        batch_op.drop_column("likes")
