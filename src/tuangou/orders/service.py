"""Orders: creation, the per-member limit, payment marks, refunds, shipping and completion.

Other domains plug into an order's life through :func:`register_kind`: the team buy says what
happens to its seat and stock when an order is paid or released.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, locks, outbox, paging
from tuangou.core.config import get_settings
from tuangou.core.db import (
    execute,
    expire_loaded,
    insert_loaded,
    is_sqlite,
    table,
    upsert_insert,
)
from tuangou.core.errors import InvalidInput
from tuangou.core.locks import Rank
from tuangou.ledger import service as ledger
from tuangou.orders import errors, rules
from tuangou.orders.models import CampaignUsage, Order, Refund
from tuangou.orders.rules import CLOSED as CLOSED
from tuangou.orders.rules import CONFIRMED_OR_LATER as CONFIRMED_OR_LATER
from tuangou.orders.rules import MANUALLY_REFUNDABLE as MANUALLY_REFUNDABLE
from tuangou.orders.rules import OrderStatus, RefundStatus

Legs = list[tuple[str, int]]


@dataclass(frozen=True)
class KindHooks:
    """What a kind of order (team, wave…) does at the moments of an order's life that the
    order domain owns. Kinds are registered in the composition root (``tuangou.wiring``).

    * ``on_paid``: orders of the kind that payments have just paid (a batch; one payment is a
      batch of one), as :class:`PaidOrder` rows: stock moves from held to sold, seats are
      paid, teams open, form and settle.
    * ``on_released``: an unpaid order was closed: its stock, seat and limit come back.
    * ``lock``: given the ids of orders of any kind about to change, lock the rows of the
      kind's own that rank above an order (:mod:`tuangou.core.locks`: a team), so that the
      orders are locked after them.
    * ``payees``: who is paid when the escrow is released (default: the supplier, minus the
      operator's fee).
    * ``campaign_limit``: whether the kind counts its orders in ``campaign_usage`` (the team
      buy does; a wave keeps its own per-item limits).
    * ``shipped``: the supplier ships the goods to the member's address (a team buy); else
      they are picked up (a wave).
    * ``facts``: what a reply about orders of the kind says beyond the order itself (a team
      order: its team and whether the member opened it).
    """

    on_paid: Callable[[Session, list[PaidOrder]], None]
    on_released: Callable[[Session, Order], None]
    lock: Callable[[Session, list[int]], None] | None = None
    payees: Callable[[Session, Order, int], Legs] | None = None
    campaign_limit: bool = True
    shipped: bool = False
    facts: Callable[[Session, list[int]], dict[int, dict[str, Any]]] | None = None


@dataclass(frozen=True)
class PaidOrder:
    """An order that a payment has just paid, as :func:`record_payments` read it back."""

    id: int
    kind: str
    user_id: int
    campaign_id: int
    quantity: int


_kinds: dict[str, KindHooks] = {}


def register_kind(kind: str, hooks: KindHooks) -> None:
    _kinds[kind] = hooks


# Shares taken from the release of any kind of order after its payees (referral commission):
# each is given the order, the amount released and the payees' legs, and returns the legs
# with its shares added and taken from the payees' (the sum stays the amount released).
_release_shares: list[Callable[[Session, Order, int, Legs], Legs]] = []


def register_release_share(share: Callable[[Session, Order, int, Legs], Legs]) -> None:
    if share not in _release_shares:
        _release_shares.append(share)


@dataclass(frozen=True)
class Discounter:
    """Discounts at checkout, the one path for every kind (the coupons domain, connected by
    the composition root):

    * ``price(session, order, coupon_id)``: the new order at its price before discounts;
      returns ``(level discount, coupon discount, the coupon taken)`` in fen, having taken
      the coupon (if any) onto the order, or raises a refusal (which rolls the order back);
    * ``give_back(session, order)``: the order was released unpaid or refunded in full: its
      coupon comes back (if it has not expired; else it stays expired)."""

    price: Callable[[Session, Order, int | None], tuple[int, int, int | None]]
    give_back: Callable[[Session, Order], None]


_discounter: list[Discounter] = []


# Checks of the buyer before any order is created (the composition root registers the
# accounts' "is this account still open?", which locks the member's row for a deletion).
_buyer_checks: list[Callable[[Session, int], None]] = []


def register_buyer_check(check: Callable[[Session, int], None]) -> None:
    if check not in _buyer_checks:
        _buyer_checks.append(check)


def register_discounter(discounter: Discounter) -> None:
    _discounter[:] = [discounter]


def _give_back(session: Session, order: Order) -> None:
    if order.coupon_id is not None and _discounter:
        _discounter[0].give_back(session, order)


def _shipped_kinds() -> tuple[str, ...]:
    return tuple(kind for kind, hooks in _kinds.items() if hooks.shipped)


def facts(session: Session, order_list: list[Order]) -> dict[int, dict[str, Any]]:
    """What each order's kind adds to a reply about it (see :class:`KindHooks`)."""
    found: dict[int, dict[str, Any]] = {o.id: {} for o in order_list}
    by_kind: dict[str, list[int]] = {}
    for o in order_list:
        by_kind.setdefault(o.kind, []).append(o.id)
    for kind, ids in by_kind.items():
        hook = _kinds[kind].facts
        if hook is not None:
            for order_id, extra in hook(session, ids).items():
                found[order_id].update(extra)
    return found


def _lock_kinds(session: Session, order_ids: list[int]) -> None:
    """Before orders change: the rows their kinds rank above an order (their teams)."""
    for hooks in _kinds.values():
        if hooks.lock is not None:
            hooks.lock(session, order_ids)


def lock_orders(
    session: Session, order_ids: list[int], *, under: locks.Lock | None = None
) -> list[Order]:
    """Lock orders up front (in ascending id), for a path that will change several of them;
    ``under``: the lock that guards them, which the caller holds (see :mod:`core.locks`)."""
    locks.lock(session, Rank.ORDER, Order.id, order_ids, under=under)
    return get_many(session, order_ids)


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


# ---------------------------------------------------------------- per-member limit


def reserve_quantity(
    session: Session, *, campaign_id: int, user_id: int, quantity: int, limit: int
) -> None:
    """Count ``quantity`` against the member's limit in a campaign, or raise LimitReached."""
    if quantity > limit:
        raise errors.LimitReached(f"at most {limit} per member in this campaign")
    dialect = session.get_bind().dialect.name
    stmt = _reserve.get(dialect)
    if stmt is None:
        usage = table(CampaignUsage)
        stmt = _reserve[dialect] = (
            _insert(session)(usage)
            .values(
                campaign_id=bindparam("b_campaign"),
                user_id=bindparam("b_user"),
                quantity=bindparam("b_quantity"),
            )
            .on_conflict_do_update(
                index_elements=["campaign_id", "user_id"],
                set_={"quantity": usage.c.quantity + bindparam("b_quantity")},
                where=usage.c.quantity + bindparam("b_quantity") <= bindparam("b_limit"),
            )
        )
    params = {
        "b_campaign": campaign_id,
        "b_user": user_id,
        "b_quantity": quantity,
        "b_limit": limit,
    }
    locks.note(session, Rank.LIMIT, user_id)
    if execute(session, stmt, params).rowcount == 0:
        raise errors.LimitReached(f"at most {limit} per member in this campaign")


_reserve: dict[str, Any] = {}  # the statement of reserve_quantity, built once per dialect


def release_quantity(session: Session, *, campaign_id: int, user_id: int, quantity: int) -> None:
    locks.note(session, Rank.LIMIT, user_id)
    session.execute(
        update(CampaignUsage)
        .where(CampaignUsage.campaign_id == campaign_id, CampaignUsage.user_id == user_id)
        .values(quantity=CampaignUsage.quantity - quantity)
    )


def lock_usage(session: Session, *, campaign_id: int, user_ids: list[int]) -> None:
    """Lock members' counters in a campaign up front (a path that releases several)."""
    locks.lock(
        session,
        Rank.LIMIT,
        CampaignUsage.user_id,
        user_ids,
        CampaignUsage.campaign_id == campaign_id,
    )


def has_paid_order(session: Session, user_id: int) -> bool:
    return (
        session.scalar(
            select(Order.id).where(Order.user_id == user_id, Order.paid_at.is_not(None)).limit(1)
        )
        is not None
    )


# ---------------------------------------------------------------- creation and payment


def create_order(
    session: Session,
    *,
    user_id: int,
    supplier_id: int,
    kind: str,
    campaign_id: int,
    sku_id: int | None,
    quantity: int,
    unit_price: int,
    address: dict[str, Any],
    hold_minutes: int,
    amount: int | None = None,
    hold_until: datetime | None = None,
    coupon_id: int | None = None,
) -> Order:
    """A new unpaid order holding its stock for ``hold_minutes`` (or until ``hold_until``
    if sooner: a wave's cut-off). ``amount`` defaults to unit price × quantity: the price
    before discounts; the member's level discount and the coupon ``coupon_id`` (taken onto
    the order) come off it through the registered :class:`Discounter`."""
    for check in _buyer_checks:
        check(session, user_id)
    now = clock.now()
    expires = now + timedelta(minutes=hold_minutes)
    if hold_until is not None:
        expires = min(expires, hold_until)
    order = Order(
        user_id=user_id,
        supplier_id=supplier_id,
        kind=kind,
        campaign_id=campaign_id,
        sku_id=sku_id,
        quantity=quantity,
        unit_price=unit_price,
        amount=unit_price * quantity if amount is None else amount,
        list_amount=unit_price * quantity if amount is None else amount,
        level_discount=0,
        coupon_discount=0,
        status=OrderStatus.PENDING_PAYMENT,
        paid_amount=0,
        refunded_amount=0,
        subsidy_amount=0,
        released_amount=0,
        address=address,
        created_at=now,
        expires_at=expires,
    )
    order = insert_loaded(session, order)
    if _discounter:
        level, coupon, taken = _discounter[0].price(session, order, coupon_id)
        if level or coupon or taken is not None:
            if level < 0 or coupon < 0 or level + coupon >= order.amount:
                raise InvalidInput("the discounts must leave something to pay")
            session.execute(
                update(Order)
                .where(Order.id == order.id)
                .values(
                    amount=Order.amount - level - coupon,
                    level_discount=level,
                    coupon_discount=coupon,
                    coupon_id=taken,
                )
                .execution_options(synchronize_session=False)
            )
            session.refresh(order)
    elif coupon_id is not None:
        raise InvalidInput("coupons are not available", field="coupon_id")
    return order


def get(session: Session, order_id: int, *, lock: bool = False) -> Order:
    """The order; ``lock``: locked for a change (an order whose team has settled: before that,
    :func:`release_unpaid` and the team's own paths lock the team first)."""
    if lock:
        locks.note(session, Rank.ORDER, order_id)
    query = select(Order).where(Order.id == order_id)
    if lock and not is_sqlite():
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise errors.OrderNotFound()
    return order


def get_many(session: Session, order_ids: list[int] | Select[int]) -> list[Order]:
    """The orders of a list of ids, or of a query of ids (:func:`ids_query`), by id."""
    if isinstance(order_ids, list) and not order_ids:
        return []
    return list(session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)))


