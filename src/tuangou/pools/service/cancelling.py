"""A member's way out of a wave order: cancelling it before the cut-off.

A paid order is refunded in full through the ledger (escrow back to the member, the one refund
path), its units leave the items' totals (so the MOQ bars and the settlement count without
them), the member's per-item limits come back, and it leaves the chain list: its chain number
(跟团号) is given up and never handed out again, and the others keep theirs, since members
quote them at the pickup point. An unpaid order is simply released, as the order's own cancel.

Exactly one outcome against the cut-off settlement: the cancel first takes the wave's row
with a guarded update (``status = 'open' AND cutoff_at > now``), as the settlement's first
step takes it to move it to ``settling``. Whoever comes second sees the other's outcome: a
cancel after the settlement started is refused (``cancel_too_late``); a settlement after a
cancel counts without its units. The wave's row comes before every rank of
:mod:`tuangou.core.locks` on both paths (like a team: before its orders); then the order, the
member's limits and the items' units, each in ascending id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update

from tuangou.core import clock, locks
from tuangou.core.db import table
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.pools import errors
from tuangou.pools.models import Wave, WaveItem, WaveOrderInfo, WaveOrderLine
from tuangou.pools.rules import LineStatus, WaveStatus
from tuangou.pools.service.ordering import _release_usage, info_of, lines_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tuangou.orders.models import Order

REASON = "cancelled_by_member"


@dataclass(frozen=True)
class Cancelled:
    order: Order
    refunded: int  # fen given back by this call (0: nothing was paid, or it was done before)
    again: bool  # the order had already been cancelled (a retry)


def _done(order: Order) -> bool:
    return order.close_reason == REASON and order.status in orders.CLOSED


def _hold_wave(session: Session, wave_id: int) -> bool:
    """Take the wave's row while it is open and before its cut-off, or say it is too late."""
    return bool(
        session.execute(
            update(table(Wave))
            .where(
                Wave.id == wave_id,
                Wave.status == WaveStatus.OPEN,
                Wave.cutoff_at > clock.now(),
            )
            .values(status=Wave.status)
        ).rowcount  # type: ignore[attr-defined]
    )


def cancel_order(session: Session, *, user_id: int, order_id: int) -> Cancelled:
    """The member cancels their wave order before the cut-off. Idempotent: a second call
    returns the cancelled order and refunds nothing."""
    order = orders.get_for_user(session, order_id, user_id)
    info = info_of(session, order.id)
    if _done(order):
        return Cancelled(order, 0, again=True)
    if order.status not in (orders.OrderStatus.PENDING_PAYMENT, orders.OrderStatus.PAID):
        # Settled (confirmed and later) or closed otherwise: the cut-off has done its work.
        raise errors.CancelTooLate()
    if not _hold_wave(session, info.wave_id):
        raise errors.CancelTooLate()
    order = orders.lock_orders(session, [order.id])[0]
    session.refresh(order)
    if _done(order):
        return Cancelled(order, 0, again=True)
    if order.status == orders.OrderStatus.PENDING_PAYMENT:
        if not orders.release_unpaid(session, order, reason=REASON):
            raise errors.CancelTooLate()
        session.refresh(order)
        return Cancelled(order, 0, again=False)
    if order.status != orders.OrderStatus.PAID:
        raise errors.CancelTooLate()
    lines = lines_of(session, order.id)
    by_item: dict[int, int] = {}
    for line in lines:
        by_item[line.item_id] = by_item.get(line.item_id, 0) + line.quantity
    # The member's limits, then the items' units, each in ascending item id (core.locks).
    for item_id in sorted(by_item):
        _release_usage(session, item_id, order.user_id, by_item[item_id])
    locks.note(session, Rank.ITEM, sorted(by_item))
    for item_id in sorted(by_item):
        session.execute(
            update(table(WaveItem))
            .where(WaveItem.id == item_id)
            .values(sold=WaveItem.sold - by_item[item_id])
        )
    session.execute(
        update(table(WaveOrderLine))
        .where(WaveOrderLine.order_id == order.id)
        .values(status=LineStatus.REFUNDED)
    )
    # Out of the chain list; its number is not handed out again.
    session.execute(
        update(table(WaveOrderInfo)).where(WaveOrderInfo.order_id == order.id).values(seq=None)
    )
    refunded = orders.refund_in_full(session, order, reason=REASON, note="截单前取消订单, 全额退款")
    session.expire(info)
    return Cancelled(order, refunded, again=False)


def cancellable(order: Order, wave: Wave) -> bool:
    """Whether the member may still cancel the order (for the page's button)."""
    return (
        order.status in (orders.OrderStatus.PENDING_PAYMENT, orders.OrderStatus.PAID)
        and wave.status == WaveStatus.OPEN
        and wave.cutoff_at > clock.now()
    )
