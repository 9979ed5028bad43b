from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.payments.models import Payment


class SandboxPayIn(In):
    """The signed request of the pay_url, in the body or in the query string."""

    ref: str | None = None
    amount: int | None = Field(default=None, gt=0)
    sig: str | None = None
    outcome: str | None = Field(
        default=None,
        pattern="^(approve|decline|timeout|duplicate)$",
        description="what the sandbox should do; default: approve, or a configured fault",
    )


class WebhookIn(In):
    ref: str
    status: str = Field(pattern="^(succeeded|declined)$")
    sig: str


class PaymentOut(Out):
    """A payment attempt of an order, at its gateway."""

    id: int
    order_id: int
    amount: int
    gateway: str
    ref: str
    status: str
    failure_reason: str | None
    created_at: Iso

    @classmethod
    def of(cls, p: Payment) -> PaymentOut:
        return cls.model_construct(
            id=p.id,
            order_id=p.order_id,
            amount=p.amount,
            gateway=p.gateway,
            ref=p.gateway_ref,
            status=p.status,
            failure_reason=p.failure_reason,
            created_at=clock.as_utc(p.created_at).isoformat(),
        )


class StartedPaymentOut(Out):
    """A new payment attempt, and where the payer pays it."""

    payment: PaymentOut
    pay_url: str


class SandboxPayOut(Out):
    ref: str
    gateway_status: str
    amount: int


class SandboxChargeOut(Out):
    ref: str
    status: str
    amount: int | None


class WebhookOut(Out):
    result: str


class WechatNotifyOut(Out):
    """The answer WeChat Pay expects to its notification."""

    code: str = Field(description="SUCCESS, or FAIL (WeChat Pay sends the notice again)")
    message: str