def buyers(session: Session, order_ids: list[int]) -> dict[int, int]:
    """Each order's member, read without loading the orders into the session (a hook inside
    a payment's transaction must not leave stale orders behind its plain UPDATEs)."""
    if not order_ids:
        return {}
    rows = session.execute(select(Order.id, Order.user_id).where(Order.id.in_(order_ids)))
    return {int(o): int(u) for o, u in rows}


def ids_query(
    *,
    kind: str,
    campaign_id: int | None = None,
    statuses: Collection[str] | None = None,
    paid: bool | None = None,
    settled_since: datetime | None = None,
    user_id: int | None = None,
) -> Select[int]:
    """A query of the ids of the orders of ``kind`` that match, by id: of one campaign (or
    wave), in one of ``statuses``, ever paid (or never), settled since an instant, of one
    member.

    Other domains read orders through this and :func:`get_many`: they filter their own rows
    with ``.in_(ids_query(...))`` or run it, and never join the orders table themselves."""
    query = select(Order.id).where(Order.kind == kind)
    if campaign_id is not None:
        query = query.where(Order.campaign_id == campaign_id)
    if statuses is not None:
        query = query.where(Order.status.in_(statuses))
    if paid is not None:
        query = query.where(Order.paid_at.is_not(None) if paid else Order.paid_at.is_(None))
    if settled_since is not None:
        query = query.where(Order.settled_at >= settled_since)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    return query.order_by(Order.id)


