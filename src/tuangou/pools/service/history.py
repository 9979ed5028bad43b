"""A leader's history of waves, as the leader credit reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.orders import service as orders
from tuangou.pools.models import (
    Wave,
    WaveListing,
    WaveOrderInfo,
)

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class LeaderOrderStats:
    """A leader's wave orders confirmed at cut-off since a date, and how they ended."""

    orders: int  # confirmed at cut-off
    completed: int  # picked up
    unpicked: int  # closed as not picked up (by the wave's policy)


def leader_order_stats(session: Session, leader_id: int, *, since: datetime) -> LeaderOrderStats:
    o = orders.order_table().c
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((o.status == "completed", 1), else_=0)), 0),
            func.coalesce(func.sum(case((o.close_reason == "not_picked_up", 1), else_=0)), 0),
        )
        .select_from(WaveOrderInfo)
        .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
        .join(orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveListing.leader_id == leader_id, o.settled_at >= since)
    ).one()
    return LeaderOrderStats(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class PickupShipment:
    """One wave's goods for one of a leader's pickup points, as its orders tell it."""

    wave_id: int
    pickup_point_id: int
    delivery_date: date
    due_at: datetime  # the end of the delivery date, in the deployment's time zone
    arrived: bool  # some order reached the pickup point (arrived, picked up, or unpicked)
    first_pickup_at: datetime | None  # the earliest pickup verified there
    undelivered: bool  # its orders were refunded because the goods never arrived


def pickup_shipments(session: Session, leader_id: int, *, since: datetime) -> list[PickupShipment]:
    o = orders.order_table().c
    reached = o.status.in_(("arrived", "completed")) | (o.close_reason == "not_picked_up")
    rows = session.execute(
        select(
            WaveOrderInfo.wave_id,
            WaveOrderInfo.pickup_point_id,
            Wave.delivery_date,
            func.max(case((reached, 1), else_=0)),
            func.min(o.completed_at),
            func.max(case((o.close_reason == "not_delivered", 1), else_=0)),
        )
        .select_from(WaveOrderInfo)
        .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
        .join(Wave, Wave.id == WaveOrderInfo.wave_id)
        .join(orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveListing.leader_id == leader_id, o.settled_at >= since)
        .group_by(WaveOrderInfo.wave_id, WaveOrderInfo.pickup_point_id, Wave.delivery_date)
        .order_by(WaveOrderInfo.wave_id, WaveOrderInfo.pickup_point_id)
    ).all()
    return [
        PickupShipment(
            wave_id=wave_id,
            pickup_point_id=point_id,
            delivery_date=day,
            due_at=clock.local_midnight(day + timedelta(days=1)),
            arrived=bool(arrived),
            first_pickup_at=first,
            undelivered=bool(undelivered),
        )
        for wave_id, point_id, day, arrived, first, undelivered in rows
    ]
