"""Payment gateways behind one small interface, and the built-in sandbox.

The flow is the one of page-pay gateways (Alipay, WeChat H5): we create a payment with our
own reference, the member is sent to the gateway's page with a signed request, the gateway
charges them and later calls our webhook, asynchronously and possibly more than once. We can
also ask the gateway for the truth about a reference, and send refunds keyed by our refund id.

The sandbox behaves like a real gateway: it keeps its own book of charges, confirms by
callback after a delay, and can decline, lose a callback (a time-out: we learn the truth by
querying) or send duplicate callbacks, either because the payer chose that outcome on the
sandbox page or by the fault rates in ``TUANGOU_SANDBOX_FAULTS``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from tuangou.core import clock, secret
from tuangou.core.config import get_settings
from tuangou.core.db import execute, table, upsert_insert
from tuangou.core.errors import DomainError, NotFound
from tuangou.payments.errors import InvalidOutcome, PaymentErrorCode, RefundExceedsCharge
from tuangou.payments.models import SandboxCharge, SandboxRefund
from tuangou.payments.rules import ChargeStatus, GatewayState, RefundState

OUTCOMES = ("approve", "decline", "timeout", "duplicate")


class BadSignature(DomainError):
    code = PaymentErrorCode.BAD_SIGNATURE
    status = 400
    title = "The gateway request's signature is not valid"


class ChargeClosed(DomainError):
    code = PaymentErrorCode.CHARGE_CLOSED
    status = 409
    title = "This payment was already made or declined"


@dataclass(frozen=True)
class GatewayStatus:
    ref: str
    status: GatewayState
    amount: int | None = None


class PaymentGateway(Protocol):
    name: str

    def pay_url(self, ref: str, amount: int) -> str:
        """Where the member pays (a signed request to the gateway's page)."""
        ...

    def query(self, session: Session, ref: str) -> GatewayStatus:
        """The gateway's own word on a reference."""
        ...

    def refund(self, session: Session, *, ref: str, key: str, amount: int) -> bool:
        """Send a refund, idempotent on ``key``; True once the gateway has accepted it."""
        ...

    def query_refund(self, session: Session, *, ref: str, key: str) -> RefundState:
        """The gateway's own word on a refund we sent (by our ``key``)."""
        ...

    def close(self, session: Session, ref: str) -> None:
        """Close an unpaid payment at the gateway: it can no longer be paid."""
        ...


def _faults() -> dict[str, float]:
    rates: dict[str, float] = {}
    for part in get_settings().sandbox_faults.split(","):
        if "=" in part:
            name, value = part.split("=", 1)
            rates[name.strip()] = float(value)
    return rates


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT
_charges = table(SandboxCharge)
_authorize: dict[str, Any] = {}  # the charge's upsert per dialect, built once


def _authorize_statement(session: Session) -> Any:
    """INSERT a charge, or update one still waiting for its payer (``status = created``)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _authorize:
        ins = _insert(session)(_charges).values({c.key: bindparam(c.key) for c in _charges.c})
        _authorize[dialect] = ins.on_conflict_do_update(
            index_elements=["ref"],
            set_={
                "status": ins.excluded.status,
                "callbacks_due": ins.excluded.callbacks_due,
                "callback_at": ins.excluded.callback_at,
            },
            where=_charges.c.status == ChargeStatus.CREATED,
        )
    return _authorize[dialect]


class SandboxGateway:
    name = "sandbox"

    def _message(self, ref: str, amount: int) -> str:
        return f"{ref}|{amount}"

    def pay_url(self, ref: str, amount: int) -> str:
        sig = secret.sign(self._message(ref, amount), "sandbox-pay")
        return "/api/sandbox/pay?" + urlencode({"ref": ref, "amount": amount, "sig": sig})

    def check(self, ref: str, amount: int, sig: str) -> None:
        if not secret.verify(self._message(ref, amount), sig, "sandbox-pay"):
            raise BadSignature()

    def authorize(
        self, session: Session, *, ref: str, amount: int, sig: str, outcome: str | None
    ) -> SandboxCharge:
        """The payer confirms on the sandbox page. Returns the gateway's charge."""
        self.check(ref, amount, sig)
        if outcome is None:
            outcome = "approve"
            rates = _faults()
            roll = random.random()
            for fault in ("decline", "timeout", "duplicate"):
                rate = rates.get(fault, 0.0)
                if roll < rate:
                    outcome = fault
                    break
                roll -= rate
        if outcome not in OUTCOMES:
            raise InvalidOutcome(f"outcome must be one of {', '.join(OUTCOMES)}")
        now = clock.now()
        charge = SandboxCharge(
            ref=ref,
            amount=amount,
            status=ChargeStatus.DECLINED if outcome == "decline" else ChargeStatus.SUCCEEDED,
            refunded=0,
            callbacks_due={"approve": 1, "decline": 1, "timeout": 0, "duplicate": 3}[outcome],
            callback_at=now + timedelta(milliseconds=get_settings().sandbox_callback_delay_ms),
            created_at=now,
        )
        # One statement: a new charge, or one still waiting for its payer; a charge that was
        # already paid or declined is left alone (a row count of 0).
        values = {c.key: getattr(charge, c.key) for c in _charges.columns}
        if not execute(session, _authorize_statement(session), values).rowcount:
            raise ChargeClosed()
        return charge

    def query(self, session: Session, ref: str) -> GatewayStatus:
        charge = session.get(SandboxCharge, ref)
        if charge is None:
            return GatewayStatus(ref, GatewayState.UNKNOWN)
        if charge.status == ChargeStatus.CREATED:
            return GatewayStatus(ref, GatewayState.PENDING, charge.amount)
        return GatewayStatus(ref, GatewayState(charge.status), charge.amount)

    def refund(self, session: Session, *, ref: str, key: str, amount: int) -> bool:
        charge = session.get(SandboxCharge, ref, with_for_update=True)
        if charge is None or charge.status != ChargeStatus.SUCCEEDED:
            raise NotFound(f"no successful sandbox charge {ref}")
        stmt = (
            _insert(session)(SandboxRefund)
            .values(key=key, charge_ref=ref, amount=amount, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        if session.execute(stmt).rowcount:  # type: ignore[attr-defined]
            if charge.refunded + amount > charge.amount:
                raise RefundExceedsCharge()
            charge.refunded += amount
        return True

    def query_refund(self, session: Session, *, ref: str, key: str) -> RefundState:
        row = session.get(SandboxRefund, key)
        if row is None or row.charge_ref != ref:
            return RefundState.UNKNOWN
        return RefundState.SUCCEEDED

    def close(self, session: Session, ref: str) -> None:
        """An unpaid charge is declined, and a payment never started here can no longer
        start; a charge already made stays as it is (a late payment is refunded)."""
        now = clock.now()
        ins = _insert(session)(_charges).values(
            ref=ref,
            amount=1,
            status=ChargeStatus.DECLINED,
            refunded=0,
            callbacks_due=0,
            callback_at=None,
            created_at=now,
        )
        session.execute(
            ins.on_conflict_do_update(
                index_elements=["ref"],
                set_={"status": ChargeStatus.DECLINED},
                where=_charges.c.status == ChargeStatus.CREATED,
            )
        )


# ---------------------------------------------------------------- which gateways are on

REAL_GATEWAYS = ("wechat", "alipay")
_gateways: dict[str, PaymentGateway] = {}


def enabled() -> list[str]:
    """The gateways members pay through, the default first: each real gateway whose settings
    are complete; with none, the configured built-in one (the sandbox)."""
    settings = get_settings()
    names = []
    if settings.wechat_mchid and settings.wechat_appid and settings.wechat_public_key_id:
        names.append("wechat")
    if settings.alipay_appid and settings.alipay_public_key:
        names.append("alipay")
    return names or [settings.gateway]


def get_gateway(name: str | None = None) -> PaymentGateway:
    """A gateway by name (a payment's ``gateway``), or the default one."""
    on = enabled()
    name = name or on[0]
    gateway = _gateways.get(name)
    if gateway is not None:
        return gateway
    if name == "sandbox":
        gateway = SandboxGateway()
    elif name == "wechat" and name in on:
        from tuangou.payments.wechat import WechatGateway

        gateway = WechatGateway.from_settings()
    elif name == "alipay" and name in on:
        from tuangou.payments.alipay import AlipayGateway

        gateway = AlipayGateway.from_settings()
    else:
        raise RuntimeError(f"payment gateway {name!r} is not configured")
    _gateways[name] = gateway
    return gateway


def reset_gateways() -> None:
    """Forget the built gateways (after the settings changed)."""
    _gateways.clear()


def sandbox() -> SandboxGateway:
    if "sandbox" not in enabled():
        raise NotFound("the sandbox gateway is not enabled")
    gateway = get_gateway("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return gateway