def supplier_ids_query(*, supplier_id: int, paid_since: datetime | None = None) -> Select[int]:
    """The ids of a supplier's orders (of every kind) ever paid, since an instant: the
    orders of its goods, as the supplier quality record counts them."""
    query = select(Order.id).where(Order.supplier_id == supplier_id, Order.paid_at.is_not(None))
    if paid_since is not None:
        query = query.where(Order.paid_at >= paid_since)
    return query.order_by(Order.id)


def campaign_ids(session: Session, *, kind: str, statuses: Collection[str]) -> list[int]:
    """The campaigns (or waves) that have orders of ``kind`` in one of ``statuses``."""
    return list(
        session.scalars(
            select(Order.campaign_id)
            .where(Order.kind == kind, Order.status.in_(statuses))
            .distinct()
            .order_by(Order.campaign_id)
        )
    )


def get_for_user(session: Session, order_id: int, user_id: int) -> Order:
    order = get(session, order_id)
    if order.user_id != user_id:
        raise errors.NotYourOrder()
    return order


def assert_payable(order: Order) -> None:
    if order.status != OrderStatus.PENDING_PAYMENT or order.expires_at <= clock.now():
        raise errors.OrderNotPayable()


def _pay_statement() -> Any:
    orders = table(Order)
    c = orders.c
    return (
        update(orders)
        .where(
            c.id == bindparam("b_order"),
            c.status == OrderStatus.PENDING_PAYMENT,
            c.expires_at > bindparam("b_now"),  # a hold that has run out is not revived
        )
        .values(
            status=OrderStatus.PAID,
            paid_amount=c.paid_amount + bindparam("b_amount"),
            payment_id=bindparam("b_payment"),
            paid_at=bindparam("b_now"),
        )
        .returning(c.id, c.kind, c.user_id, c.campaign_id, c.quantity)
    )


