"""Settling a wave at its cut-off, exactly once, in chunks.

The first transaction fixes every item's outcome and moves the wave to ``settling``; each
later one settles a chunk of orders, set-based (one statement per table for the chunk, the
orders moved by compare-and-set from ``paid``), and the last marks the wave ``settled``; a
crash in between rolls its chunk back whole and is finished by the next round.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.core import clock, outbox
from tuangou.core.db import is_sqlite, run_in_transaction, table
from tuangou.orders import service as orders
from tuangou.pools import rules
from tuangou.pools.models import (
    Wave,
    WaveItem,
    WaveOrderLine,
    WaveUsage,
)
from tuangou.pools.rules import ItemStatus, LineStatus, WaveStatus
from tuangou.pools.service.ordering import lock_releases
from tuangou.pools.service.publishing import get_wave, items_of

if TYPE_CHECKING:
    from tuangou.orders.models import Order

SETTLE_CHUNK = 500


def settle_wave(wave_id: int) -> str | None:
    """Settle a wave past its cut-off, exactly once, in chunks. Returns the final status."""

    def start(session: Session) -> bool:
        wave = get_wave(session, wave_id)
        if wave.status == WaveStatus.SETTLING:
            return True
        if wave.status != WaveStatus.OPEN or wave.cutoff_at > clock.now():
            return False
        moved = session.execute(
            update(table(Wave))
            .where(Wave.id == wave_id, Wave.status == WaveStatus.OPEN)
            .values(status=WaveStatus.SETTLING)
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return False
        # Unpaid orders are released first, so the totals are final.
        unpaid = orders.ids_query(kind="wave", campaign_id=wave_id, statuses=("pending_payment",))
        pending = sorted(orders.get_many(session, unpaid), key=lambda o: o.id)
        lock_releases(session, pending)
        for order in pending:
            orders.release_unpaid(session, order, reason="wave_cutoff")
        for item in items_of(session, wave_id):
            session.refresh(item)
            outcome = rules.settle_item(
                price=item.price,
                tiers=rules.ordered_pairs(item.tiers),
                moq=item.moq,
                total=item.sold,
            )
            item.status = ItemStatus.CONFIRMED if outcome.confirmed else ItemStatus.CANCELLED
            item.final_unit_price = outcome.final_unit_price
        session.flush()
        return True

    if not run_in_transaction(start):
        return None
    while run_in_transaction(lambda s: _settle_chunk(s, wave_id)):
        pass

    def finish(session: Session) -> str | None:
        moved = session.execute(
            update(table(Wave))
            .where(Wave.id == wave_id, Wave.status == WaveStatus.SETTLING)
            .values(status=WaveStatus.SETTLED, settled_at=clock.now())
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return None
        # The wave's books with its SKUs, once (with the move above): the units sold leave
        # each SKU's stock, and the rest of its allotment is free for the next wave.
        for item in items_of(session, wave_id):
            catalog.settle_allocation(
                session, sku_id=item.sku_id, allocated=item.stock, sold=item.sold
            )
        return "settled"

    return run_in_transaction(finish)


def _settle_chunk(session: Session, wave_id: int) -> int:
    """Settle up to SETTLE_CHUNK paid orders (claimed with SKIP LOCKED on PostgreSQL).

    Reads are batched (the chunk's orders and lines in two queries) and so are the writes:
    the lines' outcomes (one UPDATE per item), the units of cancelled items going back (one
    UPDATE per item), the members' limits (one executemany), and the money of every plain
    order (:func:`_settle_plain`: a few statements for the whole chunk). An order with a
    discount or a subsidy (rare in a wave) is settled alone (:func:`_settle_order`), through
    the same refund path as every refund.
    """
    query = orders.ids_query(kind="wave", campaign_id=wave_id, statuses=("paid",))
    query = query.limit(SETTLE_CHUNK)
    if not is_sqlite():
        query = query.with_for_update(skip_locked=True)
    order_ids = list(session.scalars(query))
    if not order_ids:
        return 0
    items = {i.id: i for i in items_of(session, wave_id)}
    wave = get_wave(session, wave_id)
    found = {x.id: x for x in orders.get_many(session, order_ids)}
    due = [found[i] for i in order_ids if found[i].status == orders.OrderStatus.PAID]
    if not due:
        return len(order_ids)
    due_ids = [x.id for x in due]
    lines: dict[int, list[WaveOrderLine]] = defaultdict(list)
    for line in session.scalars(
        select(WaveOrderLine).where(WaveOrderLine.order_id.in_(due_ids)).order_by(WaveOrderLine.id)
    ):
        lines[line.order_id].append(line)
    # The lines take their item's outcome; the units of cancelled items go back.
    back: dict[int, int] = defaultdict(int)
    usage: dict[tuple[int, int], int] = defaultdict(int)
    for order in due:
        for line in lines[order.id]:
            if items[line.item_id].status != ItemStatus.CONFIRMED:
                back[line.item_id] += line.quantity
                usage[(line.item_id, order.user_id)] += line.quantity
    for item in items.values():
        confirmed = item.status == ItemStatus.CONFIRMED
        session.execute(
            update(table(WaveOrderLine))
            .where(
                WaveOrderLine.order_id.in_(due_ids),
                WaveOrderLine.item_id == item.id,
                WaveOrderLine.status == LineStatus.OPEN,
            )
            .values(
                status=LineStatus.CONFIRMED if confirmed else LineStatus.REFUNDED,
                final_unit_price=item.final_unit_price if confirmed else None,
            )
        )
    for item_id, quantity in sorted(back.items()):
        session.execute(
            update(table(WaveItem))
            .where(WaveItem.id == item_id)
            .values(sold=WaveItem.sold - quantity)
        )
    if usage:
        session.execute(
            update(table(WaveUsage))
            .where(
                WaveUsage.item_id == bindparam("b_item"),
                WaveUsage.user_id == bindparam("b_user"),
            )
            .values(quantity=WaveUsage.quantity - bindparam("b_quantity")),
            [
                {"b_item": item_id, "b_user": user_id, "b_quantity": quantity}
                for (item_id, user_id), quantity in sorted(usage.items())
            ],
        )
    plain = [o for o in due if orders.plain(o)]
    others = [o for o in due if not orders.plain(o)]
    _settle_plain(session, wave, items, plain, lines)
    for order in others:
        _settle_order(session, wave, items, order, lines[order.id])
    return len(order_ids)


@dataclass(frozen=True)
class _Outcome:
    """What the cut-off means for one order's money (pure arithmetic over its lines)."""

    protection: int  # the tier's difference, refunded on confirmed lines
    cancelled: int  # the lines of items below their minimum, refunded
    confirmed: list[tuple[str, int]]  # (item title, quantity) confirmed


