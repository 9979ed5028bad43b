"""demand insight: a community's replies of a week, read by time

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_post_replies_community_created",
        "post_replies",
        ["community_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_post_replies_community_created", table_name="post_replies")
