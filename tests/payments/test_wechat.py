"""WeChat Pay v3 in public-key mode, with keys made here and no network: the signed requests
the gateway sends, and the strict notify pipeline (valid, forged, tampered amount, wrong
merchant, stale, duplicate, out of order). On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi.testclient import TestClient

from tests.conftest import run_worker, scalar
from tests.payments.gateways import (
    APIV3_KEY,
    APPID,
    MCHID,
    FakeWechat,
    alipay,
    keys,
    paid_resource,
    refund_resource,
    stale,
    unconfigure,
    unpaid_order,
    wechat,
    wechat_notice,
)
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.payments import gateway as gateways
from tuangou.payments import service as payments
from tuangou.payments.rules import GatewayState, RefundState

__all__ = ["alipay", "unconfigure", "wechat"]  # fixtures

URL = "/api/payments/webhooks/wechat"


def _verify(pem: str, signature: str, message: str) -> None:
    key = serialization.load_pem_public_key(pem.encode())
    key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]


def _start(user_id: int, order_id: int) -> tuple[int, str, int, str]:
    """The order's WeChat Pay payment (the default gateway), opened at WeChat Pay as the pay
    page does: (payment id, ref, amount, H5 URL)."""

    def work(session: Any) -> tuple[int, str, int, str]:
        (p,) = payments.payments_of(session, order_id)
        assert p.gateway == "wechat" and p.user_id == user_id
        return p.id, p.gateway_ref, p.amount, payments.pay_url(p)

    return run_in_transaction(work)


def _order_status(order_id: int) -> str:
    return str(scalar("SELECT status FROM orders WHERE id = :o", o=order_id))


def _payment_status(payment_id: int) -> str:
    return str(scalar("SELECT status FROM payments WHERE id = :p", p=payment_id))


def _notices() -> int:
    return int(scalar("SELECT count(*) FROM gateway_notifications"))


def _send(client: TestClient, headers: dict[str, str], body: bytes) -> Any:
    return client.post(URL, content=body, headers=headers)


def test_signed_requests_and_no_network_at_start(wechat: FakeWechat, db: str) -> None:
    """Building the gateway makes no request (public-key mode); paying, querying, refunding,
    querying a refund and closing each send one request signed with the merchant's key."""
    gateway = gateways.get_gateway("wechat")
    assert "wechat" in payments.gateways() and "alipay" in payments.gateways()
    assert repr(gateway) == f"WechatGateway(mchid={MCHID!r}, appid={APPID!r})"
    assert APIV3_KEY not in repr(gateway) and wechat.requests == []
    # Secrets are never shown: not by the settings, not by their dump.
    settings = get_settings()
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert APIV3_KEY not in shown and "PRIVATE KEY" not in shown
    user_id, order_id = unpaid_order(price=2590)
    payment_id, ref, amount, url = _start(user_id, order_id)
    assert url.startswith("https://wx.tenpay.com/") and amount == 2590
    ((method, sent_url, headers, body),) = wechat.requests
    assert (method, sent_url) == ("POST", "https://api.mch.weixin.qq.com/v3/pay/transactions/h5")
    assert body["mchid"] == MCHID and body["appid"] == APPID and body["out_trade_no"] == ref
    assert body["amount"] == {"total": 2590, "currency": "CNY"}
    assert body["notify_url"] == "https://tuan.example.org/api/payments/webhooks/wechat"
    # The Authorization header: SHA256-RSA over method, path, timestamp, nonce and body.
    auth = headers["Authorization"]
    assert auth.startswith("WECHATPAY2-SHA256-RSA2048 ") and f'mchid="{MCHID}"' in auth
    fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    fields = {k: v.strip('"') for k, v in fields.items()}
    message = "POST\n/v3/pay/transactions/h5\n{}\n{}\n{}\n".format(
        fields["timestamp"], fields["nonce_str"], json.dumps(body)
    )
    _verify(keys("merchant").public_pem, fields["signature"], message)
    assert headers["Wechatpay-Serial"] == "PUB_KEY_ID_0114232204012025"

    with unit_of_work() as session:
        assert gateway.query(session, ref).status == GatewayState.PENDING
        assert gateway.query(session, "tg_nothing").status == GatewayState.UNKNOWN
        wechat.trades[ref]["trade_state"] = "SUCCESS"
        assert gateway.query(session, ref) == gateways.GatewayStatus(
            ref, GatewayState.SUCCEEDED, 2590
        )
        assert gateway.refund(session, ref=ref, key="refund:7", amount=1000)
        assert gateway.query_refund(session, ref=ref, key="refund:7") == RefundState.PROCESSING
        assert gateway.query_refund(session, ref=ref, key="refund:8") == RefundState.UNKNOWN
        gateway.close(session, ref)
    refund = wechat.requests[-4][3]
    assert refund["out_refund_no"] == "refund-7" and refund["out_trade_no"] == ref
    assert refund["amount"] == {"refund": 1000, "total": 2590, "currency": "CNY"}
    assert wechat.requests[-1][1].endswith(f"/v3/pay/transactions/out-trade-no/{ref}/close")
    assert scalar("SELECT amount FROM gateway_refunds WHERE key = 'refund:7'") == 1000
    assert payment_id


