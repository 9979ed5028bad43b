"""nearby: a geohash on pickup points (GCJ-02), indexed, filled for the existing points

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tuangou.geo.rules import GEOHASH_PRECISION, geohash

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("geohash", sa.String(length=12), server_default="", nullable=False)
        )
        batch_op.create_index("ix_pickup_points_geohash", ["geohash"], unique=False)
    # The existing points' coordinates are taken as GCJ-02, as every point's are.
    bind = op.get_bind()
    points = sa.table(
        "pickup_points",
        sa.column("id", sa.Integer()),
        sa.column("latitude", sa.Float()),
        sa.column("longitude", sa.Float()),
        sa.column("geohash", sa.String()),
    )
    rows = bind.execute(sa.select(points.c.id, points.c.latitude, points.c.longitude)).all()
    for point_id, lat, lng in rows:
        bind.execute(
            points.update()
            .where(points.c.id == point_id)
            .values(geohash=geohash(lat, lng, GEOHASH_PRECISION))
        )


def downgrade() -> None:
    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.drop_index("ix_pickup_points_geohash")
        batch_op.drop_column("geohash")