_PAY = _pay_statement()  # built once: the hot path of every confirmation


def record_payments(session: Session, paid: list[tuple[int, int, int]]) -> dict[int, bool]:
    """Money arrived for orders: ``(order_id, payment_id, amount)`` each (one payment is a
    batch of one). Returns, per payment id, whether it paid its order. A payment that found
    its order no longer waiting for it (closed, or its hold run out) is refunded in full as a
    late payment.

    Locks: the kinds' rows above the orders (their teams), then the orders in ascending id;
    then each kind's ``on_paid`` for its orders of the batch."""
    now = clock.now()
    outcome: dict[int, bool] = {}
    fresh: list[PaidOrder] = []
    late: list[tuple[int, int, int]] = []
    order_ids = sorted({order_id for order_id, _, _ in paid})
    _lock_kinds(session, order_ids)
    locks.note(session, Rank.ORDER, order_ids)
    for order_id, payment_id, amount in sorted(paid):
        params = {"b_order": order_id, "b_payment": payment_id, "b_amount": amount, "b_now": now}
        row = execute(session, _PAY, params).first()
        if row is None:
            late.append((order_id, payment_id, amount))
            continue
        outcome[payment_id] = True
        fresh.append(PaidOrder(*row))
    expire_loaded(session, Order)  # the plain statements above changed them
    _fund_discounts(session, [o.id for o in fresh])
    by_kind: dict[str, list[PaidOrder]] = {}
    for order in fresh:
        by_kind.setdefault(order.kind, []).append(order)
    for kind in sorted(by_kind):
        _kinds[kind].on_paid(session, by_kind[kind])
    for order_id, payment_id, amount in late:
        outcome[payment_id] = False
        _late_payment(session, order_id, payment_id=payment_id, amount=amount)
    return outcome


def _fund_discounts(session: Session, order_ids: list[int]) -> None:
    """The subsidy account pays the discounts of orders just paid into their escrow, so that
    escrow holds the price before discounts: ``subsidy:discount:<order>``."""
    if not order_ids:
        return
    for order_id, discount in session.execute(
        select(Order.id, Order.level_discount + Order.coupon_discount).where(
            Order.id.in_(order_ids), Order.level_discount + Order.coupon_discount > 0
        )
    ):
        if ledger.record_subsidy(
            session, key=f"discount:{order_id}", order_id=order_id, amount=int(discount)
        ):
            session.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(subsidy_amount=Order.subsidy_amount + int(discount))
                .execution_options(synchronize_session=False)
            )


def _late_payment(session: Session, order_id: int, *, payment_id: int, amount: int) -> None:
    session.execute(
        update(Order).where(Order.id == order_id).values(paid_amount=Order.paid_amount + amount)
    )
    order = get(session, order_id)
    session.refresh(order)
    refund(
        session,
        order,
        amount=amount,
        reason="late_payment",
        key=f"late:{payment_id}",
        payment_id=payment_id,
        note="payment arrived after the order was closed",
        gross=False,
    )


def release_unpaid(session: Session, order: Order, *, reason: str) -> bool:
    """Close an unpaid order and give back its seat, stock and limit. Idempotent.

    Locks: the kind's rows above the order (its team), the order, the member's limit, then
    whatever the kind gives back (its seat, its stock)."""
    _lock_kinds(session, [order.id])
    locks.note(session, Rank.ORDER, order.id)
    closed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.PENDING_PAYMENT)
        .values(status=OrderStatus.CANCELLED, closed_at=clock.now(), close_reason=reason)
    ).rowcount  # type: ignore[attr-defined]
    if not closed:
        return False
    session.refresh(order)
    _give_back(session, order)
    if _kinds[order.kind].campaign_limit:
        release_quantity(
            session, campaign_id=order.campaign_id, user_id=order.user_id, quantity=order.quantity
        )
    _kinds[order.kind].on_released(session, order)
    outbox.emit(
        session,
        "order.cancelled",
        {"user_ids": [order.user_id], "order_id": order.id, "reason": reason},
    )
    return True


def cancel(session: Session, *, user_id: int, order_id: int) -> Order:
    order = get_for_user(session, order_id, user_id)
    if not release_unpaid(session, order, reason="cancelled_by_member"):
        raise errors.OrderNotCancellable()
    return order


