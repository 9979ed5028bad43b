"""achievements: members' counted actions, weekly tasks (with the defaults), task
completions per week, achievements earned, badges

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

DEFAULT_TASKS = (
    ("checkin_3", "checkin", 3, 20, "early_bird"),
    ("review_1", "review", 1, 20, "reviewer"),
    ("invite_1", "invite", 1, 50, "connector"),
)


def upgrade() -> None:
    tasks = op.create_table(
        "weekly_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("count >= 1 AND count <= 100", name=op.f("ck_weekly_tasks_count_range")),
        sa.CheckConstraint(
            "points >= 0 AND points <= 10000", name=op.f("ck_weekly_tasks_points_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_tasks")),
        sa.UniqueConstraint("code", name=op.f("uq_weekly_tasks_code")),
    )
    op.create_table(
        "achievements_earned",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("earned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_achievements_earned_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "code", name=op.f("pk_achievements_earned")),
    )
    op.create_table(
        "member_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_member_actions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_actions")),
        sa.UniqueConstraint(
            "user_id", "action", "key", name=op.f("uq_member_actions_user_id_action_key")
        ),
    )
    op.create_index(
        "ix_member_actions_user_action_week",
        "member_actions",
        ["user_id", "action", "week"],
        unique=False,
    )
    op.create_table(
        "member_badges",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("earned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_member_badges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "badge", name=op.f("pk_member_badges")),
    )
    op.create_table(
        "task_completions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["weekly_tasks.id"], name=op.f("fk_task_completions_task_id_weekly_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_completions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "task_id", "week", name=op.f("pk_task_completions")),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        tasks,
        [
            {
                "code": code,
                "action": action,
                "count": count,
                "points": points,
                "badge": badge,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for code, action, count, points, badge in DEFAULT_TASKS
        ],
    )


def downgrade() -> None:
    op.drop_table("task_completions")
    op.drop_table("member_badges")
    op.drop_index("ix_member_actions_user_action_week", table_name="member_actions")
    op.drop_table("member_actions")
    op.drop_table("achievements_earned")
    op.drop_table("weekly_tasks")
