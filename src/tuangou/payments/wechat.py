"""WeChat Pay API v3 (微信支付), through the ``wechatpayv3`` package, in public-key mode.

Public-key mode: WeChat Pay signs its answers and notifications with a platform key whose
public half (and its id) the merchant downloads once from the merchant platform; nothing is
fetched at start (the package only downloads platform certificates when it has no public key,
so it is built with one). H5 payments (a phone browser) give the member a URL to open; JSAPI
payments (inside WeChat) give the page the signed parameters of ``WeixinJSBridge``.

Notifications are verified here, not by the package: its verifier downloads certificates when
a notice names another key, which an unsigned request could trigger. A notice must name our
public key id, carry a valid SHA256-RSA signature over "timestamp\\nnonce\\nbody\\n", be fresh,
and decrypt (AES-256-GCM, with the API v3 key).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, load_public_key, rsa_verify

from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.payments import notify
from tuangou.payments.errors import GatewayFailed, StaleNotification
from tuangou.payments.gateway import BadSignature, GatewayStatus
from tuangou.payments.models import Payment
from tuangou.payments.rules import (
    GatewayState,
    Notice,
    RefundState,
    refund_key_in,
    refund_key_out,
)

log = logging.getLogger(__name__)

NOTIFY_PATH = "/api/payments/webhooks/wechat"

_TRADE_STATES = {
    "SUCCESS": GatewayState.SUCCEEDED,
    "REFUND": GatewayState.SUCCEEDED,  # paid, then (partly) refunded
    "NOTPAY": GatewayState.PENDING,
    "USERPAYING": GatewayState.PENDING,
    "CLOSED": GatewayState.DECLINED,
    "REVOKED": GatewayState.DECLINED,
    "PAYERROR": GatewayState.DECLINED,
}
_REFUND_STATES = {
    "SUCCESS": RefundState.SUCCEEDED,
    "PROCESSING": RefundState.PROCESSING,
    "CLOSED": RefundState.FAILED,
    "ABNORMAL": RefundState.FAILED,
}


def pem(value: str) -> str:
    """A key setting: PEM text as it is, or the path of a PEM file."""
    value = value.strip()
    if value and not value.startswith("-----BEGIN") and Path(value).is_file():
        return Path(value).read_text()
    return value


class WechatGateway:
    name = "wechat"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        cert_serial_no: str,
        private_key: str,
        public_key: str,
        public_key_id: str,
        apiv3_key: str,
        notify_url: str,
    ) -> None:
        self.mchid = mchid
        self.appid = appid
        self.public_key_id = public_key_id
        self.notify_url = notify_url
        self._cert_serial_no = cert_serial_no
        self._private_key = private_key
        self._public_key_pem = public_key
        self._public_key = load_public_key(public_key)
        self._apiv3_key = apiv3_key
        self._client: WeChatPay | None = None

    def __repr__(self) -> str:  # never the keys
        return f"WechatGateway(mchid={self.mchid!r}, appid={self.appid!r})"

    @classmethod
    def from_settings(cls) -> WechatGateway:
        s = get_settings()
        return cls(
            mchid=s.wechat_mchid,
            appid=s.wechat_appid,
            cert_serial_no=s.wechat_cert_serial_no,
            private_key=pem(s.wechat_private_key.get_secret_value()),
            public_key=pem(s.wechat_public_key),
            public_key_id=s.wechat_public_key_id,
            apiv3_key=s.wechat_apiv3_key.get_secret_value(),
            notify_url=(s.public_url or "") + NOTIFY_PATH,
        )

    @property
    def client(self) -> WeChatPay:
        """The package's client, built on first use (public-key mode: no network call)."""
        if self._client is None:
            self._client = WeChatPay(
                wechatpay_type=WeChatPayType.H5,
                mchid=self.mchid,
                private_key=self._private_key,
                cert_serial_no=self._cert_serial_no,
                appid=self.appid,
                apiv3_key=self._apiv3_key,
                notify_url=self.notify_url,
                public_key=self._public_key_pem,
                public_key_id=self.public_key_id,
                timeout=(5, 15),
            )
        return self._client

    def _call(self, what: str, fn: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            code, text = fn(**kwargs)
        except Exception as exc:  # the network, or an answer whose signature fails
            log.warning("wechat pay %s failed: %s", what, type(exc).__name__)
            raise GatewayFailed(f"wechat pay {what}: {type(exc).__name__}") from exc
        try:
            body = json.loads(text) if text else {}
        except (TypeError, ValueError):
            body = {}
        return code, body

    # ------------------------------------------------------------ paying

    def pay_url(self, ref: str, amount: int, *, client_ip: str = "127.0.0.1") -> str:
        """An H5 payment: the URL the member opens in their phone's browser."""
        code, body = self._call(
            "h5 pay",
            self.client.pay,
            description=f"团购订单 {ref}",
            out_trade_no=ref,
            amount={"total": amount, "currency": get_settings().currency},
            scene_info={"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}},
            pay_type=WeChatPayType.H5,
        )
        if code != 200 or not body.get("h5_url"):
            raise GatewayFailed(f"wechat pay h5 pay: {code} {body.get('code', '')}")
        return str(body["h5_url"])

    def jsapi(self, ref: str, amount: int, *, openid: str) -> dict[str, str]:
        """A JSAPI payment (inside WeChat, for a member whose openid we know): the signed
        parameters the page passes to ``WeixinJSBridge.invoke('getBrandWCPayRequest', …)``."""
        code, body = self._call(
            "jsapi pay",
            self.client.pay,
            description=f"团购订单 {ref}",
            out_trade_no=ref,
            amount={"total": amount, "currency": get_settings().currency},
            payer={"openid": openid},
            pay_type=WeChatPayType.JSAPI,
        )
        if code != 200 or not body.get("prepay_id"):
            raise GatewayFailed(f"wechat pay jsapi pay: {code} {body.get('code', '')}")
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={body['prepay_id']}"
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self.client.sign([self.appid, timestamp, nonce, package]),
        }

    def query(self, session: Session, ref: str) -> GatewayStatus:
        code, body = self._call("query", self.client.query, out_trade_no=ref)
        if code == 404:
            return GatewayStatus(ref, GatewayState.UNKNOWN)
        if code != 200:
            raise GatewayFailed(f"wechat pay query: {code} {body.get('code', '')}")
        state = _TRADE_STATES.get(str(body.get("trade_state")), GatewayState.PENDING)
        total = (body.get("amount") or {}).get("total")
        return GatewayStatus(ref, state, int(total) if total is not None else None)

    def close(self, session: Session, ref: str) -> None:
        code, body = self._call("close", self.client.close, out_trade_no=ref)
        if code not in (200, 204) and body.get("code") != "ORDER_CLOSED":
            raise GatewayFailed(f"wechat pay close: {code} {body.get('code', '')}")

    # ------------------------------------------------------------ refunds

    def refund(self, session: Session, *, ref: str, key: str, amount: int) -> bool:
        total = session.scalar(select(Payment.amount).where(Payment.gateway_ref == ref))
        if total is None:
            raise GatewayFailed(f"no payment {ref}")
        code, body = self._call(
            "refund",
            self.client.refund,
            out_refund_no=refund_key_out(key),
            out_trade_no=ref,
            amount={"refund": amount, "total": total, "currency": get_settings().currency},
        )
        if code != 200:
            raise GatewayFailed(f"wechat pay refund: {code} {body.get('code', '')}")
        notify.record_refund(
            session,
            self.name,
            key=key,
            ref=ref,
            amount=amount,
            gateway_refund_id=str(body.get("refund_id") or "") or None,
        )
        return True

    def query_refund(self, session: Session, *, ref: str, key: str) -> RefundState:
        code, body = self._call(
            "refund query", self.client.query_refund, out_refund_no=refund_key_out(key)
        )
        if code == 404:
            return RefundState.UNKNOWN
        if code != 200:
            raise GatewayFailed(f"wechat pay refund query: {code} {body.get('code', '')}")
        if body.get("out_trade_no") not in (None, ref):
            return RefundState.UNKNOWN
        return _REFUND_STATES.get(str(body.get("status")), RefundState.PROCESSING)

    # ------------------------------------------------------------ notifications

    def verify_notice(self, headers: dict[str, str], body: bytes) -> Notice:
        """Check a notification's signature and freshness, decrypt its resource, and read it.
        Raises :class:`BadSignature` or :class:`StaleNotification`."""
        h = {k.lower(): v for k, v in headers.items()}
        if h.get("wechatpay-serial", "") != self.public_key_id:
            raise BadSignature("the notification names another platform key")
        signature_type = h.get("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048")
        if signature_type != "WECHATPAY2-SHA256-RSA2048":
            raise BadSignature("unknown signature type")
        timestamp, nonce = h.get("wechatpay-timestamp", ""), h.get("wechatpay-nonce", "")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise BadSignature("the body is not UTF-8") from None
        if not timestamp.isdigit() or not nonce:
            raise BadSignature("timestamp and nonce are required")
        if not rsa_verify(
            timestamp, nonce, text, h.get("wechatpay-signature", ""), self._public_key
        ):
            raise BadSignature()
        sent_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(clock.as_utc(clock.now()).timestamp() - int(timestamp)) > (
            get_settings().notify_window_seconds
        ):
            raise StaleNotification()
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise BadSignature("unknown resource algorithm")
            plain = aes_decrypt(
                nonce=resource["nonce"],
                ciphertext=resource["ciphertext"],
                associated_data=resource.get("associated_data") or "",
                apiv3_key=self._apiv3_key,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadSignature("the notification is not a WeChat Pay notification") from None
        if plain is None:
            raise BadSignature("the resource does not decrypt with our API v3 key")
        return self._read(str(envelope.get("event_type", "")), json.loads(plain), sent_at)

    def _read(self, event_type: str, data: dict[str, Any], sent_at: datetime) -> Notice:
        amount = data.get("amount") or {}
        if event_type.startswith("REFUND."):
            status = str(data.get("refund_status", ""))
            return Notice(
                gateway=self.name,
                kind="refund",
                event=f"REFUND_{status}",
                state=_REFUND_STATES.get(status, RefundState.PROCESSING),
                ref=str(data.get("out_trade_no", "")),
                txn_id=str(data.get("refund_id", "")),
                merchant=str(data.get("mchid", "")),
                amount=int(amount.get("total", 0)),
                currency=str(amount.get("currency", get_settings().currency)),
                sent_at=sent_at,
                refund_key=refund_key_in(str(data.get("out_refund_no", ""))),
                refund_amount=int(amount.get("refund", 0)),
            )
        state = str(data.get("trade_state", ""))
        return Notice(
            gateway=self.name,
            kind="payment",
            event=state,
            state=_TRADE_STATES.get(state, GatewayState.PENDING),
            ref=str(data.get("out_trade_no", "")),
            txn_id=str(data.get("transaction_id", "")),
            merchant=f"{data.get('mchid', '')}/{data.get('appid', '')}",
            amount=int(amount.get("total", 0)),
            currency=str(amount.get("currency", "")),
            sent_at=sent_at,
        )

    def expected_merchant(self, kind: str) -> str:
        return self.mchid if kind == "refund" else f"{self.mchid}/{self.appid}"