def due_unpaid(session: Session, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.PENDING_PAYMENT, Order.expires_at <= clock.now())
            .order_by(Order.expires_at)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- refunds


def refund(
    session: Session,
    order: Order,
    *,
    amount: int,
    reason: str,
    key: str | None = None,
    note: str = "",
    funded_by: str = "escrow",
    payment_id: int | None = None,
    gross: bool = True,
) -> Refund | None:
    """Give ``amount`` back from escrow, at most once per ``key`` (default: order and reason).

    On an order with discounts, ``amount`` is counted at the price before them (``gross``):
    the discounts' share (:func:`rules.discount_share`) goes back to the subsidy account and
    the rest to the member. ``gross=False``: all of ``amount`` is the member's money.

    Returns None when this refund was already made. Raises RefundTooLarge when it would take
    more than the order has in escrow.
    """
    if reason not in rules.REFUND_REASONS:
        raise InvalidInput(f"unknown refund reason {reason!r}")
    if amount <= 0:
        raise InvalidInput("a refund must be a positive amount")
    key = key or f"{reason}:{order.id}"
    now = clock.now()
    share = 0
    discount = order.level_discount + order.coupon_discount
    if gross and funded_by == "escrow" and discount > 0:
        before, returned = session.execute(
            select(
                func.coalesce(func.sum(Refund.amount + Refund.discount_amount), 0),
                func.coalesce(func.sum(Refund.discount_amount), 0),
            ).where(
                Refund.order_id == order.id,
                Refund.reason.not_in(("opener_free", "late_payment")),
            )
        ).one()
        share = min(
            rules.discount_share(order.list_amount, discount, int(before), amount),
            discount - int(returned),
        )
        amount -= share
        if amount <= 0:
            raise errors.RefundTooLarge("nothing of this refund is the member's money")
    stmt = (
        _insert(session)(Refund)
        .values(
            key=key,
            order_id=order.id,
            user_id=order.user_id,
            amount=amount,
            reason=reason,
            note=note,
            funded_by=funded_by,
            discount_amount=share,
            status=RefundStatus.PENDING,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
        return None
    grown = session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.refunded_amount + amount + share
            <= Order.paid_amount + Order.subsidy_amount - Order.released_amount,
            Order.refunded_amount + amount <= Order.paid_amount,
            Order.subsidy_amount >= share,
        )
        .values(
            refunded_amount=Order.refunded_amount + amount,
            subsidy_amount=Order.subsidy_amount - share,
        )
        # The order is refreshed below; matching every Order in the session against the
        # criteria (the default) costs O(session size) per refund: quadratic in a settlement.
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not grown:
        raise errors.RefundTooLarge()
    row = session.scalar(select(Refund).where(Refund.key == key))
    assert row is not None
    ledger.record_refund(session, refund_id=row.id, order_id=order.id, amount=amount)
    if share:
        ledger.return_discount(session, refund_id=row.id, order_id=order.id, amount=share)
    outbox.emit(
        session,
        "refund.created",
        {
            "user_ids": [order.user_id],
            "refund_id": row.id,
            "order_id": order.id,
            "amount": amount,
            "reason": reason,
            # Back to the payment it names (a late one), else to the one that paid the order.
            "payment_id": payment_id or order.payment_id,
            # An operator's refund says why in their words, for the member to read.
            **({"note": note} if reason == "manual" and note else {}),
        },
    )
    session.refresh(order)
    return row


@dataclass(frozen=True)
class RefundOf:
    """One refund of :func:`refund_many`: ``amount`` of the member's money from escrow, once
    per ``key`` (default: order and reason)."""

    order: Order
    amount: int
    reason: str
    note: str = ""
    key: str | None = None


def plain(order: Order) -> bool:
    """An order whose refunds are the member's money alone: no discount, no coupon, no
    subsidy, nothing released (what :func:`refund_many` takes)."""
    return (
        order.level_discount == 0
        and order.coupon_discount == 0
        and order.coupon_id is None
        and order.subsidy_amount == 0
        and order.released_amount == 0
    )


def refund_many(session: Session, refunds: list[RefundOf]) -> dict[str, int]:
    """:func:`refund` for many refunds of :func:`plain` orders at once, set-based: one
    multi-row INSERT of the refunds (a key already there is skipped, as :func:`refund` skips
    it), one guarded UPDATE per order refunded (an executemany: ``refunded + amount <=
    paid``, else RefundTooLarge and the unit of work rolls back), the ledger's transfers in
    two multi-row INSERTs, the events in one. Returns the id of each refund made now, by key.
    The orders passed are not refreshed."""
    if not refunds:
        return {}
    now = clock.now()
    rows: list[dict[str, Any]] = []
    payment_of: dict[int, int | None] = {}
    for r in refunds:
        if r.reason not in rules.REFUND_REASONS:
            raise InvalidInput(f"unknown refund reason {r.reason!r}")
        if r.amount <= 0:
            raise InvalidInput("a refund must be a positive amount")
        if not plain(r.order):
            raise InvalidInput("refund_many takes orders without discounts or subsidy")
        payment_of[r.order.id] = r.order.payment_id
        rows.append(
            {
                "key": r.key or f"{r.reason}:{r.order.id}",
                "order_id": r.order.id,
                "user_id": r.order.user_id,
                "amount": r.amount,
                "reason": r.reason,
                "note": r.note,
                "funded_by": "escrow",
                "discount_amount": 0,
                "status": RefundStatus.PENDING,
                "created_at": now,
            }
        )
    refunds_table = table(Refund)
    stmt = (
        upsert_insert(session)(refunds_table)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(refunds_table.c.key, refunds_table.c.id)
    )
    made: dict[str, int] = {str(k): int(i) for k, i in execute(session, stmt, rows)}
    done = [(row, made[row["key"]]) for row in rows if row["key"] in made]
    if not done:
        return made
    grown: dict[int, int] = {}
    for row, _ in done:
        grown[row["order_id"]] = grown.get(row["order_id"], 0) + row["amount"]
    orders_table = table(Order)
    amount = case(grown, value=orders_table.c.id)
    guarded = (
        update(orders_table)
        .where(
            orders_table.c.id.in_(sorted(grown)),
            orders_table.c.refunded_amount + amount
            <= orders_table.c.paid_amount
            + orders_table.c.subsidy_amount
            - orders_table.c.released_amount,
            orders_table.c.refunded_amount + amount <= orders_table.c.paid_amount,
        )
        .values(refunded_amount=orders_table.c.refunded_amount + amount)
    )
    if execute(session, guarded).rowcount != len(grown):
        raise errors.RefundTooLarge()
    ledger.record_refunds(session, [(rid, row["order_id"], row["amount"]) for row, rid in done])
    outbox.emit_many(
        session,
        "refund.created",
        [
            {
                "user_ids": [row["user_id"]],
                "refund_id": rid,
                "order_id": row["order_id"],
                "amount": row["amount"],
                "reason": row["reason"],
                "payment_id": payment_of[row["order_id"]],
            }
            for row, rid in done
        ],
    )
    expire_loaded(session, Order)  # their amounts changed: read afresh when next used
    return made


def close_many(session: Session, order_ids: list[int], *, frm: str, to: str, **values: Any) -> None:
    """Compare-and-set many orders from ``frm`` to ``to`` in one UPDATE: every one of them,
    or InvalidInput (and the unit of work rolls back)."""
    if not order_ids:
        return
    orders_table = table(Order)
    moved = session.execute(
        update(orders_table)
        .where(orders_table.c.id.in_(order_ids), orders_table.c.status == frm)
        .values(status=to, **values)
    ).rowcount  # type: ignore[attr-defined]
    if moved != len(set(order_ids)):
        raise InvalidInput(f"{len(order_ids) - moved} of the orders were not {frm}")
    expire_loaded(session, Order)


def refund_in_full(session: Session, order: Order, *, reason: str, note: str = "") -> int:
    """Refund all that is left in escrow for the order and close it as refunded."""
    left = rules.refundable(
        order.paid_amount, order.subsidy_amount, order.refunded_amount, order.released_amount
    )
    if left > 0:
        refund(session, order, amount=left, reason=reason, note=note, gross=False)
    _return_subsidy(session, order)
    _give_back(session, order)
    session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(status=OrderStatus.REFUNDED, closed_at=clock.now(), close_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(order)
    return left


def _return_subsidy(session: Session, order: Order) -> None:
    """Whatever subsidy is still in escrow for a refunded order goes back to the subsidy."""
    session.refresh(order)
    left = rules.in_escrow(
        order.paid_amount, order.subsidy_amount, order.refunded_amount, order.released_amount
    )
    if left > 0 and ledger.return_subsidy(session, order_id=order.id, amount=left):
        session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(subsidy_amount=Order.subsidy_amount - left)
            .execution_options(synchronize_session=False)
        )
        session.refresh(order)


def add_subsidy(session: Session, order: Order, *, amount: int, key: str) -> None:
    if amount <= 0:
        return
    if ledger.record_subsidy(session, key=key, order_id=order.id, amount=amount):
        session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(subsidy_amount=Order.subsidy_amount + amount)
        )
        session.refresh(order)


