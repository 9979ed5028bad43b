"""Alipay (支付宝) page and wap pay, through ``python-alipay-sdk`` (module ``alipay``), RSA2.

A payment is a signed URL to Alipay's cashier (``alipay.trade.wap.pay`` on a phone,
``alipay.trade.page.pay`` on a computer): making it needs no network call. Queries, refunds,
refund queries and closing go through the package, which signs each request with the app's
private key and verifies each answer with Alipay's public key.

A notification (a form POST) is verified with Alipay's public key: RSA2 over the parameters
sorted by name, without ``sign`` and ``sign_type``. Its ``notify_time`` (Beijing time) must be
fresh and its ``app_id`` ours.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.payments import notify
from tuangou.payments.errors import GatewayFailed, StaleNotification
from tuangou.payments.gateway import BadSignature, GatewayStatus
from tuangou.payments.rules import (
    GatewayState,
    Notice,
    RefundState,
    fen,
    refund_key_in,
    refund_key_out,
    yuan,
)
from tuangou.payments.wechat import pem

log = logging.getLogger(__name__)

NOTIFY_PATH = "/api/payments/webhooks/alipay"
BEIJING = ZoneInfo("Asia/Shanghai")
_OK = "10000"
_TRADE_STATES = {
    "TRADE_SUCCESS": GatewayState.SUCCEEDED,
    "TRADE_FINISHED": GatewayState.SUCCEEDED,
    "WAIT_BUYER_PAY": GatewayState.PENDING,
    "TRADE_CLOSED": GatewayState.DECLINED,
}


class AlipayGateway:
    name = "alipay"

    def __init__(
        self,
        *,
        appid: str,
        private_key: str,
        public_key: str,
        notify_url: str,
        return_url: str = "",
        seller_id: str = "",
        sandbox: bool = False,
    ) -> None:
        self.appid = appid
        self.seller_id = seller_id
        self.notify_url = notify_url
        self.return_url = return_url
        self._private_key = private_key
        self._public_key = public_key
        self._sandbox = sandbox
        self._client: AliPay | None = None

    def __repr__(self) -> str:  # never the keys
        return f"AlipayGateway(appid={self.appid!r})"

    @classmethod
    def from_settings(cls) -> AlipayGateway:
        s = get_settings()
        base = s.public_url or ""
        return cls(
            appid=s.alipay_appid,
            private_key=pem(s.alipay_private_key.get_secret_value()),
            public_key=pem(s.alipay_public_key),
            notify_url=base + NOTIFY_PATH,
            return_url=base + "/orders" if base else "",
            seller_id=s.alipay_seller_id,
            sandbox=s.alipay_sandbox,
        )

    @property
    def client(self) -> AliPay:
        if self._client is None:
            self._client = AliPay(
                appid=self.appid,
                app_notify_url=self.notify_url,
                app_private_key_string=self._private_key,
                alipay_public_key_string=self._public_key,
                sign_type="RSA2",
                debug=self._sandbox,
            )
        return self._client

    def _call(self, what: str, fn: Any, **kwargs: Any) -> dict[str, Any]:
        """The package's call; an answer of ``ACQ.TRADE_NOT_EXIST`` (and the like) comes back
        as ``{"code": ..., "sub_code": ...}`` rather than raising."""
        try:
            answer = fn(**kwargs)
        except AliPayException as exc:
            text = str(exc)
            for known in ("TRADE_NOT_EXIST", "TRADE_STATUS_ERROR"):
                if known in text:
                    return {"code": "40004", "sub_code": f"ACQ.{known}"}
            log.warning("alipay %s refused", what)
            raise GatewayFailed(f"alipay {what}: refused") from exc
        except Exception as exc:  # the network, or an answer whose signature fails
            log.warning("alipay %s failed: %s", what, type(exc).__name__)
            raise GatewayFailed(f"alipay {what}: {type(exc).__name__}") from exc
        return dict(answer)

    # ------------------------------------------------------------ paying

    def pay_url(self, ref: str, amount: int, *, device: str = "wap") -> str:
        """Alipay's cashier for this payment: wap pay (a phone) or page pay (a computer)."""
        build = (
            self.client.api_alipay_trade_page_pay
            if device == "page"
            else self.client.api_alipay_trade_wap_pay
        )
        signed = build(
            subject=f"团购订单 {ref}",
            out_trade_no=ref,
            total_amount=yuan(amount),
            return_url=self.return_url or None,
            notify_url=self.notify_url,
        )
        return f"{self.client._gateway}?{signed}"

    def query(self, session: Session, ref: str) -> GatewayStatus:
        answer = self._call("query", self.client.api_alipay_trade_query, out_trade_no=ref)
        if answer.get("code") != _OK:
            if "TRADE_NOT_EXIST" in str(answer.get("sub_code")):
                return GatewayStatus(ref, GatewayState.UNKNOWN)
            raise GatewayFailed(f"alipay query: {answer.get('sub_code', answer.get('code'))}")
        state = _TRADE_STATES.get(str(answer.get("trade_status")), GatewayState.PENDING)
        total = answer.get("total_amount")
        return GatewayStatus(ref, state, fen(str(total)) if total is not None else None)

    def close(self, session: Session, ref: str) -> None:
        answer = self._call("close", self.client.api_alipay_trade_close, out_trade_no=ref)
        if answer.get("code") != _OK and "TRADE_NOT_EXIST" not in str(answer.get("sub_code")):
            raise GatewayFailed(f"alipay close: {answer.get('sub_code', answer.get('code'))}")

    # ------------------------------------------------------------ refunds

    def refund(self, session: Session, *, ref: str, key: str, amount: int) -> bool:
        answer = self._call(
            "refund",
            self.client.api_alipay_trade_refund,
            refund_amount=yuan(amount),
            out_trade_no=ref,
            out_request_no=refund_key_out(key),
        )
        if answer.get("code") != _OK:
            raise GatewayFailed(f"alipay refund: {answer.get('sub_code', answer.get('code'))}")
        notify.record_refund(
            session,
            self.name,
            key=key,
            ref=ref,
            amount=amount,
            gateway_refund_id=str(answer.get("trade_no") or "") or None,
        )
        return True

    def query_refund(self, session: Session, *, ref: str, key: str) -> RefundState:
        answer = self._call(
            "refund query",
            self.client.api_alipay_trade_fastpay_refund_query,
            out_request_no=refund_key_out(key),
            out_trade_no=ref,
        )
        if answer.get("code") != _OK:
            raise GatewayFailed(f"alipay refund query: {answer.get('sub_code')}")
        if answer.get("refund_status") == "REFUND_SUCCESS":
            return RefundState.SUCCEEDED
        if not answer.get("refund_amount"):
            return RefundState.UNKNOWN  # Alipay answers 10000 without a refund it does not know
        return RefundState.PROCESSING

    # ------------------------------------------------------------ notifications

    def verify_notice(self, form: dict[str, str]) -> Notice:
        """Check a notification's RSA2 signature and freshness, and read it. Raises
        :class:`BadSignature` or :class:`StaleNotification`."""
        data = dict(form)
        signature = data.pop("sign", "")
        if data.get("sign_type", "RSA2") != "RSA2" or not signature:
            raise BadSignature("an RSA2 signature is required")
        data.pop("sign_type", None)
        try:
            good = self.client.verify(dict(data), signature)
        except Exception:  # a signature that is not base64, say
            good = False
        if not good:
            raise BadSignature()
        try:
            sent_at = datetime.strptime(data.get("notify_time", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise BadSignature("notify_time is required") from None
        sent = sent_at.replace(tzinfo=BEIJING)
        if abs((clock.as_utc(clock.now()) - sent).total_seconds()) > (
            get_settings().notify_window_seconds
        ):
            raise StaleNotification()
        try:
            total = fen(data.get("total_amount", ""))
            refunded = fen(data["refund_fee"]) if data.get("refund_fee") else 0
        except ValueError:
            raise BadSignature("the amounts are not amounts") from None
        merchant = data.get("app_id", "")
        if self.seller_id:
            merchant += "/" + data.get("seller_id", "")
        status = data.get("trade_status", "")
        trade_no = data.get("trade_no", "")
        common: dict[str, Any] = {
            "gateway": self.name,
            "ref": data.get("out_trade_no", ""),
            "merchant": merchant,
            "amount": total,
            "currency": data.get("trans_currency", "CNY"),
            "sent_at": sent,
        }
        if data.get("out_biz_no") and refunded:
            # A refund's notice: Alipay sends it with the trade's status (TRADE_CLOSED once
            # all was refunded), the refund's request number and the refunded total so far.
            return Notice(
                kind="refund",
                event="REFUND",
                state=RefundState.SUCCEEDED,
                txn_id=f"{trade_no}/{data['out_biz_no']}"[:64],
                refund_key=refund_key_in(data["out_biz_no"]),
                refund_amount=refunded,
                **common,
            )
        return Notice(
            kind="payment",
            event=status,
            state=_TRADE_STATES.get(status, GatewayState.PENDING),
            txn_id=trade_no,
            **common,
        )

    def expected_merchant(self, kind: str) -> str:
        return self.appid + (f"/{self.seller_id}" if self.seller_id else "")
