"""sub-leader invitations and the history of sub-leader links

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sub_leader_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inviter_leader_id", sa.Integer(), nullable=False),
        sa.Column("invitee_leader_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')",
            name=op.f("ck_sub_leader_invitations_status"),
        ),
        sa.CheckConstraint(
            "inviter_leader_id <> invitee_leader_id",
            name=op.f("ck_sub_leader_invitations_not_self"),
        ),
        sa.ForeignKeyConstraint(
            ["invitee_leader_id"],
            ["leaders.id"],
            name=op.f("fk_sub_leader_invitations_invitee_leader_id_leaders"),
        ),
        sa.ForeignKeyConstraint(
            ["inviter_leader_id"],
            ["leaders.id"],
            name=op.f("fk_sub_leader_invitations_inviter_leader_id_leaders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sub_leader_invitations")),
    )
    with op.batch_alter_table("sub_leader_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sub_leader_invitations_invitee_leader_id"),
            ["invitee_leader_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sub_leader_invitations_inviter_leader_id"),
            ["inviter_leader_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_sub_leader_invitations_pending",
            ["inviter_leader_id", "invitee_leader_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "sub_leader_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_leader_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=24), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("end_note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "parent_leader_id <> leader_id", name=op.f("ck_sub_leader_links_not_self")
        ),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('left', 'ended_by_operator')",
            name=op.f("ck_sub_leader_links_end_reason"),
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (end_reason IS NULL)", name=op.f("ck_sub_leader_links_ended")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["users.id"], name=op.f("fk_sub_leader_links_ended_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["sub_leader_invitations.id"],
            name=op.f("fk_sub_leader_links_invitation_id_sub_leader_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["leaders.id"], name=op.f("fk_sub_leader_links_leader_id_leaders")
        ),
        sa.ForeignKeyConstraint(
            ["parent_leader_id"],
            ["leaders.id"],
            name=op.f("fk_sub_leader_links_parent_leader_id_leaders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sub_leader_links")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_sub_leader_links_invitation_id")),
    )
    with op.batch_alter_table("sub_leader_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sub_leader_links_leader_id"), ["leader_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sub_leader_links_parent_leader_id"), ["parent_leader_id"], unique=False
        )
        batch_op.create_index(
            "uq_sub_leader_links_current",
            ["leader_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
    # The links made before invitations: current since the sub-leader became a leader (so
    # their sales keep the override they earned until now).
    op.execute(
        "INSERT INTO sub_leader_links (parent_leader_id, leader_id, started_at)"
        " SELECT parent_leader_id, id, created_at FROM leaders"
        " WHERE parent_leader_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("sub_leader_links", schema=None) as batch_op:
        batch_op.drop_index("uq_sub_leader_links_current")
        batch_op.drop_index(batch_op.f("ix_sub_leader_links_parent_leader_id"))
        batch_op.drop_index(batch_op.f("ix_sub_leader_links_leader_id"))
    op.drop_table("sub_leader_links")
    with op.batch_alter_table("sub_leader_invitations", schema=None) as batch_op:
        batch_op.drop_index("uq_sub_leader_invitations_pending")
        batch_op.drop_index(batch_op.f("ix_sub_leader_invitations_inviter_leader_id"))
        batch_op.drop_index(batch_op.f("ix_sub_leader_invitations_invitee_leader_id"))
    op.drop_table("sub_leader_invitations")