def mark_refund_sent(session: Session, refund_id: int) -> Refund | None:
    row = session.get(Refund, refund_id)
    if row is None or row.status == RefundStatus.SUCCEEDED:
        return None
    row.status = RefundStatus.SUCCEEDED
    row.completed_at = clock.now()
    ledger.record_refund_sent(session, refund_id=row.id, order_id=row.order_id, amount=row.amount)
    return row


def refunds_of(session: Session, order_id: int) -> list[Refund]:
    return list(
        session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))
    )


def manual_refund(session: Session, *, order_id: int, amount: int | None, note: str) -> Refund:
    """An operator refunds by hand (the whole escrowed remainder when ``amount`` is None)."""
    if not note.strip():
        raise InvalidInput("give a reason for the refund", field="note")
    order = get(session, order_id, lock=True)
    # Only once its team has settled: before that the member may leave the team, and a
    # refund under a paid seat would break the team's settlement (price protection).
    if order.status not in MANUALLY_REFUNDABLE:
        raise errors.OrderNotRefundable()
    left = rules.refundable(
        order.paid_amount, order.subsidy_amount, order.refunded_amount, order.released_amount
    )
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise errors.RefundTooLarge(f"at most {left} fen can be refunded")
    # Each operator decision is its own refund (a part, then the rest); a retry of one
    # decision is caught by its Idempotency-Key.
    done = len([r for r in refunds_of(session, order.id) if r.reason == "manual"])
    row = refund(
        session,
        order,
        amount=amount,
        reason="manual",
        key=f"manual:{order.id}:{done + 1}",
        note=note.strip(),
        gross=False,
    )
    if row is None:
        raise errors.AlreadyRefunded()
    if amount == left:
        session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(status=OrderStatus.REFUNDED, closed_at=clock.now(), close_reason="manual")
        )
        if order.level_discount + order.coupon_discount > 0:
            _return_subsidy(session, order)
        _give_back(session, order)
    session.refresh(order)
    return row


