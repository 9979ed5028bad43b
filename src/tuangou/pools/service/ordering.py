"""Ordering from a wave (接龙): the member's limit per item, the stock hold, the order, and
the wave as a kind of order (what a payment, a release or a pickup does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock, locks
from tuangou.core.db import get_or_404, table, upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.pools import errors
from tuangou.pools.models import (
    WaveItem,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
    WaveUsage,
)
from tuangou.pools.rules import ItemStatus, LineStatus, WaveStatus
from tuangou.pools.service.publishing import get_listing, get_wave, held_back, items_of

if TYPE_CHECKING:
    from tuangou.orders.models import Order


@dataclass(frozen=True)
class Placed:
    order: Order
    info: WaveOrderInfo
    lines: list[WaveOrderLine]
    started: payments.Started


def _above_limit(session: Session, item: WaveItem, user_id: int) -> errors.AboveLimit:
    """The refusal, saying how many more of the item the member may still order (``left``)."""
    used = session.scalar(
        select(WaveUsage.quantity).where(WaveUsage.item_id == item.id, WaveUsage.user_id == user_id)
    )
    return errors.AboveLimit(
        f"at most {item.per_member_limit} of {item.title} per member",
        limit=item.per_member_limit,
        left=max(0, item.per_member_limit - (used or 0)),
    )


def _reserve(session: Session, item: WaveItem, user_id: int, quantity: int) -> None:
    """Count ``quantity`` against the member's limit for the item (a guarded upsert)."""
    if quantity > item.per_member_limit:
        raise _above_limit(session, item, user_id)
    stmt = (
        upsert_insert(session)(table(WaveUsage))
        .values(item_id=item.id, user_id=user_id, quantity=quantity)
        .on_conflict_do_update(
            index_elements=["item_id", "user_id"],
            set_={"quantity": WaveUsage.quantity + quantity},
            where=WaveUsage.quantity + quantity <= item.per_member_limit,
        )
    )
    locks.note(session, Rank.LIMIT, item.id)
    if not session.execute(stmt).rowcount:  # type: ignore[attr-defined]
        raise _above_limit(session, item, user_id)


def _hold(session: Session, item: WaveItem, quantity: int) -> None:
    """Hold the item's units (a guarded update), or refuse: sold out."""
    locks.note(session, Rank.ITEM, item.id)
    taken = session.execute(
        update(table(WaveItem))
        .where(
            WaveItem.id == item.id,
            WaveItem.status == ItemStatus.OPEN,
            WaveItem.sold + WaveItem.held + quantity <= WaveItem.stock,
        )
        .values(held=WaveItem.held + quantity)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise errors.SoldOut(f"{item.title} is sold out")


def place_order(
    session: Session,
    *,
    user_id: int,
    listing_id: int,
    quantities: dict[int, int],
    remark: str = "",
    coupon_id: int | None = None,
) -> Placed:
    """A member joins the chain: one order for several items of a wave, paid at once."""
    listing = get_listing(session, listing_id)
    wave = get_wave(session, listing.wave_id)
    now = clock.now()
    if wave.status != WaveStatus.OPEN or wave.cutoff_at <= now:
        raise errors.WaveClosed()
    if not communities.is_member(session, listing.community_id, user_id):
        raise errors.NotCommunityMember()
    if held_back(session, wave.id, user_id):
        raise errors.ListingNotFound()  # an early window: not this member's wave yet
    remark = remark.strip()
    if len(remark) > 200:
        raise InvalidInput("the remark may have at most 200 characters", field="remark")
    wanted = {int(k): int(v) for k, v in quantities.items() if int(v) != 0}
    if not wanted:
        raise errors.BelowLimit()
    if any(q < 1 for q in wanted.values()):
        raise errors.BelowLimit("quantities must be positive")
    items = {i.id: i for i in items_of(session, wave.id)}
    unknown = set(wanted) - set(items)
    if unknown:
        raise InvalidInput(f"items {sorted(unknown)} are not in this wave", field="items")
    # The one lock order (core.locks): the member's limits, then the items' units, each in
    # ascending item id.
    for item_id in sorted(wanted):
        _reserve(session, items[item_id], user_id, wanted[item_id])
    for item_id in sorted(wanted):
        _hold(session, items[item_id], wanted[item_id])
    point = communities.get_pickup_point(session, listing.pickup_point_id)
    amount = sum(items[i].price * q for i, q in wanted.items())
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=wave.supplier_id,
        kind="wave",
        campaign_id=wave.id,
        sku_id=None,
        quantity=sum(wanted.values()),
        unit_price=0,
        amount=amount,
        address={"pickup_point": point.name, "line": point.address},
        hold_minutes=wave.hold_minutes,
        hold_until=wave.cutoff_at,
        coupon_id=coupon_id,
    )
    info = WaveOrderInfo(
        order_id=order.id,
        wave_id=wave.id,
        listing_id=listing.id,
        pickup_point_id=listing.pickup_point_id,
        seq=None,
        remark=remark,
    )
    session.add(info)
    lines = [
        WaveOrderLine(
            order_id=order.id,
            item_id=i,
            sku_id=items[i].sku_id,
            quantity=q,
            unit_price=items[i].price,
            status=LineStatus.OPEN,
        )
        for i, q in sorted(wanted.items())
    ]
    session.add_all(lines)
    session.flush()
    try:
        started = payments.start(session, order)
    except orders.errors.OrderNotPayable as exc:
        # The cut-off passed while the order was being made (its hold ends at the cut-off).
        raise errors.WaveClosed() from exc
    return Placed(order, info, lines, started)


