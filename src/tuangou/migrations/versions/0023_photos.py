"""photos of posts and reviews: uploaded, cleaned of EXIF, attached to one owner

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("display_key", sa.String(length=100), nullable=False),
        sa.Column("thumb_key", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumb_content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint(
            "owner_kind",
            "owner_id",
            "position",
            name=op.f("uq_photos_owner_kind_owner_id_position"),
        ),
    )
    op.create_index("ix_photos_user_id_created_at", "photos", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_photos_user_id_created_at", table_name="photos")
    op.drop_table("photos")
