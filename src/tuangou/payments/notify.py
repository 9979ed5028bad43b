"""The notify pipeline of the real gateways: what happens to a notification once its signature
is verified and its freshness checked (``wechat.WechatGateway.verify_notice``,
``alipay.AlipayGateway.verify_notice``).

1. Cross-check it with our payment: the payment exists and is this gateway's; the merchant
   id (and app id) are ours; the amount and the currency are the payment's; a refund is not
   more than the payment.
2. Record it once, by the gateway's transaction id and what it reports (a unique key): a
   repeated notice is a ``duplicate`` and changes nothing; notices that arrive out of order
   each land on their own (a paid notice after a close is a late payment, refunded; a
   ``closed`` notice after a paid one changes nothing, as a payment moves once).
3. Hand a payment's outcome to the one confirmation path, :func:`payments.apply_outcomes`.
   A refund's notice marks our record of that refund confirmed.

Nothing accepted is dropped: the notice is recorded in the same transaction as its effect,
and a failure rolls both back so that the gateway's retry lands it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import upsert_insert
from tuangou.payments import service as payments
from tuangou.payments.errors import NotificationMismatch
from tuangou.payments.models import GatewayNotification, GatewayRefund, Payment
from tuangou.payments.rules import GatewayState, Notice, RefundState

log = logging.getLogger(__name__)


class NotifyingGateway(Protocol):
    name: str

    def expected_merchant(self, kind: str) -> str: ...


def check(session: Session, gateway: NotifyingGateway, notice: Notice) -> Payment:
    """The notice's payment, once the notice matches it; else :class:`NotificationMismatch`."""
    if not notice.txn_id or not notice.ref:
        raise NotificationMismatch("the notification names no transaction")
    if notice.merchant != gateway.expected_merchant(notice.kind):
        raise NotificationMismatch("the notification is for another merchant or app")
    payment = session.scalar(select(Payment).where(Payment.gateway_ref == notice.ref))
    if payment is None or payment.gateway != gateway.name:
        raise NotificationMismatch("no payment of this gateway has that reference")
    if notice.amount != payment.amount:
        raise NotificationMismatch("the amount is not the payment's")
    if notice.currency != get_settings().currency:
        raise NotificationMismatch("the currency is not the payment's")
    if notice.kind == "refund" and not (0 < notice.refund_amount <= payment.amount):
        raise NotificationMismatch("the refund is not within the payment")
    return payment


def handle(session: Session, gateway: NotifyingGateway, notice: Notice) -> str:
    """Land a verified notice: ``paid``, ``late``, ``declined``, ``pending``, ``refunded``,
    ``refund_failed``, ``refund_unknown`` (a refund we did not send: kept for the operator),
    or ``duplicate``."""
    payment = check(session, gateway, notice)
    ins = upsert_insert(session)(GatewayNotification).values(
        gateway=gateway.name,
        txn_id=notice.txn_id,
        event=notice.event[:32],
        ref=notice.ref,
        refund_key=notice.refund_key,
        amount=notice.refund_amount if notice.kind == "refund" else notice.amount,
        result="received",
        received_at=clock.now(),
    )
    stmt = ins.on_conflict_do_nothing(index_elements=["gateway", "txn_id", "event"])
    if not session.execute(stmt).rowcount:  # type: ignore[attr-defined]
        return "duplicate"
    if notice.kind == "refund":
        result = _refund_notice(session, notice)
    elif notice.state in (GatewayState.SUCCEEDED, GatewayState.DECLINED):
        result = payments.apply_outcomes(session, [(notice.ref, notice.state)])[notice.ref]
        if notice.state == GatewayState.SUCCEEDED:
            session.execute(
                update(Payment)
                .where(Payment.id == payment.id, Payment.gateway_txn.is_(None))
                .values(gateway_txn=notice.txn_id)
            )
    else:
        result = "pending"
    session.execute(
        update(GatewayNotification)
        .where(
            GatewayNotification.gateway == gateway.name,
            GatewayNotification.txn_id == notice.txn_id,
            GatewayNotification.event == notice.event[:32],
        )
        .values(result=result[:16])
    )
    return result


def _refund_notice(session: Session, notice: Notice) -> str:
    key = notice.refund_key or ""
    row = session.get(GatewayRefund, key)
    if row is None or row.ref != notice.ref:
        # A refund we did not send (made on the merchant's console), or whose sending has not
        # committed yet: kept, and shown by ``tuangou reconcile``.
        log.warning("a %s refund notice for %s names no refund of ours", notice.gateway, notice.ref)
        return "refund_unknown"
    if notice.state == RefundState.SUCCEEDED:
        row.status = RefundState.SUCCEEDED
        return "refunded"
    if notice.state == RefundState.FAILED:
        row.status = RefundState.FAILED
        log.error("the %s refund %s failed at the gateway", notice.gateway, key)
        return "refund_failed"
    return "pending"


def record_refund(
    session: Session,
    gateway: str,
    *,
    key: str,
    ref: str,
    amount: int,
    gateway_refund_id: str | None,
) -> None:
    """Keep a refund a real gateway accepted (once per key; a resend changes nothing)."""
    session.execute(
        upsert_insert(session)(GatewayRefund)
        .values(
            key=key,
            gateway=gateway,
            ref=ref,
            amount=amount,
            gateway_refund_id=gateway_refund_id,
            status="accepted",
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )


def notifications_of(session: Session, ref: str) -> list[GatewayNotification]:
    return list(
        session.scalars(
            select(GatewayNotification)
            .where(GatewayNotification.ref == ref)
            .order_by(GatewayNotification.id)
        )
    )
