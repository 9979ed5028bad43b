"""a listing's share link: a random token, so a community's wave is seen only by its members,
its leader, operators and whoever holds the link

Each listing published before this revision draws its own token here.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TOKEN_BYTES = 16  # as pools.rules.SHARE_TOKEN_BYTES when this revision was written


def upgrade() -> None:
    with op.batch_alter_table("wave_listings") as batch:
        batch.add_column(sa.Column("share_token", sa.String(length=22), nullable=True))
    conn = op.get_bind()
    listings = sa.table("wave_listings", sa.column("id"), sa.column("share_token"))
    for (listing_id,) in conn.execute(sa.select(listings.c.id)).all():
        conn.execute(
            listings.update()
            .where(listings.c.id == listing_id)
            .values(share_token=secrets.token_urlsafe(_TOKEN_BYTES))
        )
    with op.batch_alter_table("wave_listings") as batch:
        batch.alter_column("share_token", existing_type=sa.String(length=22), nullable=False)
        batch.create_unique_constraint(op.f("uq_wave_listings_share_token"), ["share_token"])


def downgrade() -> None:
    with op.batch_alter_table("wave_listings") as batch:
        batch.drop_constraint(op.f("uq_wave_listings_share_token"), type_="unique")
        batch.drop_column("share_token")
