from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tuangou.core import clock
from tuangou.payments.models import Payment


class SandboxPayIn(BaseModel):
    """The signed request of the pay_url, in the body or in the query string."""

    ref: str | None = None
    amount: int | None = Field(default=None, gt=0)
    sig: str | None = None
    outcome: str | None = Field(
        default=None,
        pattern="^(approve|decline|timeout|duplicate)$",
        description="what the sandbox should do; default: approve, or a configured fault",
    )


class WebhookIn(BaseModel):
    ref: str
    status: str = Field(pattern="^(succeeded|declined)$")
    sig: str


def payment_view(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "order_id": p.order_id,
        "amount": p.amount,
        "gateway": p.gateway,
        "ref": p.gateway_ref,
        "status": p.status,
        "failure_reason": p.failure_reason,
        "created_at": clock.as_utc(p.created_at).isoformat(),
    }
