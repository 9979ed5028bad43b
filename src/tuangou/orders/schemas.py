from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from tuangou.core import clock
from tuangou.orders import rules
from tuangou.orders.models import Order, Refund


class ShipIn(BaseModel):
    carrier: str = Field(min_length=1, max_length=64, examples=["顺丰"])
    tracking_no: str = Field(min_length=1, max_length=64, examples=["SF1234567890"])


class RefundIn(BaseModel):
    amount: int | None = Field(default=None, gt=0, description="fen; default: all that is left")
    note: str = Field(min_length=1, max_length=500, description="why the order is refunded")


def refund_view(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "amount": r.amount,
        "reason": r.reason,
        "note": r.note,
        "status": r.status,
        "funded_by": r.funded_by,
        "created_at": clock.iso(r.created_at),
    }


def timeline(o: Order) -> list[dict[str, Any]]:
    steps = [
        ("created", o.created_at),
        (rules.OrderStatus.PAID, o.paid_at),
        (rules.OrderStatus.CONFIRMED, o.settled_at),
        (rules.OrderStatus.SHIPPED, o.shipped_at),
        (rules.OrderStatus.COMPLETED, o.completed_at),
    ]
    rows = [{"step": name, "at": clock.iso(at)} for name, at in steps if at is not None]
    if o.status in rules.CLOSED:
        rows.append({"step": o.status, "at": clock.iso(o.closed_at), "reason": o.close_reason})
    return rows


def order_view(
    o: Order,
    *,
    facts: Mapping[str, Any] | None = None,
    refunds: list[Refund] | None = None,
    payments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    kept = o.paid_amount - o.refunded_amount
    return {
        "id": o.id,
        "kind": o.kind,
        "status": o.status,
        "user_id": o.user_id,
        "supplier_id": o.supplier_id,
        "campaign_id": o.campaign_id,
        "team_id": (facts or {}).get("team_id"),
        "sku_id": o.sku_id,
        "quantity": o.quantity,
        "unit_price": o.unit_price,
        "amount": o.amount,
        "final_unit_price": o.final_unit_price,
        "paid_amount": o.paid_amount,
        "refunded_amount": o.refunded_amount,
        "kept_amount": kept,
        "in_escrow": rules.in_escrow(
            o.paid_amount, o.subsidy_amount, o.refunded_amount, o.released_amount
        ),
        "is_opener": bool((facts or {}).get("is_opener", False)),
        "address": o.address,
        "carrier": o.carrier,
        "tracking_no": o.tracking_no,
        "expires_at": clock.iso(o.expires_at)
        if o.status == rules.OrderStatus.PENDING_PAYMENT
        else None,
        "ship_by": clock.iso(o.ship_by),
        "timeline": timeline(o),
        "refunds": [refund_view(r) for r in refunds or []],
        "payments": payments or [],
    }
