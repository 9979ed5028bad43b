"""the risk engine: judged events, review cases, flagged members, cleared evidence

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("other", sa.Integer(), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("subnet", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("phone_num", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=True),
        sa.Column("payout", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_events")),
    )
    op.create_index("ix_risk_events_type_device_at", "risk_events", ["type", "device", "at"])
    op.create_index("ix_risk_events_type_subnet_at", "risk_events", ["type", "subnet", "at"])
    op.create_index("ix_risk_events_phone_num_at", "risk_events", ["phone_num", "at"])
    op.create_index("ix_risk_events_target_at", "risk_events", ["target", "at"])
    op.create_index("ix_risk_events_actor_type_at", "risk_events", ["actor", "type", "at"])
    op.create_index("ix_risk_events_at", "risk_events", ["at"])
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("edges", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_risk_cases_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_cases")),
    )
    op.create_index(op.f("ix_risk_cases_fingerprint"), "risk_cases", ["fingerprint"])
    op.create_index("ix_risk_cases_status_opened_at", "risk_cases", ["status", "opened_at"])
    op.create_table(
        "risk_flags",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["risk_cases.id"], name=op.f("fk_risk_flags_case_id_risk_cases")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["users.id"], name=op.f("fk_risk_flags_member_id_users")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_risk_flags")),
    )
    op.create_index(op.f("ix_risk_flags_case_id"), "risk_flags", ["case_id"])
    op.create_table(
        "risk_clearances",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["risk_cases.id"], name=op.f("fk_risk_clearances_case_id_risk_cases")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["users.id"], name=op.f("fk_risk_clearances_member_id_users")
        ),
        sa.PrimaryKeyConstraint("member_id", "fingerprint", name=op.f("pk_risk_clearances")),
    )


def downgrade() -> None:
    op.drop_table("risk_clearances")
    op.drop_index(op.f("ix_risk_flags_case_id"), table_name="risk_flags")
    op.drop_table("risk_flags")
    op.drop_index("ix_risk_cases_status_opened_at", table_name="risk_cases")
    op.drop_index(op.f("ix_risk_cases_fingerprint"), table_name="risk_cases")
    op.drop_table("risk_cases")
    for name in (
        "at",
        "actor_type_at",
        "target_at",
        "phone_num_at",
        "type_subnet_at",
        "type_device_at",
    ):
        op.drop_index(f"ix_risk_events_{name}", table_name="risk_events")
    op.drop_table("risk_events")
