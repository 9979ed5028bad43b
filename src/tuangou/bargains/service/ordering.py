"""The starter buys at the price reached: a ``bargain`` order through the one order, payment
and escrow path, shipped to the member's address like a team buy. Registered in the
composition root as :data:`KIND`.

Locks, in the one order (:mod:`tuangou.core.locks`): the bargain, then (when paid or
released) its order, then the campaign's stock last. A paid bargain is never cut again: a cut
needs the status ``open``, and ``paid`` never goes back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.bargains import errors, rules
from tuangou.bargains.models import Bargain, BargainCampaign
from tuangou.bargains.rules import BargainStatus
from tuangou.bargains.service import bargaining, campaigns
from tuangou.core import clock, locks
from tuangou.core.db import expire_loaded
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.payments import service as payments

if TYPE_CHECKING:
    from tuangou.orders.models import Order

KIND_NAME = "bargain"


@dataclass(frozen=True)
class Bought:
    bargain: Bargain
    order: Order
    started: payments.Started


def place_order(
    session: Session,
    *,
    user_id: int,
    bargain_id: int,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
) -> Bought:
    """The starter's order at the bargain's price (or only at the floor, if the campaign
    says so); its stock is held until paid."""
    bargain = bargaining.get_bargain(session, bargain_id)
    if bargain.starter_id != user_id:
        raise errors.BargainNotFound()
    shipping = accounts.shipping_address(session, user_id, address, address_id=address_id)
    bargain = bargaining.lock_bargain(session, bargain_id)
    campaign = campaigns.get_campaign(session, bargain.campaign_id)
    if bargain.status in (BargainStatus.ORDERED, BargainStatus.PAID):
        raise errors.AlreadyOrdered(order_id=bargain.order_id)
    if bargain.status == BargainStatus.EXPIRED or bargain.deadline <= clock.now():
        raise errors.BargainExpired()
    if campaign.status != rules.CampaignStatus.ACTIVE:
        raise errors.CampaignNotLive()
    if not campaign.buy_at_any_price and bargain.price > bargain.floor_price:
        raise errors.FloorNotReached(floor_price=bargain.floor_price)
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=campaign.supplier_id,
        kind=KIND_NAME,
        campaign_id=campaign.id,
        sku_id=campaign.sku_id,
        quantity=1,
        unit_price=bargain.price,
        address=shipping,
        hold_minutes=campaign.hold_minutes,
        coupon_id=coupon_id,
    )
    session.execute(
        update(Bargain)
        .where(Bargain.id == bargain.id, Bargain.status.in_(rules.BUYABLE))
        .values(status=BargainStatus.ORDERED, order_id=order.id)
    )
    started = payments.start(session, order)
    locks.note(session, Rank.STOCK, campaign.id)
    taken = session.execute(
        update(BargainCampaign)
        .where(
            BargainCampaign.id == campaign.id,
            BargainCampaign.sold + BargainCampaign.held + 1 <= BargainCampaign.stock,
        )
        .values(held=BargainCampaign.held + 1)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise errors.SoldOut()
    session.refresh(bargain)
    return Bought(bargain, order, started)


def _bargains_of_orders(session: Session, order_ids: list[int]) -> list[Bargain]:
    if not order_ids:
        return []
    return list(
        session.scalars(select(Bargain).where(Bargain.order_id.in_(order_ids)).order_by(Bargain.id))
    )


def lock_bargains_of_orders(session: Session, order_ids: list[int]) -> None:
    """Before orders change: the bargains they buy (they rank above an order)."""
    ids = list(session.scalars(select(Bargain.id).where(Bargain.order_id.in_(order_ids))))
    locks.lock(session, Rank.BARGAIN, Bargain.id, ids)


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Bargain orders were paid: each bargain is paid (never cut again), its order is
    confirmed at its price and awaits shipping, and the campaigns' stock moves held → sold."""
    now = clock.now()
    per_campaign: Counter[int] = Counter()
    by_id = {o.id: o for o in paid}
    for bargain in _bargains_of_orders(session, list(by_id)):
        session.execute(
            update(Bargain)
            .where(Bargain.id == bargain.id, Bargain.status == BargainStatus.ORDERED)
            .values(status=BargainStatus.PAID, paid_at=now)
        )
    hours: dict[int, int] = {}
    for order_id in sorted(by_id):
        order = orders.get(session, order_id)
        if order.campaign_id not in hours:
            hours[order.campaign_id] = campaigns.get_campaign(
                session, order.campaign_id
            ).ship_within_hours
        orders.confirm(
            session,
            order,
            final_unit_price=order.unit_price,
            ship_within_hours=hours[order.campaign_id],
        )
        per_campaign[order.campaign_id] += order.quantity
    for campaign_id in sorted(per_campaign):
        locks.note(session, Rank.STOCK, campaign_id)
        session.execute(
            update(BargainCampaign)
            .where(BargainCampaign.id == campaign_id)
            .values(
                held=BargainCampaign.held - per_campaign[campaign_id],
                sold=BargainCampaign.sold + per_campaign[campaign_id],
            )
        )
    # The statements above are plain UPDATEs: what the session had loaded of them is stale.
    expire_loaded(session, Bargain, BargainCampaign)


def on_released(session: Session, order: Order) -> None:
    """An unpaid bargain order was closed: the bargain may be bought again (or is over, if
    its time ran out meanwhile), and its unit goes back to the campaign."""
    now = clock.now()
    for bargain in _bargains_of_orders(session, [order.id]):
        status = rules.after_release(
            bargain.cuts_taken, bargain.helpers_needed, expired=bargain.deadline <= now
        )
        session.execute(
            update(Bargain)
            .where(Bargain.id == bargain.id, Bargain.status == BargainStatus.ORDERED)
            .values(
                status=status,
                order_id=None,
                closed_at=now if status == BargainStatus.EXPIRED else None,
            )
        )
    locks.note(session, Rank.STOCK, order.campaign_id)
    session.execute(
        update(BargainCampaign)
        .where(BargainCampaign.id == order.campaign_id)
        .values(held=BargainCampaign.held - order.quantity)
    )


def facts(session: Session, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What a reply about a bargain order adds: its bargain."""
    return {
        b.order_id: {"bargain_id": b.id}
        for b in _bargains_of_orders(session, order_ids)
        if b.order_id is not None
    }


KIND = orders.KindHooks(
    on_paid=on_paid,
    on_released=on_released,
    lock=lock_bargains_of_orders,
    campaign_limit=False,
    shipped=True,
    facts=facts,
)
