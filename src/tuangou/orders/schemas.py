from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.orders import rules
from tuangou.orders.models import Order, Refund
from tuangou.orders.rules import OrderStatus
from tuangou.payments.schemas import PaymentOut


class ShipIn(In):
    carrier: str = Field(min_length=1, max_length=64, examples=["顺丰"])
    tracking_no: str = Field(min_length=1, max_length=64, examples=["SF1234567890"])


class RefundIn(In):
    amount: int | None = Field(default=None, gt=0, description="fen; default: all that is left")
    note: str = Field(min_length=1, max_length=500, description="why the order is refunded")


class RefundOut(Out):
    id: int
    amount: int
    reason: str
    note: str
    status: str
    funded_by: str
    discount_amount: int = Field(
        description="the discounts' share of this refund, gone back to the subsidy account"
    )
    created_at: Iso

    @classmethod
    def of(cls, r: Refund) -> RefundOut:
        return cls.model_construct(
            id=r.id,
            amount=r.amount,
            reason=r.reason,
            note=r.note,
            status=r.status,
            funded_by=r.funded_by,
            discount_amount=r.discount_amount,
            created_at=clock.iso(r.created_at),
        )


class Step(Out):
    """A step the order took, and when."""

    step: str
    at: Iso | None


class ClosingStep(Step):
    """The step that closed the order (refunded or cancelled), with why."""

    reason: str | None


def timeline(o: Order) -> list[Step | ClosingStep]:
    steps = [
        ("created", o.created_at),
        (rules.OrderStatus.PAID, o.paid_at),
        (rules.OrderStatus.CONFIRMED, o.settled_at),
        (rules.OrderStatus.SHIPPED, o.shipped_at),
        (rules.OrderStatus.COMPLETED, o.completed_at),
    ]
    rows: list[Step | ClosingStep] = [
        Step.model_construct(step=name, at=clock.iso(at)) for name, at in steps if at is not None
    ]
    if o.status in ("refunded", "cancelled"):
        rows.append(
            ClosingStep.model_construct(
                step=o.status, at=clock.iso(o.closed_at), reason=o.close_reason
            )
        )
    return rows


class OrderOut(Out):
    """An order: its money in fen, its timeline, its refunds and payments (where asked for)."""

    id: int
    kind: str
    status: str = Field(description="the order's raw status (pending_payment, paid, confirmed…)")
    display_status: str = Field(
        json_schema_extra={"enum": [str(d) for d in rules.DisplayStatus]},
        description="the state a member reads (to_pay, confirming_payment, awaiting_team,"
        " awaiting_cutoff, formed, shipped, to_pick_up, completed, cancelled, refunded): the"
        " pages' words, from the status, the kind and the team's state",
    )
    display_label: str = Field(
        description="the words of display_status, in Chinese, or in English for"
        " Accept-Language: en",
        examples=["待成团"],
    )
    user_id: int
    supplier_id: int
    campaign_id: int
    team_id: int | None
    sku_id: int | None
    quantity: int
    unit_price: int
    list_amount: int = Field(description="the price before discounts, in fen")
    level_discount: int = Field(description="the member's level discount, in fen")
    coupon_discount: int = Field(description="the coupon's discount, in fen")
    coupon_id: int | None = Field(description="the member's coupon applied to the order")
    amount: int = Field(description="what the member pays: list_amount less the discounts")
    final_unit_price: int | None
    paid_amount: int
    refunded_amount: int
    kept_amount: int
    in_escrow: int
    is_opener: bool
    address: dict[str, Any]
    carrier: str | None
    tracking_no: str | None
    expires_at: Iso | None
    ship_by: Iso | None
    timeline: list[Step | ClosingStep]
    refunds: list[RefundOut]
    payments: list[PaymentOut]

    @classmethod
    def of(
        cls,
        o: Order,
        *,
        facts: Mapping[str, Any] | None = None,
        refunds: list[Refund] | None = None,
        payments: list[PaymentOut] | None = None,
        lang: str = "zh-CN",
        full_phone: bool = True,
    ) -> OrderOut:
        """``facts``: what its kind adds (its team), and what its state is read from: its
        team's status (``team_status``), whether its payment is in flight (``confirming``)."""
        known = facts or {}
        shown = rules.display_status(
            o.status,
            kind=o.kind,
            team_status=known.get("team_status"),
            confirming=bool(known.get("confirming", False)),
        )
        return cls.model_construct(
            id=o.id,
            kind=o.kind,
            status=o.status,
            display_status=str(shown),
            display_label=rules.display_label(shown, lang),
            user_id=o.user_id,
            supplier_id=o.supplier_id,
            campaign_id=o.campaign_id,
            team_id=known.get("team_id"),
            sku_id=o.sku_id,
            quantity=o.quantity,
            unit_price=o.unit_price,
            list_amount=o.list_amount,
            level_discount=o.level_discount,
            coupon_discount=o.coupon_discount,
            coupon_id=o.coupon_id,
            amount=o.amount,
            final_unit_price=o.final_unit_price,
            paid_amount=o.paid_amount,
            refunded_amount=o.refunded_amount,
            kept_amount=o.paid_amount - o.refunded_amount,
            in_escrow=rules.in_escrow(
                o.paid_amount, o.subsidy_amount, o.refunded_amount, o.released_amount
            ),
            is_opener=bool(known.get("is_opener", False)),
            address=o.address if full_phone else masked_address(o.address),
            carrier=o.carrier,
            tracking_no=o.tracking_no,
            expires_at=clock.iso(o.expires_at) if o.status == OrderStatus.PENDING_PAYMENT else None,
            ship_by=clock.iso(o.ship_by),
            timeline=timeline(o),
            refunds=[RefundOut.of(r) for r in refunds or []],
            payments=payments or [],
        )


class RefundedOrderOut(Out):
    """A refund made by hand, and the order after it."""

    refund: RefundOut
    order: OrderOut


def masked_address(address: dict[str, Any]) -> dict[str, Any]:
    """An order's address as anyone but its buyer sees it: the phone number masked
    (138****1234); the supplier ships with the courier's privacy waybill (隐私面单)."""
    if not address or not isinstance(address.get("phone"), str):
        return address
    phone = address["phone"]
    masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "*" * len(phone)
    return {**address, "phone": masked}