def _outcome(items: dict[int, WaveItem], lines: list[WaveOrderLine]) -> _Outcome:
    protection = 0
    cancelled = 0
    confirmed: list[tuple[str, int]] = []
    for line in lines:
        item = items[line.item_id]
        if item.status == ItemStatus.CONFIRMED:
            assert item.final_unit_price is not None
            protection += rules.protection_refund(
                line.unit_price, item.final_unit_price, line.quantity
            )
            confirmed.append((item.title, line.quantity))
        else:
            cancelled += line.unit_price * line.quantity
    return _Outcome(protection, cancelled, confirmed)


def _settle_plain(
    session: Session,
    wave: Wave,
    items: dict[int, WaveItem],
    due: list[Order],
    lines: dict[int, list[WaveOrderLine]],
) -> None:
    """The money of a chunk's plain orders (no discount, no subsidy: ``orders.plain``),
    set-based: the refunds of every order in one ``orders.refund_many`` (a multi-row INSERT
    of the refunds, one guarded UPDATE of the orders, the ledger's and the outbox's rows in
    multi-row INSERTs), then one compare-and-set UPDATE for the orders refunded in full and
    one for those confirmed, and the members' events in one INSERT per topic. The same
    amounts, keys, notes and events as :func:`_settle_order`, which settles the others."""
    if not due:
        return
    now = clock.now()
    refunds: list[orders.RefundOf] = []
    # (order id, member) of each: read now, as the writes below leave the orders expired.
    refunded: list[tuple[tuple[int, int], int]] = []
    confirmed: list[tuple[tuple[int, int], _Outcome]] = []
    for order in due:
        outcome = _outcome(items, lines[order.id])
        who = (order.id, order.user_id)
        if not outcome.confirmed:
            left = order.paid_amount - order.refunded_amount
            if left > 0:
                refunds.append(
                    orders.RefundOf(order, left, "moq_not_met", note="未达成团门槛, 全额退款")
                )
            refunded.append((who, left))
            continue
        if outcome.cancelled:
            refunds.append(
                orders.RefundOf(order, outcome.cancelled, "moq_not_met", note="部分商品未成团")
            )
        if outcome.protection:
            refunds.append(
                orders.RefundOf(order, outcome.protection, "price_protection", note="阶梯价退差价")
            )
        confirmed.append((who, outcome))
    orders.refund_many(session, refunds)
    orders.close_many(
        session,
        [order_id for (order_id, _), _ in refunded],
        frm=orders.OrderStatus.PAID,
        to=orders.OrderStatus.REFUNDED,
        closed_at=now,
        close_reason="moq_not_met",
    )
    orders.close_many(
        session,
        [order_id for (order_id, _), _ in confirmed],
        frm=orders.OrderStatus.PAID,
        to=orders.OrderStatus.CONFIRMED,
        settled_at=now,
    )
    outbox.emit_many(
        session,
        "wave.refunded",
        [
            {"user_ids": [user_id], "order_id": order_id, "wave_id": wave.id, "refund": left}
            for (order_id, user_id), left in refunded
        ],
    )
    outbox.emit_many(
        session,
        "wave.confirmed",
        [
            {
                "user_ids": [user_id],
                "order_id": order_id,
                "wave_id": wave.id,
                "delivery_date": wave.delivery_date.isoformat(),
                "items": outcome.confirmed,
                "refund": outcome.protection + outcome.cancelled,
            }
            for (order_id, user_id), outcome in confirmed
        ],
    )


