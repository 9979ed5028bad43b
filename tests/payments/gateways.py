"""Test doubles of WeChat Pay and Alipay: keys made here (RSA 2048), the gateways' answers
signed with them, notifications signed (and for WeChat Pay, encrypted) as the gateways send
them. No network: the packages' request functions are replaced by these fakes, which keep
every request they were sent so that the tests can check what was signed."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.pools.support import Item, seed_leader, seed_members, seed_operator, seed_sku, seed_wave
from tuangou.core import clock
from tuangou.core.config import reset_settings
from tuangou.core.db import run_in_transaction
from tuangou.payments import gateway as gateway_module

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232204012025"
APIV3_KEY = "a12d3924fd499edac8a5efc3b6e2b1c9"  # 32 bytes, as WeChat Pay's
ALIPAY_APPID = "2021000000000001"


@dataclass(frozen=True)
class Keys:
    private: RSAPrivateKey
    private_pem: str
    public_pem: str


@lru_cache(maxsize=4)
def keys(name: str) -> Keys:
    """An RSA 2048 key pair made for the tests, one per name ("merchant", "platform", …)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Keys(
        private,
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def rsa_sign(key: RSAPrivateKey, message: str) -> str:
    return base64.b64encode(
        key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()


def configure(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Turn on the named real gateways with the tests' keys."""
    env = {"TUANGOU_PUBLIC_URL": "https://tuan.example.org"}
    if "wechat" in names:
        env.update(
            TUANGOU_WECHAT_MCHID=MCHID,
            TUANGOU_WECHAT_APPID=APPID,
            TUANGOU_WECHAT_CERT_SERIAL_NO="444F4864EA9B34415",
            TUANGOU_WECHAT_PRIVATE_KEY=keys("merchant").private_pem,
            TUANGOU_WECHAT_PUBLIC_KEY=keys("platform").public_pem,
            TUANGOU_WECHAT_PUBLIC_KEY_ID=PUBLIC_KEY_ID,
            TUANGOU_WECHAT_APIV3_KEY=APIV3_KEY,
        )
    if "alipay" in names:
        env.update(
            TUANGOU_ALIPAY_APPID=ALIPAY_APPID,
            TUANGOU_ALIPAY_PRIVATE_KEY=keys("app").private_pem,
            TUANGOU_ALIPAY_PUBLIC_KEY=keys("alipay").public_pem,
        )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    gateway_module.reset_gateways()


@pytest.fixture
def unconfigure() -> Iterator[None]:
    yield
    for name in list(os.environ):
        if name.startswith(("TUANGOU_WECHAT_", "TUANGOU_ALIPAY_")):
            del os.environ[name]
    reset_settings()
    gateway_module.reset_gateways()


# ---------------------------------------------------------------- a member's unpaid order


def unpaid_order(price: int = 2590) -> tuple[int, int]:
    """A member's unpaid wave order: (user id, order id)."""
    from tuangou.pools import service as pools

    leader = seed_leader(seed_operator().user_id)
    (member,) = seed_members(leader, 1)
    _, sku = seed_sku(price=price)
    _, listing, (item,) = seed_wave(leader, [Item(sku, price=price)])

    def place(session: Any) -> int:
        placed = pools.place_order(
            session, user_id=member.user_id, listing_id=listing, quantities={item: 1}
        )
        return int(placed.order.id)

    return member.user_id, run_in_transaction(place)


# ---------------------------------------------------------------- WeChat Pay


@dataclass
class _Response:
    status_code: int
    text: str
    headers: dict[str, str]

    @property
    def content(self) -> bytes:
        return self.text.encode()


@dataclass
class FakeWechat:
    """Stands for api.mch.weixin.qq.com: answers signed with the platform key."""

    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def _answer(self, status: int, body: dict[str, Any] | None) -> _Response:
        text = json.dumps(body) if body is not None else ""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = rsa_sign(keys("platform").private, f"{timestamp}\n{nonce}\n{text}\n")
        return _Response(
            status,
            text,
            {
                "Content-Type": "application/json",
                "Wechatpay-Signature": signature,
                "Wechatpay-Timestamp": timestamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": PUBLIC_KEY_ID,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            },
        )

    def get(self, url: str, headers: dict[str, str], **_: Any) -> _Response:
        return self._handle("GET", url, headers, None)

    def post(
        self, url: str, json: Any = None, headers: dict[str, str] | None = None, **_: Any
    ) -> _Response:
        return self._handle("POST", url, headers or {}, json)

    def _handle(self, method: str, url: str, headers: dict[str, str], body: Any) -> _Response:
        path = urlparse(url).path
        self.requests.append((method, url, dict(headers), body))
        if path in ("/v3/pay/transactions/h5", "/v3/pay/transactions/jsapi"):
            self.trades[body["out_trade_no"]] = {"trade_state": "NOTPAY", **body}
            if path.endswith("h5"):
                return self._answer(
                    200,
                    {
                        "h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"
                    },
                )
            return self._answer(200, {"prepay_id": "wx201410272009395522657a690389285100"})
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            ref = path.split("/")[5]
            if path.endswith("/close"):
                if ref in self.trades:
                    self.trades[ref]["trade_state"] = "CLOSED"
                return self._answer(204, None)
            trade = self.trades.get(ref)
            if trade is None:
                return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self._answer(
                200,
                {
                    "mchid": MCHID,
                    "appid": APPID,
                    "out_trade_no": ref,
                    "transaction_id": trade.get("transaction_id", ""),
                    "trade_state": trade["trade_state"],
                    "amount": {"total": trade["amount"]["total"], "currency": "CNY"},
                },
            )
        if path == "/v3/refund/domestic/refunds":
            refund = {"refund_id": f"5030{len(self.refunds):08d}", "status": "PROCESSING", **body}
            self.refunds[body["out_refund_no"]] = refund
            return self._answer(200, refund)
        if path.startswith("/v3/refund/domestic/refunds/"):
            found = self.refunds.get(path.rsplit("/", 1)[1])
            if found is None:
                return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
            return self._answer(200, found)
        return self._answer(404, {"code": "NOT_FOUND", "message": path})


@pytest.fixture
def wechat(monkeypatch: pytest.MonkeyPatch, unconfigure: None) -> FakeWechat:
    import wechatpayv3.core

    fake = FakeWechat()
    monkeypatch.setattr(wechatpayv3.core, "requests", fake)
    configure(monkeypatch, "wechat", "alipay")
    return fake


def wechat_notice(
    resource: dict[str, Any],
    *,
    event_type: str = "TRANSACTION.SUCCESS",
    at: datetime | None = None,
    signer: RSAPrivateKey | None = None,
    apiv3_key: str = APIV3_KEY,
    serial: str = PUBLIC_KEY_ID,
) -> tuple[dict[str, str], bytes]:
    """A notification as WeChat Pay sends it: the resource encrypted (AES-256-GCM with the
    API v3 key), the body signed with the platform key. Returns (headers, body)."""
    nonce, associated = secrets.token_hex(6), "transaction"
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), json.dumps(resource).encode(), associated.encode()
    )
    envelope = {
        "id": secrets.token_hex(8),
        "create_time": "2026-12-07T10:00:00+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated,
            "nonce": nonce,
        },
    }
    body = json.dumps(envelope, ensure_ascii=False)
    timestamp = str(int(clock.as_utc(at or clock.now()).timestamp()))
    header_nonce = secrets.token_hex(16)
    signature = rsa_sign(
        signer or keys("platform").private, f"{timestamp}\n{header_nonce}\n{body}\n"
    )
    headers = {
        "Wechatpay-Signature": signature,
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Content-Type": "application/json",
    }
    return headers, body.encode()


def paid_resource(ref: str, amount: int, **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "mchid": MCHID,
        "appid": APPID,
        "out_trade_no": ref,
        "transaction_id": "42000000" + ref[-12:],
        "trade_type": "MWEB",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "success_time": "2026-12-07T10:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {
            "total": amount,
            "payer_total": amount,
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    resource.update(changes)
    return resource


def refund_resource(
    ref: str, key: str, amount: int, total: int, status: str = "SUCCESS"
) -> dict[str, Any]:
    return {
        "mchid": MCHID,
        "out_trade_no": ref,
        "transaction_id": "42000000" + ref[-12:],
        "out_refund_no": key.replace(":", "-"),
        "refund_id": "50300" + key.replace(":", ""),
        "refund_status": status,
        "amount": {"total": total, "refund": amount, "payer_total": total, "payer_refund": amount},
    }


# ---------------------------------------------------------------- Alipay


BEIJING = ZoneInfo("Asia/Shanghai")


def alipay_sign(params: dict[str, str], key: RSAPrivateKey | None = None) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return rsa_sign(key or keys("alipay").private, message)


@dataclass
class FakeAlipay:
    """Stands for openapi.alipay.com/gateway.do: answers signed with Alipay's key."""

    trades: dict[str, dict[str, str]] = field(default_factory=dict)
    refunds: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, url: str, timeout: float = 15) -> Any:
        params = dict(parse_qsl(urlparse(url).query, keep_blank_values=True))
        self.requests.append(params)
        method = params["method"]
        biz = json.loads(params["biz_content"])
        ref = biz.get("out_trade_no", "")
        trade = self.trades.get(ref)
        if method == "alipay.trade.query":
            if trade is None:
                answer = {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_NOT_EXIST",
                }
            else:
                answer = {"code": "10000", "msg": "Success", "out_trade_no": ref, **trade}
        elif method == "alipay.trade.close":
            if trade is None:
                answer = {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_NOT_EXIST",
                }
            else:
                trade["trade_status"] = "TRADE_CLOSED"
                answer = {"code": "10000", "msg": "Success", "out_trade_no": ref}
        elif method == "alipay.trade.refund":
            self.refunds[biz["out_request_no"]] = {
                "refund_amount": biz["refund_amount"],
                "out_trade_no": ref,
            }
            answer = {
                "code": "10000",
                "msg": "Success",
                "trade_no": (trade or {}).get("trade_no", "2026120722001"),
                "out_trade_no": ref,
                "fund_change": "Y",
                "refund_fee": biz["refund_amount"],
            }
        elif method == "alipay.trade.fastpay.refund.query":
            found = self.refunds.get(biz["out_request_no"])
            answer = {"code": "10000", "msg": "Success"}
            if found:
                answer.update(found, refund_status="REFUND_SUCCESS")
        else:
            answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.UNKNOWN"}
        name = method.replace(".", "_") + "_response"
        content = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
        sign = rsa_sign(keys("alipay").private, content)
        raw = f'{{"{name}":{content},"sign":"{sign}"}}'

        class _Reply:
            def read(self) -> bytes:
                return raw.encode()

        return _Reply()


@pytest.fixture
def alipay(monkeypatch: pytest.MonkeyPatch, unconfigure: None) -> FakeAlipay:
    import alipay as alipay_package

    fake = FakeAlipay()
    monkeypatch.setattr(alipay_package, "urlopen", fake)
    configure(monkeypatch, "wechat", "alipay")
    return fake


def alipay_notice(
    ref: str,
    amount: str,
    *,
    status: str = "TRADE_SUCCESS",
    trade_no: str | None = None,
    at: datetime | None = None,
    signer: RSAPrivateKey | None = None,
    **extra: str,
) -> bytes:
    """An asynchronous notification as Alipay posts it (form-encoded, RSA2)."""
    sent = clock.as_utc(at or clock.now()).astimezone(BEIJING)
    params = {
        "notify_time": sent.strftime("%Y-%m-%d %H:%M:%S"),
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(12),
        "app_id": ALIPAY_APPID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade_no or "20261207220014" + ref[-12:],
        "out_trade_no": ref,
        "trade_status": status,
        "total_amount": amount,
        "receipt_amount": amount,
        "buyer_id": "2088102177846880",
        "seller_id": "2088101117955611",
        "gmt_payment": sent.strftime("%Y-%m-%d %H:%M:%S"),
        "subject": "团购订单 " + ref,
    }
    params.update(extra)
    params["sign"] = alipay_sign(params, signer)
    params["sign_type"] = "RSA2"
    return urlencode(params).encode()


def stale(minutes: int = 10) -> datetime:
    return clock.now() - timedelta(minutes=minutes)
