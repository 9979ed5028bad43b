"""Sending refunds to the gateway, driven by the outbox (at least once, keyed by refund id)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.core import outbox
from tuangou.core.models import OutboxEvent
from tuangou.orders import service as orders
from tuangou.payments.gateway import get_gateway
from tuangou.payments.models import Payment


@outbox.handles("refund.created")
def send_refund(session: Session, event: OutboxEvent) -> None:
    refund_id = int(event.payload["refund_id"])
    order_id = int(event.payload["order_id"])
    payment_id = event.payload.get("payment_id")
    query = select(Payment).where(Payment.order_id == order_id, Payment.status == "succeeded")
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