# ---------------------------------------------------------------- settlement and shipping


def confirm(
    session: Session, order: Order, *, final_unit_price: int, ship_within_hours: int
) -> None:
    """The order's team succeeded: it is sold at ``final_unit_price`` and awaits shipping."""
    now = clock.now()
    session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.PAID)
        .values(
            status=OrderStatus.CONFIRMED,
            final_unit_price=final_unit_price,
            settled_at=now,
            ship_by=now + timedelta(hours=ship_within_hours),
        )
    )
    session.refresh(order)


def ship(
    session: Session, *, supplier_id: int, order_id: int, carrier: str, tracking_no: str
) -> Order:
    carrier, tracking_no = carrier.strip(), tracking_no.strip()
    if not carrier or not tracking_no:
        raise InvalidInput("carrier and tracking number are required")
    order = get(session, order_id)
    if order.supplier_id != supplier_id:
        raise errors.NotYourOrder()
    moved = session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.CONFIRMED,
            Order.kind.in_(_shipped_kinds()),
        )
        .values(
            status=OrderStatus.SHIPPED,
            carrier=carrier,
            tracking_no=tracking_no,
            shipped_at=clock.now(),
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise errors.OrderNotShippable()
    session.refresh(order)
    outbox.emit(
        session,
        "order.shipped",
        {
            "user_ids": [order.user_id],
            "order_id": order.id,
            "carrier": carrier,
            "tracking_no": tracking_no,
        },
    )
    return order


def complete(session: Session, order: Order, *, how: str) -> bool:
    """The goods arrived: release the escrow to the supplier, minus the operator's fee."""
    moved = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_((OrderStatus.SHIPPED, OrderStatus.ARRIVED)))
        .values(status=OrderStatus.COMPLETED, completed_at=clock.now())
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return False
    session.refresh(order)
    # All that escrow holds for the order goes, the subsidy's share included (completion,
    # opener free): the supplier is owed the goods' price whoever paid it.
    left = rules.in_escrow(
        order.paid_amount, order.subsidy_amount, order.refunded_amount, order.released_amount
    )
    if left > 0:
        hooks = _kinds[order.kind]
        if hooks.payees is not None:
            legs = hooks.payees(session, order, left)
        else:
            supplier_amount, fee = rules.fee_split(left, get_settings().operator_fee_bps)
            legs = [
                (ledger.supplier_account(order.supplier_id), supplier_amount),
                (ledger.PLATFORM_REVENUE, fee),
            ]
        for share in _release_shares:
            legs = share(session, order, left, legs)
        ledger.record_release(session, order_id=order.id, legs=legs)
        session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(released_amount=Order.released_amount + left)
        )
    session.refresh(order)
    outbox.emit(
        session,
        "order.completed",
        {"user_ids": [order.user_id], "order_id": order.id, "how": how},
    )
    return True


def confirm_receipt(session: Session, *, user_id: int, order_id: int) -> Order:
    order = get_for_user(session, order_id, user_id)
    if not complete(session, order, how="member"):
        raise errors.OrderNotShipped()
    return order


