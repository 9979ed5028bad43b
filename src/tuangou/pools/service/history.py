"""A leader's history of waves, as the leader credit reads it; a supplier's settled waves,
as the supplier quality record reads them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.orders import service as orders
from tuangou.pools.models import (
    Wave,
    WaveItem,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
)
from tuangou.pools.rules import ItemStatus, LineStatus, WaveStatus

if TYPE_CHECKING:
    from tuangou.orders.models import Order


@dataclass(frozen=True)
class LeaderOrderStats:
    """A leader's wave orders confirmed at cut-off since a date, and how they ended."""

    orders: int  # confirmed at cut-off
    completed: int  # picked up
    unpicked: int  # closed as not picked up (by the wave's policy)


def _leader_orders(
    session: Session, leader_id: int, since: datetime
) -> list[tuple[WaveOrderInfo, Order]]:
    """The leader's wave orders settled since ``since``, with their pool's side."""
    settled = orders.ids_query(kind="wave", settled_since=since)
    infos = list(
        session.scalars(
            select(WaveOrderInfo)
            .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
            .where(WaveListing.leader_id == leader_id, WaveOrderInfo.order_id.in_(settled))
            .order_by(WaveOrderInfo.order_id)
        )
    )
    of = {o.id: o for o in orders.get_many(session, [i.order_id for i in infos])}
    return [(i, of[i.order_id]) for i in infos]


def leader_order_stats(session: Session, leader_id: int, *, since: datetime) -> LeaderOrderStats:
    settled = [order for _, order in _leader_orders(session, leader_id, since)]
    return LeaderOrderStats(
        len(settled),
        sum(o.status == orders.OrderStatus.COMPLETED for o in settled),
        sum(o.close_reason == "not_picked_up" for o in settled),
    )


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
    by_point: dict[tuple[int, int], list[Order]] = defaultdict(list)
    for info, order in _leader_orders(session, leader_id, since):
        by_point[(info.wave_id, info.pickup_point_id)].append(order)
    days = dict(
        session.execute(
            select(Wave.id, Wave.delivery_date).where(Wave.id.in_({w for w, _ in by_point}))
        ).all()
    )
    shipments = []
    for (wave_id, point_id), its in sorted(by_point.items()):
        day = days[wave_id]
        pickups = [o.completed_at for o in its if o.completed_at is not None]
        shipments.append(
            PickupShipment(
                wave_id=wave_id,
                pickup_point_id=point_id,
                delivery_date=day,
                due_at=clock.local_midnight(day + timedelta(days=1)),
                arrived=any(
                    o.status in ("arrived", "completed") or o.close_reason == "not_picked_up"
                    for o in its
                ),
                first_pickup_at=min(pickups, default=None),
                undelivered=any(o.close_reason == "not_delivered" for o in its),
            )
        )
    return shipments


@dataclass(frozen=True)
class SupplierWave:
    """One of a supplier's settled waves: how its items ended at the cut-off (MOQ reached or
    not), and the pickup points it had goods to deliver to (an order line confirmed there)."""

    wave_id: int
    cutoff_at: datetime
    delivery_date: date
    confirmed_items: int
    cancelled_items: int
    points: frozenset[int]


def supplier_waves(
    session: Session, supplier_id: int, *, since: datetime | None
) -> list[SupplierWave]:
    """The supplier's settled waves whose cut-off was since ``since`` (None: all time)."""
    query = select(Wave.id, Wave.cutoff_at, Wave.delivery_date).where(
        Wave.supplier_id == supplier_id, Wave.status == WaveStatus.SETTLED
    )
    if since is not None:
        query = query.where(Wave.cutoff_at >= since)
    waves = session.execute(query.order_by(Wave.id)).all()
    ids = [w.id for w in waves]
    if not ids:
        return []
    items: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for wave_id, status, n in session.execute(
        select(WaveItem.wave_id, WaveItem.status, func.count())
        .where(WaveItem.wave_id.in_(ids))
        .group_by(WaveItem.wave_id, WaveItem.status)
    ):
        items[wave_id][status] += int(n)
    points: dict[int, set[int]] = defaultdict(set)
    for wave_id, point_id in session.execute(
        select(WaveOrderInfo.wave_id, WaveOrderInfo.pickup_point_id)
        .join(WaveOrderLine, WaveOrderLine.order_id == WaveOrderInfo.order_id)
        .where(WaveOrderInfo.wave_id.in_(ids), WaveOrderLine.status == LineStatus.CONFIRMED)
        .distinct()
    ):
        points[wave_id].add(point_id)
    return [
        SupplierWave(
            wave_id=w.id,
            cutoff_at=w.cutoff_at,
            delivery_date=w.delivery_date,
            confirmed_items=items[w.id][ItemStatus.CONFIRMED],
            cancelled_items=items[w.id][ItemStatus.CANCELLED],
            points=frozenset(points[w.id]),
        )
        for w in waves
    ]
