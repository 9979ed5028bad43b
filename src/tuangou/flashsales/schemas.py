"""A flash sale's request bodies and replies."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from tuangou.accounts.schemas import Address
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.flashsales import rules
from tuangou.flashsales.models import FlashSlot
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut
from tuangou.teams.schemas import SkuSummaryOut


class SlotsIn(In):
    """Slots of one SKU on one day (秒杀场次), each with the same stock, price and caps."""

    sku_id: int
    title: str = Field(min_length=1, max_length=200)
    price: int = Field(ge=1, description="fen, below the SKU's own price")
    stock: int = Field(ge=1, le=rules.MAX_STOCK, description="units of each slot")
    per_order_cap: int = Field(default=1, ge=1)
    per_member_cap: int = Field(default=1, ge=1)
    day: date = Field(description="the day, in the deployment's time zone")
    times: list[str] = Field(
        min_length=1,
        max_length=rules.MAX_SLOTS_PER_DAY,
        description="times of day (HH:MM, the deployment's time zone) the slots start",
        examples=[["10:00", "14:00", "20:00"]],
    )
    minutes: int = Field(default=rules.DEFAULT_MINUTES, ge=1, le=rules.MAX_MINUTES)
    hold_minutes: int = Field(
        default=rules.DEFAULT_HOLD_MINUTES,
        ge=1,
        le=rules.MAX_HOLD_MINUTES,
        description="how long an unpaid purchase holds its units",
    )
    ship_within_hours: int = Field(default=72, ge=1, le=24 * 30)


class BuyIn(In):
    coupon_id: int | None = Field(
        default=None,
        description="one of the caller's coupons (我的优惠券) to apply; refusals:"
        " coupon_not_applicable, coupon_expired, coupon_used, coupon_not_found",
    )
    quantity: int = Field(default=1, ge=1)
    address_id: int | None = Field(
        default=None,
        description="the entry of the caller's address book to ship to; default: the book's"
        " default entry (a member without any address is refused with 422 address_required)",
    )
    address: Address | None = Field(
        default=None, description="an address given with the order instead of address_id"
    )


class SlotOut(Out):
    """A slot as members see it. ``available`` is what can be bought now; ``held`` are units
    in unpaid purchases, which come back if their hold runs out."""

    id: int
    title: str
    product: SkuSummaryOut
    price: int
    original_price: int
    stock: int
    available: int
    held: int
    sold: int
    per_order_cap: int
    per_member_cap: int
    hold_minutes: int
    starts_at: Iso
    ends_at: Iso
    state: str = Field(description="upcoming | live | sold_out | over")
    starts_in_seconds: int = Field(description="0 once started")
    ends_in_seconds: int = Field(description="0 once over")


class SlotAdminOut(SlotOut):
    sku_id: int
    supplier_id: int
    ship_within_hours: int
    settled_at: Iso | None


class PurchaseOut(Out):
    """A purchase made: the order (held for ``hold_minutes``), its payment, where to pay."""

    slot_id: int
    order: OrderOut
    payment: PaymentOut
    pay_url: str


def slot_view(
    slot: FlashSlot, *, product: dict[str, Any], original_price: int, operator: bool = False
) -> dict[str, Any]:
    now = clock.now()
    view: dict[str, Any] = {
        "id": slot.id,
        "title": slot.title,
        "product": product,
        "price": slot.price,
        "original_price": original_price,
        "stock": slot.stock,
        "available": slot.available,
        "held": slot.held,
        "sold": slot.sold,
        "per_order_cap": slot.per_order_cap,
        "per_member_cap": slot.per_member_cap,
        "hold_minutes": slot.hold_minutes,
        "starts_at": clock.iso(slot.starts_at),
        "ends_at": clock.iso(slot.ends_at),
        "state": rules.state(now, slot.starts_at, slot.ends_at, slot.available).value,
        "starts_in_seconds": max(0, int((slot.starts_at - now).total_seconds())),
        "ends_in_seconds": max(0, int((slot.ends_at - now).total_seconds())),
    }
    if operator:
        view.update(
            sku_id=slot.sku_id,
            supplier_id=slot.supplier_id,
            ship_within_hours=slot.ship_within_hours,
            settled_at=clock.iso(slot.settled_at),
        )
    return view
