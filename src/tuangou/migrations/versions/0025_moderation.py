"""group rules (群规) with versions and acceptances; moderation: cases, reports, mutes, the log

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column("rules_version", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    # A community whose rules were written before versions: they are version 1, accepted by
    # nobody yet (its members are asked once).
    op.execute("UPDATE communities SET rules_version = 1 WHERE rules <> ''")
    op.create_table(
        "community_rules_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_community_rules_versions_version")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_rules_versions_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_community_rules_versions_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_rules_versions")),
        sa.UniqueConstraint(
            "community_id", "version", name=op.f("uq_community_rules_versions_community_id_version")
        ),
    )
    op.execute(
        "INSERT INTO community_rules_versions (community_id, version, text, author_id, created_at)"
        " SELECT c.id, 1, c.rules, l.user_id, c.created_at"
        " FROM communities c JOIN leaders l ON l.id = c.leader_id WHERE c.rules <> ''"
    )
    op.create_table(
        "community_rules_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_rules_acceptances_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_community_rules_acceptances_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_rules_acceptances")),
        sa.UniqueConstraint(
            "community_id",
            "user_id",
            "version",
            name=op.f("uq_community_rules_acceptances_community_id_user_id_version"),
        ),
    )
    op.create_index(
        op.f("ix_community_rules_acceptances_user_id"), "community_rules_acceptances", ["user_id"]
    )
    op.create_table(
        "moderation_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("open_reports", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('reported', 'hidden_pending_review', 'held', 'hidden', 'visible')",
            name=op.f("ck_moderation_cases_status"),
        ),
        sa.CheckConstraint("open_reports >= 0", name=op.f("ck_moderation_cases_open_reports")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_moderation_cases_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_moderation_cases_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_cases")),
        sa.UniqueConstraint("kind", "target_id", name=op.f("uq_moderation_cases_kind_target_id")),
    )
    op.create_index("ix_moderation_cases_queue", "moderation_cases", ["status", "opened_at"])
    op.create_index(
        "ix_moderation_cases_community",
        "moderation_cases",
        ["community_id", "status", "opened_at"],
    )
    op.create_table(
        "moderation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('spam', 'abuse', 'fraud', 'other')",
            name=op.f("ck_moderation_reports_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_moderation_reports_case_id_moderation_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_moderation_reports_reporter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_reports")),
        sa.UniqueConstraint(
            "kind",
            "target_id",
            "reporter_id",
            name=op.f("uq_moderation_reports_kind_target_id_reporter_id"),
        ),
    )
    op.create_index(op.f("ix_moderation_reports_case_id"), "moderation_reports", ["case_id"])
    op.create_table(
        "moderation_mutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("muted_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_moderation_mutes_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_moderation_mutes_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["muted_by"], ["users.id"], name=op.f("fk_moderation_mutes_muted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by"], ["users.id"], name=op.f("fk_moderation_mutes_lifted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_mutes")),
    )
    op.create_index(
        "ix_moderation_mutes_member", "moderation_mutes", ["community_id", "user_id", "until"]
    )
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "action IN ('auto_hide', 'hide', 'restore', 'approve', 'mute', 'unmute')",
            name=op.f("ck_moderation_log_action"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_moderation_log_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_moderation_log_subject_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
    )
    op.create_index("ix_moderation_log_community", "moderation_log", ["community_id", "id"])
    op.create_index("ix_moderation_log_action", "moderation_log", ["action", "id"])


def downgrade() -> None:
    for table in (
        "moderation_log",
        "moderation_mutes",
        "moderation_reports",
        "moderation_cases",
        "community_rules_acceptances",
        "community_rules_versions",
    ):
        op.drop_table(table)
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("rules_version")