def lines_of(session: Session, order_id: int) -> list[WaveOrderLine]:
    return list(
        session.scalars(
            select(WaveOrderLine)
            .where(WaveOrderLine.order_id == order_id)
            .order_by(WaveOrderLine.id)
        )
    )


def info_of(session: Session, order_id: int) -> WaveOrderInfo:
    not_wave = errors.ListingNotFound("this order is not a wave order")
    return get_or_404(session, WaveOrderInfo, order_id, not_wave)


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Wave orders were paid: their units move from held to sold, and each order takes its
    number in the chain."""
    for order in paid:
        lines = lines_of(session, order.id)
        locks.note(session, Rank.ITEM, [line.item_id for line in lines])
        for line in lines:
            session.execute(
                update(table(WaveItem))
                .where(WaveItem.id == line.item_id)
                .values(held=WaveItem.held - line.quantity, sold=WaveItem.sold + line.quantity)
            )
        info = info_of(session, order.id)
        locks.note(session, Rank.COUNTER, info.listing_id)
        info.seq = session.execute(
            update(table(WaveListing))
            .where(WaveListing.id == info.listing_id)
            .values(next_seq=WaveListing.next_seq + 1)
            .returning(WaveListing.next_seq)
        ).scalar_one()
    session.flush()


def lock_releases(session: Session, order_list: list[Order]) -> None:
    """Lock up front, in the one lock order, what releasing these unpaid wave orders
    together will change (:func:`on_order_released`): the orders, the members' per-item
    limits, then the items, so that releasing them one by one takes no lock out of order."""
    orders.lock_orders(session, [o.id for o in order_list])
    pairs = sorted(
        {(line.item_id, o.user_id) for o in order_list for line in lines_of(session, o.id)}
    )
    item_ids = sorted({item_id for item_id, _ in pairs})
    locks.note(session, Rank.LIMIT, item_ids)
    if pairs and session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(WaveUsage.item_id)
            .where(tuple_(WaveUsage.item_id, WaveUsage.user_id).in_(pairs))
            .order_by(WaveUsage.item_id, WaveUsage.user_id)
            .with_for_update()
        ).all()
    locks.lock(session, Rank.ITEM, WaveItem.id, item_ids)


def on_order_released(session: Session, order: Order) -> None:
    """An unpaid wave order was closed: the member's per-item limits, then the items' held
    units come back."""
    lines = lines_of(session, order.id)
    for line in lines:
        _release_usage(session, line.item_id, order.user_id, line.quantity)
    locks.note(session, Rank.ITEM, [line.item_id for line in lines])
    for line in lines:
        session.execute(
            update(table(WaveItem))
            .where(WaveItem.id == line.item_id)
            .values(held=WaveItem.held - line.quantity)
        )


def _release_usage(session: Session, item_id: int, user_id: int, quantity: int) -> None:
    locks.note(session, Rank.LIMIT, item_id)
    session.execute(
        update(table(WaveUsage))
        .where(WaveUsage.item_id == item_id, WaveUsage.user_id == user_id)
        .values(quantity=WaveUsage.quantity - quantity)
    )


def payees(session: Session, order: Order, amount: int) -> orders.Legs:
    """At pickup the escrow goes to the supplier, the leader's commission (frozen through
    the after-sale window), their upline's override, and the operator's fee."""
    info = info_of(session, order.id)
    listing = get_listing(session, info.listing_id)
    return commission.accrue(
        session,
        order=order,
        leader_id=listing.leader_id,
        commission_bps=listing.commission_bps,
        amount=amount,
    )


KIND = orders.KindHooks(
    on_paid=on_paid,
    on_released=on_order_released,
    payees=payees,
    campaign_limit=False,  # per-item limits: wave_usage
)