def _settle_order(
    session: Session,
    wave: Wave,
    items: dict[int, WaveItem],
    order: Order,
    lines: list[WaveOrderLine],
) -> None:
    """The money of one order with discounts or subsidy at cut-off (its lines were marked by
    the chunk), one refund at a time."""
    outcome = _outcome(items, lines)
    protection, cancelled, confirmed = outcome.protection, outcome.cancelled, outcome.confirmed
    if not confirmed:
        refunded = orders.refund_in_full(
            session, order, reason="moq_not_met", note="未达成团门槛, 全额退款"
        )
        outbox.emit(
            session,
            "wave.refunded",
            {
                "user_ids": [order.user_id],
                "order_id": order.id,
                "wave_id": wave.id,
                "refund": refunded,
            },
        )
        return
    if cancelled:
        orders.refund(session, order, amount=cancelled, reason="moq_not_met", note="部分商品未成团")
    if protection:
        orders.refund(
            session, order, amount=protection, reason="price_protection", note="阶梯价退差价"
        )
    orders.move(
        session,
        order.id,
        orders.OrderStatus.PAID,
        orders.OrderStatus.CONFIRMED,
        settled_at=clock.now(),
    )
    outbox.emit(
        session,
        "wave.confirmed",
        {
            "user_ids": [order.user_id],
            "order_id": order.id,
            "wave_id": wave.id,
            "delivery_date": wave.delivery_date.isoformat(),
            "items": confirmed,
            "refund": protection + cancelled,
        },
    )


def due_waves(session: Session, limit: int = 20) -> list[int]:
    return list(
        session.scalars(
            select(Wave.id)
            .where(
                (Wave.status == WaveStatus.SETTLING)
                | ((Wave.status == WaveStatus.OPEN) & (Wave.cutoff_at <= clock.now()))
            )
            .order_by(Wave.cutoff_at)
            .limit(limit)
        )
    )