def due_auto_complete(session: Session, limit: int) -> list[int]:
    cutoff = clock.now() - timedelta(days=get_settings().auto_confirm_days)
    return list(
        session.scalars(
            select(Order.id)
            .where(
                Order.kind.in_(_shipped_kinds()),
                Order.status == OrderStatus.SHIPPED,
                Order.shipped_at <= cutoff,
            )
            .limit(limit)
        )
    )


def due_unshipped(session: Session, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Order.id)
            .where(
                Order.kind.in_(_shipped_kinds()),
                Order.status == OrderStatus.CONFIRMED,
                Order.ship_by <= clock.now(),
            )
            .limit(limit)
        )
    )


def refund_unshipped(session: Session, order_id: int) -> bool:
    order = get(session, order_id, lock=True)
    if (
        order.status != OrderStatus.CONFIRMED
        or order.ship_by is None
        or order.ship_by > clock.now()
    ):
        return False
    refund_in_full(session, order, reason="not_shipped", note="the supplier did not ship in time")
    return True


def auto_complete(session: Session, order_id: int) -> bool:
    order = get(session, order_id, lock=True)
    return complete(session, order, how="auto")


def move(session: Session, order_id: int, frm: str, to: str, **values: Any) -> bool:
    """Compare-and-set an order's status (the fulfilment steps of other kinds)."""
    return bool(
        session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == frm)
            .values(status=to, **values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    )


def refund_after_release(
    session: Session,
    order: Order,
    *,
    amount: int,
    reason: str,
    key: str,
    note: str,
    reversal: Legs,
) -> Refund | None:
    """Refund an order whose escrow was already released (an after-sale case): the payees
    give ``reversal`` back into escrow first, then the refund leaves escrow as usual."""
    if sum(a for _, a in reversal) != amount:
        raise InvalidInput("the reversal must add up to the refund")
    if ledger.reverse_release(session, key=key, order_id=order.id, legs=reversal):
        session.execute(
            update(Order)
            .where(Order.id == order.id, Order.released_amount >= amount)
            .values(released_amount=Order.released_amount - amount)
        )
        session.refresh(order)
    return refund(session, order, amount=amount, reason=reason, key=key, note=note)


# ---------------------------------------------------------------- queries


def completed_spend(session: Session, user_id: int) -> int:
    """What a member kept paid on their completed orders (paid − refunded), in fen."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Order.paid_amount - Order.refunded_amount), 0)).where(
                Order.user_id == user_id, Order.status == OrderStatus.COMPLETED
            )
        )
        or 0
    )


def list_for_user(
    session: Session, user_id: int, *, limit: int = 50, offset: int = 0
) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.user_id == user_id)
            .order_by(Order.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def page_for_user(
    session: Session, user_id: int, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Order], str | None]:
    """A member's orders, newest first, one keyset page (index ``ix_orders_user_created``)."""
    query = select(Order).where(Order.user_id == user_id)
    return paging.page(session, query, [Order.created_at, Order.id], cursor, limit)


@dataclass(frozen=True)
class OrderFilter:
    """The operator's (and a supplier's) filters of the orders list; ``created_from`` and
    ``created_to`` are naive UTC, the end excluded."""

    status: str | None = None
    kind: str | None = None
    supplier_id: int | None = None
    campaign_id: int | None = None
    user_id: int | None = None
    order_ids: list[int] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def page_all(
    session: Session, where: OrderFilter, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Order], str | None]:
    """Orders matching ``where``, newest first, one keyset page. Each filter column leads an
    index followed by (created_at, id), so a page reads its rows in order, without a sort."""
    query = select(Order)
    if where.status:
        query = query.where(Order.status == where.status)
    if where.kind:
        query = query.where(Order.kind == where.kind)
    if where.supplier_id is not None:
        query = query.where(Order.supplier_id == where.supplier_id)
    if where.campaign_id is not None:
        query = query.where(Order.campaign_id == where.campaign_id)
    if where.user_id is not None:
        query = query.where(Order.user_id == where.user_id)
    if where.order_ids is not None:
        query = query.where(Order.id.in_(where.order_ids))
    if where.created_from is not None:
        query = query.where(Order.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(Order.created_at < where.created_to)
    return paging.page(session, query, [Order.created_at, Order.id], cursor, limit)


def list_all(
    session: Session,
    *,
    status: str | None = None,
    supplier_id: int | None = None,
    campaign_id: int | None = None,
    order_ids: list[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Order]:
    query = select(Order).order_by(Order.id.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(Order.status == status)
    if supplier_id is not None:
        query = query.where(Order.supplier_id == supplier_id)
    if campaign_id is not None:
        query = query.where(Order.campaign_id == campaign_id)
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    return list(session.scalars(query))