def test_jsapi_parameters_are_signed(wechat: FakeWechat, db: str) -> None:
    gateway = gateways.get_gateway("wechat")
    params = gateway.jsapi("tg_abc", 100, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")  # type: ignore[attr-defined]
    assert params["package"].startswith("prepay_id=") and params["appId"] == APPID
    message = "\n".join([APPID, params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
    _verify(keys("merchant").public_pem, params["paySign"], message)
    assert wechat.requests[0][3]["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}


def test_a_valid_notice_pays_the_order_once(client: TestClient, wechat: FakeWechat) -> None:
    user_id, order_id = unpaid_order()
    payment_id, ref, amount, _ = _start(user_id, order_id)
    headers, body = wechat_notice(paid_resource(ref, amount))
    r = _send(client, headers, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"code": "SUCCESS", "message": "成功"}
    assert _payment_status(payment_id) == "succeeded" and _order_status(order_id) == "paid"
    assert scalar("SELECT gateway_txn FROM payments WHERE id = :p", p=payment_id).startswith("42")
    assert scalar("SELECT result FROM gateway_notifications") == "paid"
    # The same notice again, and again re-sent with a new signature: nothing more.
    assert _send(client, headers, body).json()["code"] == "SUCCESS"
    again = wechat_notice(paid_resource(ref, amount))
    assert _send(client, *again).status_code == 200
    assert _notices() == 1
    assert scalar("SELECT count(*) FROM ledger_transfers WHERE id = :t", t=f"pay:{payment_id}") == 1


SPOILS = (
    "forged",
    "tampered_amount",
    "wrong_merchant",
    "wrong_app",
    "stale",
    "wrong_key_id",
    "wrong_apiv3",
    "currency",
    "body_edited",
)


def _spoiled(spoil: str, ref: str, amount: int) -> tuple[dict[str, str], bytes]:
    resource = paid_resource(ref, amount)
    options: dict[str, Any] = {}
    if spoil == "forged":
        options["signer"] = keys("attacker").private
    elif spoil == "tampered_amount":
        resource = paid_resource(ref, 1)
    elif spoil == "wrong_merchant":
        resource = paid_resource(ref, amount, mchid="1900000999")
    elif spoil == "wrong_app":
        resource = paid_resource(ref, amount, appid="wx0000000000000000")
    elif spoil == "stale":
        options["at"] = stale(minutes=6)
    elif spoil == "wrong_key_id":
        options["serial"] = "PUB_KEY_ID_SOMEONE_ELSE"
    elif spoil == "wrong_apiv3":
        options["apiv3_key"] = "0" * 32
    elif spoil == "currency":
        resource["amount"]["currency"] = "USD"
    headers, body = wechat_notice(resource, **options)
    if spoil == "body_edited":
        body = body.replace(b'"summary": "', b'"summary": "x')
    return headers, body


def test_a_bad_notice_is_refused_and_changes_nothing(
    client: TestClient, wechat: FakeWechat
) -> None:
    user_id, order_id = unpaid_order()
    payment_id, ref, amount, _ = _start(user_id, order_id)
    for spoil in SPOILS:
        r = _send(client, *_spoiled(spoil, ref, amount))
        assert 400 <= r.status_code < 500, (spoil, r.text)
        assert r.json()["code"] == "FAIL" and r.json()["message"], spoil
    assert _payment_status(payment_id) == "pending" and _order_status(order_id) == "pending_payment"
    assert _notices() == 0
    assert len(wechat.requests) == 1  # no certificate download, whatever the notice said
    # The same notice, unspoiled, lands.
    assert _send(client, *wechat_notice(paid_resource(ref, amount))).status_code == 200
    assert _order_status(order_id) == "paid"


def test_notices_out_of_order(client: TestClient, wechat: FakeWechat) -> None:
    """A refund's notice before the payment's, a closed notice after the payment's, and a
    payment's notice after the payment was closed (a late payment: refunded)."""
    user_id, order_id = unpaid_order()
    payment_id, ref, amount, _ = _start(user_id, order_id)
    # A refund notice for a refund we never sent (the merchant console), before the paid one.
    early = wechat_notice(
        refund_resource(ref, "refund:999", 500, amount), event_type="REFUND.SUCCESS"
    )
    assert _send(client, *early).status_code == 200
    assert scalar("SELECT result FROM gateway_notifications") == "refund_unknown"
    assert _payment_status(payment_id) == "pending"
    assert _send(client, *wechat_notice(paid_resource(ref, amount))).status_code == 200
    assert _order_status(order_id) == "paid"
    closed = paid_resource(ref, amount, trade_state="CLOSED")
    assert _send(client, *wechat_notice(closed)).status_code == 200
    assert _payment_status(payment_id) == "succeeded"
    assert _send(client, *early).status_code == 200  # its duplicate
    assert _notices() == 3

    # Another order, whose hold runs out: its payment is closed at WeChat Pay; then the
    # payment's notice arrives after all.
    user_id, order_id = unpaid_order()
    payment_id, ref, amount, _ = _start(user_id, order_id)
    clock.advance(timedelta(minutes=121))
    run_worker()
    assert _order_status(order_id) == "cancelled"
    assert wechat.trades[ref]["trade_state"] == "CLOSED"
    r = _send(client, *wechat_notice(paid_resource(ref, amount)))
    assert r.status_code == 200, r.text
    run_worker()
    assert _payment_status(payment_id) == "succeeded"
    assert scalar("SELECT result FROM gateway_notifications WHERE ref = :r", r=ref) == "late"
    key = scalar("SELECT key FROM gateway_refunds WHERE ref = :r", r=ref)
    assert wechat.refunds[key.replace(":", "-")]["amount"]["refund"] == amount
    # Its refund's notice, then the same once more.
    notice = wechat_notice(refund_resource(ref, key, amount, amount), event_type="REFUND.SUCCESS")
    assert _send(client, *notice).status_code == 200
    assert _send(client, *notice).status_code == 200
    assert scalar("SELECT status FROM gateway_refunds WHERE key = :k", k=key) == "succeeded"
    assert scalar("SELECT count(*) FROM gateway_notifications WHERE ref = :r", r=ref) == 2


def test_a_gateway_that_is_not_configured_refuses(client: TestClient) -> None:
    gateways.reset_gateways()
    headers, body = wechat_notice(paid_resource("tg_x", 100))
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "FAIL"
    r = client.post("/api/payments/webhooks/alipay", content=b"a=b")
    assert r.text == "fail"
