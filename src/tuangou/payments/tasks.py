"""The payments domain's background work: the worker's jobs (the sandbox gateway's due
callbacks, and asking the gateway about payments whose callback never came) and its outbox
handlers (sending refunds to the gateway, at least once, keyed by refund id; giving up on the
pending payments of an order that was closed unpaid)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, locks
from tuangou.core.config import get_settings
from tuangou.core.db import execute, is_sqlite, read, run_in_transaction, table
from tuangou.core.locks import Rank
from tuangou.core.models import OutboxEvent
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.payments.gateway import REAL_GATEWAYS, enabled, get_gateway
from tuangou.payments.models import Payment, SandboxCharge
from tuangou.payments.rules import GatewayState, PaymentStatus

log = logging.getLogger(__name__)
CALLBACK_BATCH = 50


def send_refund(session: Session, event: OutboxEvent) -> None:
    refund_id = int(event.payload["refund_id"])
    order_id = int(event.payload["order_id"])
    payment_id = event.payload.get("payment_id")
    query = select(Payment).where(
        Payment.order_id == order_id, Payment.status == PaymentStatus.SUCCEEDED
    )
    if payment_id is not None:
        query = query.where(Payment.id == int(payment_id))
    payment = session.scalars(query.order_by(Payment.id)).first()
    if payment is None:
        raise RuntimeError(f"refund {refund_id}: order {order_id} has no successful payment")
    get_gateway(payment.gateway).refund(
        session,
        ref=payment.gateway_ref,
        key=f"refund:{refund_id}",
        amount=int(event.payload["amount"]),
    )
    orders.mark_refund_sent(session, refund_id)


def expire_payments(session: Session, event: OutboxEvent) -> None:
    """An order was closed unpaid: its pending payments will not be waited for (a late
    callback still lands, and is refunded as a late payment)."""
    order_id = int(event.payload["order_id"])
    # A real gateway's pending payments are closed there too, so that they cannot be paid
    # any more (one paid in the meantime is a late payment, refunded when its notice lands).
    for payment in payments.payments_of(session, order_id):
        if payment.status == PaymentStatus.PENDING and payment.gateway in REAL_GATEWAYS:
            get_gateway(payment.gateway).close(session, payment.gateway_ref)
    payments.expire_for_order(session, order_id)


CALLBACKS_JOB = "sandbox callbacks"  # the worker's name of the job below (core.wakeup)


def deliver_sandbox_callbacks(limit: int = 200) -> int:
    """The sandbox gateway sends its due callbacks, landing them in batches.

    A batch is one write transaction that takes one callback off each due charge and lands
    them together (:func:`payments.apply_outcomes`). If anything in it fails, it is rolled
    back and its callbacks land one by one, each in a savepoint, so one bad callback does not
    hold up the others.
    """
    if "sandbox" not in enabled():
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
        payments.apply_outcomes(session, taken)
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

    def stale(session: Session) -> list[tuple[str, str]]:
        query = (
            select(Payment.gateway_ref, Payment.gateway)
            .where(
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.EXPIRED)),
                Payment.updated_at <= cutoff,
            )
            .order_by(Payment.updated_at)
            .limit(limit)
        )
        return [(ref, name) for ref, name in session.execute(query)]

    changed = 0
    for ref, name in read(stale):

        def check(session: Session, ref: str = ref, name: str = name) -> bool:
            if not is_sqlite() and not _claim(session, ref, cutoff):
                return False  # another worker is asking about it now, or it has moved on
            truth = get_gateway(name).query(session, ref)
            if truth.status in (GatewayState.SUCCEEDED, GatewayState.DECLINED):
                return payments.apply_outcomes(session, [(ref, truth.status)])[ref] != "duplicate"
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


def _claim(session: Session, ref: str, cutoff: datetime) -> bool:
    """Lock a stale payment for this transaction, skipping it if another worker holds it."""
    claimed = session.scalar(
        select(Payment.id)
        .where(
            Payment.gateway_ref == ref,
            Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.EXPIRED)),
            Payment.updated_at <= cutoff,
        )
        .with_for_update(skip_locked=True)
    )
    if claimed is None:
        return False
    locks.note(session, Rank.PAYMENT, claimed)
    return True
