"""Outbox handlers of payments: sending refunds to the gateway (at least once, keyed by
refund id), and giving up on the pending payments of an order that was closed unpaid."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.core.models import OutboxEvent
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.payments.gateway import get_gateway
from tuangou.payments.models import Payment
from tuangou.payments.rules import PaymentStatus


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
    get_gateway().refund(
        session,
        ref=payment.gateway_ref,
        key=f"refund:{refund_id}",
        amount=int(event.payload["amount"]),
    )
    orders.mark_refund_sent(session, refund_id)


def expire_payments(session: Session, event: OutboxEvent) -> None:
    """An order was closed unpaid: its pending payments will not be waited for (a late
    callback still lands, and is refunded as a late payment)."""
    payments.expire_for_order(session, int(event.payload["order_id"]))
