"""Payments: starting one for an order, and learning its outcome from the gateway.

Confirmation is idempotent: a payment moves to ``succeeded`` once (compare-and-set), its
money is journaled once (transfer ``pay:<id>``), and a duplicate callback changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, ids, locks, outbox, secret
from tuangou.core.config import get_settings
from tuangou.core.db import execute, insert_loaded, is_sqlite, read, run_in_transaction, table
from tuangou.core.locks import Rank
from tuangou.ledger import service as ledger
from tuangou.orders import service as orders
from tuangou.payments import errors
from tuangou.payments.gateway import get_gateway, sandbox
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


def start(session: Session, order: Order) -> Started:
    """A new payment attempt for an unpaid order, with the gateway page to pay on."""
    orders.assert_payable(order)
    gateway = get_gateway()
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
    return Started(payment, gateway.pay_url(payment.gateway_ref, payment.amount))


def start_for_user(session: Session, *, user_id: int, order_id: int) -> Started:
    order = orders.get_for_user(session, order_id, user_id)
    return start(session, order)


def pay_url(payment: Payment) -> str:
    return get_gateway().pay_url(payment.gateway_ref, payment.amount)


_payments = table(Payment)
_SUCCEED = (
    update(_payments)
    .where(
        _payments.c.id.in_(bindparam("b_ids", expanding=True)),
        _payments.c.status != PaymentStatus.SUCCEEDED,
    )
    .values(status=PaymentStatus.SUCCEEDED, updated_at=bindparam("b_now"))
    .returning(_payments.c.id, _payments.c.order_id, _payments.c.amount)
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
        for payment_id, order_id, amount in moved:
            ledger.record_payment(session, payment_id=payment_id, order_id=order_id, amount=amount)
        paid = orders.record_payments(
            session, [(order_id, payment_id, amount) for payment_id, order_id, amount in moved]
        )
        for payment_id, _, _ in moved:
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


def get_for_user(session: Session, *, user_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.user_id != user_id:
        raise errors.PaymentNotFound()
    return payment


# ---------------------------------------------------------------- the sandbox gateway's side


def sandbox_authorize(
    session: Session, *, ref: str, amount: int, sig: str, outcome: str | None
) -> SandboxCharge:
    return sandbox().authorize(session, ref=ref, amount=amount, sig=sig, outcome=outcome)


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


def deliver_sandbox_callbacks(limit: int = 200) -> int:
    """The sandbox gateway sends its due callbacks, landing them in batches.

    A batch is one write transaction that takes one callback off each due charge and
    lands them together (:func:`apply_outcomes`). If anything in it fails, it is rolled back
    and its callbacks land one by one, each in a savepoint, so one bad callback does not hold
    up the others.
    """
    if get_settings().gateway != "sandbox":
        return 0

    def due(session: Session) -> list[str]:
        query = (
            select(SandboxCharge.ref)
            .where(SandboxCharge.callbacks_due > 0, SandboxCharge.callback_at <= clock.now())
            .order_by(SandboxCharge.callback_at)
            .limit(limit)
        )
        return list(session.scalars(query))

    refs = read(due)
    delivered = 0
    for start in range(0, len(refs), CALLBACK_BATCH):
        batch = refs[start : start + CALLBACK_BATCH]

        def land(session: Session, batch: list[str] = batch) -> int:
            return _land_batch(session, batch)

        def one_by_one(session: Session, batch: list[str] = batch) -> int:
            return _land_one_by_one(session, batch)

        try:
            delivered += run_in_transaction(land)
        except Exception:
            log.exception("a batch of sandbox callbacks failed; landing them one by one")
            delivered += run_in_transaction(one_by_one)
    return delivered


def _take_callbacks(session: Session, refs: list[str]) -> list[tuple[str, str]]:
    """Take one due callback off each charge; returns (ref, status) of those taken."""
    if not is_sqlite():
        # Claim the rows in one order, skipping those another worker is landing now.
        refs = list(
            session.scalars(
                select(SandboxCharge.ref)
                .where(SandboxCharge.ref.in_(refs), SandboxCharge.callbacks_due > 0)
                .order_by(SandboxCharge.ref)
                .with_for_update(skip_locked=True)
            )
        )
        if not refs:
            return []
    rows = execute(session, _TAKE_CALLBACK, {"refs": refs, "now": clock.now()})
    return [(ref, status) for ref, status in rows]


_charges = table(SandboxCharge)
_TAKE_CALLBACK = (
    update(_charges)
    .where(
        _charges.c.ref.in_(bindparam("refs", expanding=True)),
        _charges.c.callbacks_due > 0,
        _charges.c.callback_at <= bindparam("now"),
    )
    .values(callbacks_due=_charges.c.callbacks_due - 1)
    .returning(_charges.c.ref, _charges.c.status)
)


def _land_batch(session: Session, refs: list[str]) -> int:
    taken = _take_callbacks(session, refs)
    if taken:
        apply_outcomes(session, taken)
    return len(taken)


def _land_one_by_one(session: Session, refs: list[str]) -> int:
    done = 0
    for ref in refs:
        try:
            with session.begin_nested():
                done += _land_batch(session, [ref])
        except Exception:
            log.exception("sandbox callback for %s failed; it will be retried", ref)
    return done


def reconcile_stale(limit: int = 100) -> int:
    """Ask the gateway about payments that waited too long for a callback (a lost callback)."""
    cutoff = clock.now() - timedelta(seconds=get_settings().payment_reconcile_seconds)

    def stale(session: Session) -> list[str]:
        query = (
            select(Payment.gateway_ref)
            .where(
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.EXPIRED)),
                Payment.updated_at <= cutoff,
            )
            .order_by(Payment.updated_at)
            .limit(limit)
        )
        if not is_sqlite():
            query = query.with_for_update(skip_locked=True)
        return list(session.scalars(query))

    changed = 0
    for ref in run_in_transaction(stale):

        def check(session: Session, ref: str = ref) -> bool:
            truth = get_gateway().query(session, ref)
            if truth.status in (GatewayState.SUCCEEDED, GatewayState.DECLINED):
                return apply_outcomes(session, [(ref, truth.status)])[ref] != "duplicate"
            # Still nothing: look again later, and stop looking once the order is closed
            # and the gateway has no charge at all.
            payment = session.scalar(select(Payment).where(Payment.gateway_ref == ref))
            assert payment is not None
            if payment.status == PaymentStatus.EXPIRED and truth.status == GatewayState.UNKNOWN:
                payment.status = PaymentStatus.ABANDONED
            payment.updated_at = clock.now()
            return False

        if run_in_transaction(check):
            changed += 1
    return changed
