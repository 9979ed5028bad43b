"""Payments: starting one for an order, and learning its outcome from the gateway.

Confirmation is idempotent: a payment moves to ``succeeded`` once (compare-and-set), its
money is journaled once (transfer ``pay:<id>``), and a duplicate callback changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, ids, locks, metrics, outbox, secret
from tuangou.core.db import execute, insert_loaded, table
from tuangou.core.locks import Rank
from tuangou.ledger import service as ledger
from tuangou.orders import service as orders
from tuangou.payments import errors
from tuangou.payments.gateway import enabled, get_gateway, sandbox
from tuangou.payments.models import Payment, SandboxCharge
from tuangou.payments.rules import ChargeStatus as ChargeStatus
from tuangou.payments.rules import GatewayState, PaymentStatus

if TYPE_CHECKING:
    from tuangou.orders.models import Order


log = logging.getLogger(__name__)
CALLBACK_BATCH = 50


@dataclass(frozen=True)
class Started:
    payment: Payment
    pay_url: str


def start(session: Session, order: Order, *, gateway_name: str | None = None) -> Started:
    """A new payment attempt for an unpaid order, with the gateway page to pay on; refused
    while another payment of the order is charged and waiting for its confirmation (a second
    payment of one order is never started). ``gateway_name``: the member's choice among the
    gateways on (:func:`gateways`); the default one otherwise."""
    orders.assert_payable(order)
    if gateway_name is not None and gateway_name not in enabled():
        raise errors.GatewayNotOffered()
    if in_flight(session, order.id) is not None:
        raise errors.PaymentInFlight()
    gateway = get_gateway(gateway_name)
    now = clock.now()
    payment = Payment(
        order_id=order.id,
        user_id=order.user_id,
        amount=order.amount,
        gateway=gateway.name,
        gateway_ref=ids.gateway_ref("tg"),
        status=PaymentStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    insert_loaded(session, payment)
    if gateway.name != "sandbox":
        # A real gateway's payment is opened there when the member goes to pay (on the pay
        # page, where they may choose another gateway): no network call while ordering.
        return Started(payment, f"/pay/{payment.id}")
    return Started(payment, gateway.pay_url(payment.gateway_ref, payment.amount))


def start_for_user(
    session: Session, *, user_id: int, order_id: int, gateway_name: str | None = None
) -> Started:
    order = orders.get_for_user(session, order_id, user_id)
    return start(session, order, gateway_name=gateway_name)


def pay_url(payment: Payment) -> str:
    return get_gateway(payment.gateway).pay_url(payment.gateway_ref, payment.amount)


def gateways() -> list[str]:
    """The gateways members pay through here, the default first (the sandbox until a real
    gateway is configured)."""
    return enabled()


_payments = table(Payment)
_SUCCEED = (
    update(_payments)
    .where(
        _payments.c.id.in_(bindparam("b_ids", expanding=True)),
        _payments.c.status != PaymentStatus.SUCCEEDED,
    )
    .values(status=PaymentStatus.SUCCEEDED, updated_at=bindparam("b_now"))
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.amount, _payments.c.created_at)
)
_DECLINE = (
    update(_payments)
    .where(
        _payments.c.id.in_(bindparam("b_ids", expanding=True)),
        _payments.c.status == PaymentStatus.PENDING,
    )
    .values(status=PaymentStatus.FAILED, failure_reason="declined", updated_at=bindparam("b_now"))
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.user_id)
)


def apply_outcomes(session: Session, outcomes: list[tuple[str, str]]) -> dict[str, str]:
    """Record what the gateway says about payments: ``(ref, status)`` pairs, from a batch of
    callbacks, a webhook, a lookup (one payment is a batch of one). Returns, per reference,
    what happened: ``paid``, ``late`` (the order had closed: refunded), ``declined``, or
    ``duplicate`` (already known; nothing changed).

    Each payment moves once (compare-and-set), its money is journaled once (``pay:<id>``),
    and its order is paid through :func:`orders.record_payments`. Locks: the payments in
    ascending id, then what the orders need (:mod:`tuangou.core.locks`)."""
    refs = sorted({ref for ref, _ in outcomes})
    found = {
        ref: payment_id
        for payment_id, ref in session.execute(
            select(Payment.id, Payment.gateway_ref).where(Payment.gateway_ref.in_(refs))
        )
    }
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise errors.PaymentNotFound(f"unknown payment reference {missing[0]}")
    locks.lock(session, Rank.PAYMENT, Payment.id, found.values())
    result = dict.fromkeys(refs, "duplicate")
    by_id = {payment_id: ref for ref, payment_id in found.items()}
    now = clock.now()
    succeeded = sorted({found[ref] for ref, status in outcomes if status == GatewayState.SUCCEEDED})
    declined = sorted(
        {found[ref] for ref, status in outcomes if status == GatewayState.DECLINED} - set(succeeded)
    )
    if succeeded:
        moved = execute(session, _SUCCEED, {"b_ids": succeeded, "b_now": now}).all()
        for payment_id, order_id, amount, created in moved:
            ledger.record_payment(session, payment_id=payment_id, order_id=order_id, amount=amount)
            metrics.PAYMENT_LAG.observe(max((now - created).total_seconds(), 0.0))
        paid = orders.record_payments(
            session, [(order_id, payment_id, amount) for payment_id, order_id, amount, _ in moved]
        )
        for payment_id, *_ in moved:
            result[by_id[payment_id]] = "paid" if paid[payment_id] else "late"
    if declined:
        for payment_id, order_id, user_id in execute(
            session, _DECLINE, {"b_ids": declined, "b_now": now}
        ).all():
            result[by_id[payment_id]] = "declined"
            outbox.emit(
                session,
                "payment.declined",
                {"user_ids": [user_id], "order_id": order_id, "payment_id": payment_id},
            )
    return result


def expire_for_order(session: Session, order_id: int) -> None:
    """The order was released unpaid: its pending payments will not be waited for. Their
    ``updated_at`` stays that of the last word from the gateway, so a payment whose callback
    was lost is still looked up on time (:func:`reconcile_stale`), and refunded if it went
    through."""
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == PaymentStatus.PENDING)
        .values(status=PaymentStatus.EXPIRED)
    )


def payments_of(session: Session, order_id: int) -> list[Payment]:
    return list(
        session.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.id))
    )


def in_flight(session: Session, order_id: int) -> Payment | None:
    """The order's payment that the gateway has charged (or that already succeeded), if any:
    while its confirmation (the callback) is on its way, the order still reads unpaid, but it
    is not to be paid again. Asks the sandbox about the order's pending payments (its book is
    local); a real gateway's charge is known from its notice (no network call on every page
    view: a charge whose notice is late and a second payment both land, and the second is
    refunded as late)."""
    for payment in reversed(payments_of(session, order_id)):
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.EXPIRED):
            continue
        if payment.gateway != "sandbox":
            continue
        gateway = get_gateway(payment.gateway)
        if gateway.query(session, payment.gateway_ref).status == GatewayState.SUCCEEDED:
            return payment
    return None


def get_for_user(session: Session, *, user_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.user_id != user_id:
        raise errors.PaymentNotFound()
    return payment


# ---------------------------------------------------------------- the sandbox gateway's side


_mine = _payments.alias("mine")
# Another payment of the same order that :func:`in_flight` could name: one that succeeded, or
# a pending (or expired) sandbox payment whose charge may have been made.
_OTHER_MAYBE_CHARGED = (
    select(_payments.c.id)
    .select_from(_mine.join(_payments, _payments.c.order_id == _mine.c.order_id))
    .where(
        _mine.c.gateway_ref == bindparam("b_ref"),
        _payments.c.id != _mine.c.id,
        or_(
            _payments.c.status == PaymentStatus.SUCCEEDED,
            and_(
                _payments.c.status.in_((PaymentStatus.PENDING, PaymentStatus.EXPIRED)),
                _payments.c.gateway == "sandbox",
            ),
        ),
    )
    .limit(1)
)


def sandbox_authorize(
    session: Session, *, ref: str, amount: int, sig: str, outcome: str | None
) -> SandboxCharge:
    """The payer confirms on the sandbox page. Like a gateway that knows the merchant's order
    number (Alipay's ``out_trade_no``), the sandbox charges one order once: a payment whose
    order already has a charged payment is refused (``payment_in_flight``). Two payments of one
    order racing here take the order's row lock in turn; the second sees the first's charge."""
    gateway = sandbox()
    gateway.check(ref, amount, sig)
    if execute(session, _OTHER_MAYBE_CHARGED, {"b_ref": ref}).first() is None:
        # The order has no other payment that could be charged (the usual case: one
        # payment per order), so nothing is in flight but, perhaps, this one.
        return gateway.authorize(session, ref=ref, amount=amount, sig=sig, outcome=outcome)
    payment = session.scalar(select(Payment).where(Payment.gateway_ref == ref))
    if payment is not None:
        # No lock here: taking the order's row before the callback's payment → team → order
        # would break the lock order. Two approvals racing past this check may both charge;
        # the order is still paid once (the other payment is refunded as late).
        other = in_flight(session, payment.order_id)
        if other is not None and other.id != payment.id:
            raise errors.PaymentInFlight()
    return gateway.authorize(session, ref=ref, amount=amount, sig=sig, outcome=outcome)


def sandbox_pay_now(session: Session, payment: Payment) -> str:
    """Pay on the sandbox and take its answer at once, for set-up work (the demo data, tests)
    that places and pays orders one after the other in one transaction; the callback that
    the sandbox still sends later is a harmless duplicate."""
    locks.setup(session)
    gateway = sandbox()
    sig = secret.sign(f"{payment.gateway_ref}|{payment.amount}", "sandbox-pay")
    charge = gateway.authorize(
        session, ref=payment.gateway_ref, amount=payment.amount, sig=sig, outcome="approve"
    )
    return apply_outcomes(session, [(payment.gateway_ref, charge.status)])[payment.gateway_ref]


def sandbox_charge(session: Session, ref: str) -> SandboxCharge | None:
    return session.get(SandboxCharge, ref)


def pending_count(session: Session) -> int:
    """Payments still waiting for the gateway's word (a callback or a lookup)."""
    return int(
        session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.PENDING)
        )
        or 0
    )
