"""Alipay page and wap pay (RSA2), with keys made here and no network: the signed requests,
and the strict notify pipeline (valid, forged, tampered amount, wrong app, stale, duplicate,
out of order). On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi.testclient import TestClient

from tests.conftest import scalar
from tests.payments.gateways import (
    ALIPAY_APPID,
    FakeAlipay,
    alipay,
    alipay_notice,
    keys,
    stale,
    unconfigure,
    unpaid_order,
)
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.payments import gateway as gateways
from tuangou.payments import service as payments
from tuangou.payments.rules import GatewayState, RefundState

__all__ = ["alipay", "unconfigure"]  # fixtures

URL = "/api/payments/webhooks/alipay"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _verify_signed(params: dict[str, str]) -> None:
    """The request's RSA2 signature, with the app's public key, over the sorted parameters."""
    params = dict(params)
    signature = params.pop("sign")
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    key = serialization.load_pem_public_key(keys("app").public_pem.encode())
    key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]


def _alipay_payment(user_id: int, order_id: int) -> tuple[int, str, int]:
    """The member chooses Alipay for their order: (payment id, ref, amount)."""

    def work(session: Any) -> tuple[int, str, int]:
        started = payments.start_for_user(
            session, user_id=user_id, order_id=order_id, gateway_name="alipay"
        )
        assert started.pay_url == f"/pay/{started.payment.id}"
        p = started.payment
        return p.id, p.gateway_ref, p.amount

    return run_in_transaction(work)


def _status(payment_id: int) -> tuple[str, str]:
    payment = scalar("SELECT status FROM payments WHERE id = :p", p=payment_id)
    order = scalar(
        "SELECT o.status FROM orders o JOIN payments p ON p.order_id = o.id WHERE p.id = :p",
        p=payment_id,
    )
    return str(payment), str(order)


def test_signed_requests(alipay: FakeAlipay, db: str) -> None:
    gateway = gateways.get_gateway("alipay")
    assert repr(gateway) == f"AlipayGateway(appid={ALIPAY_APPID!r})"
    user_id, order_id = unpaid_order(price=2590)
    payment_id, ref, amount = _alipay_payment(user_id, order_id)
    with unit_of_work() as session:
        payment = session.get(payments.Payment, payment_id)
        wap = payments.pay_url(payment)
        page = gateway.pay_url(ref, amount, device="page")  # type: ignore[call-arg]
        assert alipay.requests == []  # a cashier URL is signed here, not fetched
        for url, method in ((wap, "alipay.trade.wap.pay"), (page, "alipay.trade.page.pay")):
            assert url.startswith("https://openapi.alipay.com/gateway.do?")
            params = dict(parse_qsl(urlparse(url).query))
            assert params["method"] == method and params["app_id"] == ALIPAY_APPID
            assert params["notify_url"] == "https://tuan.example.org/api/payments/webhooks/alipay"
            assert f'"out_trade_no":"{ref}"' in params["biz_content"]
            assert '"total_amount":"25.90"' in params["biz_content"]
            _verify_signed(params)
        assert gateway.query(session, ref).status == GatewayState.UNKNOWN
        alipay.trades[ref] = {
            "trade_no": "2026120722001",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "25.90",
        }
        assert gateway.query(session, ref) == gateways.GatewayStatus(
            ref, GatewayState.SUCCEEDED, 2590
        )
        assert gateway.refund(session, ref=ref, key="refund:3", amount=990)
        assert gateway.query_refund(session, ref=ref, key="refund:3") == RefundState.SUCCEEDED
        assert gateway.query_refund(session, ref=ref, key="refund:4") == RefundState.UNKNOWN
        gateway.close(session, ref)
        gateway.close(session, "tg_never_seen")  # a trade Alipay never had: nothing to close
    methods = [r["method"] for r in alipay.requests]
    assert methods == [
        "alipay.trade.query",
        "alipay.trade.query",
        "alipay.trade.refund",
        "alipay.trade.fastpay.refund.query",
        "alipay.trade.fastpay.refund.query",
        "alipay.trade.close",
        "alipay.trade.close",
    ]
    for params in alipay.requests:
        _verify_signed(params)
    assert '"out_request_no":"refund-3"' in alipay.requests[2]["biz_content"]
    assert '"refund_amount":"9.90"' in alipay.requests[2]["biz_content"]
    assert scalar("SELECT amount FROM gateway_refunds WHERE key = 'refund:3'") == 990


def test_notices(client: TestClient, alipay: FakeAlipay) -> None:
    user_id, order_id = unpaid_order(price=2590)
    payment_id, ref, _ = _alipay_payment(user_id, order_id)
    spoiled = {
        "forged": alipay_notice(ref, "25.90", signer=keys("attacker").private),
        "tampered amount": alipay_notice(ref, "0.01"),
        "wrong app": alipay_notice(ref, "25.90", app_id="2021000000009999"),
        "stale": alipay_notice(ref, "25.90", at=stale(minutes=6)),
        "no signature": b"out_trade_no=" + ref.encode() + b"&trade_status=TRADE_SUCCESS",
        "edited": alipay_notice(ref, "25.90").replace(b"TRADE_SUCCESS", b"TRADE_FINISHED"),
    }
    for name, body in spoiled.items():
        r = client.post(URL, content=body, headers=FORM)
        assert r.text == "fail" and r.status_code == 200, (name, r.status_code, r.text)
    assert _status(payment_id) == ("pending", "pending_payment")
    assert scalar("SELECT count(*) FROM gateway_notifications") == 0

    # Out of order: the trade's closing (after its full refund) arrives before its payment.
    paid = alipay_notice(ref, "25.90", trade_no="2026120722001")
    closed = alipay_notice(ref, "25.90", status="TRADE_CLOSED", trade_no="2026120722001")
    assert client.post(URL, content=closed, headers=FORM).text == "success"
    assert _status(payment_id) == ("failed", "pending_payment")
    r = client.post(URL, content=paid, headers=FORM)
    assert r.text == "success" and r.status_code == 200
    assert _status(payment_id) == ("succeeded", "paid")
    assert client.post(URL, content=paid, headers=FORM).text == "success"  # a duplicate
    assert client.post(URL, content=closed, headers=FORM).text == "success"
    assert scalar("SELECT count(*) FROM gateway_notifications") == 2
    assert scalar("SELECT count(*) FROM ledger_transfers WHERE id = :t", t=f"pay:{payment_id}") == 1
    assert scalar("SELECT gateway_txn FROM payments WHERE id = :p", p=payment_id) == "2026120722001"

    # A refund's notice (refund_fee and out_biz_no) for a refund we sent, twice.
    with unit_of_work() as session:
        gateways.get_gateway("alipay").refund(session, ref=ref, key="refund:5", amount=2590)
    refund = alipay_notice(
        ref,
        "25.90",
        status="TRADE_CLOSED",
        trade_no="2026120722001",
        refund_fee="25.90",
        out_biz_no="refund-5",
        gmt_refund="2026-12-07 10:05:00.123",
    )
    assert client.post(URL, content=refund, headers=FORM).text == "success"
    assert client.post(URL, content=refund, headers=FORM).text == "success"
    assert scalar("SELECT status FROM gateway_refunds WHERE key = 'refund:5'") == "succeeded"
    assert scalar("SELECT count(*) FROM gateway_notifications") == 3
