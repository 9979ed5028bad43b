from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.coupons import rules
from tuangou.coupons.models import Coupon, MemberCoupon

KindName = Literal["team", "wave", "bargain", "flash"]


class CouponIn(In):
    """A coupon of the catalogue: a fixed amount off (``amount``, fen) or a percentage
    (``percent_bps``, with an optional ``cap`` in fen), for a minimum spend, on some kinds of
    order; valid until ``valid_until`` or for ``valid_days`` from purchase (the sooner)."""

    name: str = Field(min_length=1, max_length=60, examples=["满50减5"])
    form: Literal["fixed", "percent"]
    amount: int = Field(default=0, ge=0, description="fen off (fixed)")
    percent_bps: int = Field(default=0, ge=0, le=9999, description="off, in basis points")
    cap: int | None = Field(default=None, ge=1, description="at most this many fen off")
    min_spend: int = Field(default=0, ge=0, description="fen, of the price before discounts")
    points_price: int = Field(ge=1)
    kinds: list[KindName] = Field(min_length=1)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(default=None, ge=1, le=3660)
    stock: int = Field(ge=0)
    per_member_limit: int = Field(default=1, ge=1)
    active: bool = True


class CouponStatusIn(In):
    active: bool


class BuyIn(In):
    key: str = Field(
        min_length=1,
        max_length=64,
        description="the purchase's key: a retry with the same key buys once",
    )


class CouponOut(Out):
    id: int
    name: str
    form: str
    amount: int
    percent_bps: int
    cap: int | None
    min_spend: int
    points_price: int
    kinds: list[str]
    valid_from: Iso | None
    valid_until: Iso | None
    valid_days: int | None
    stock: int
    per_member_limit: int
    active: bool

    @classmethod
    def of(cls, c: Coupon) -> CouponOut:
        return cls.model_construct(
            id=c.id,
            name=c.name,
            form=c.form,
            amount=c.amount,
            percent_bps=c.percent_bps,
            cap=c.cap,
            min_spend=c.min_spend,
            points_price=c.points_price,
            kinds=[k for k in c.kinds.split(",") if k],
            valid_from=clock.iso(c.valid_from),
            valid_until=clock.iso(c.valid_until),
            valid_days=c.valid_days,
            stock=c.stock,
            per_member_limit=c.per_member_limit,
            active=c.active,
        )


class MemberCouponOut(Out):
    id: int
    coupon_id: int
    name: str
    form: str
    amount: int
    percent_bps: int
    cap: int | None
    min_spend: int
    kinds: list[str]
    points_paid: int
    status: str = Field(description="available, used or expired (as the member sees it)")
    order_id: int | None
    acquired_at: Iso
    expires_at: Iso

    @classmethod
    def of(cls, m: MemberCoupon) -> MemberCouponOut:
        return cls.model_construct(
            id=m.id,
            coupon_id=m.coupon_id,
            name=m.name,
            form=m.form,
            amount=m.amount,
            percent_bps=m.percent_bps,
            cap=m.cap,
            min_spend=m.min_spend,
            kinds=[k for k in m.kinds.split(",") if k],
            points_paid=m.points_paid,
            status=rules.shown_status(m.status, m.expires_at, clock.now()),
            order_id=m.order_id,
            acquired_at=clock.iso(m.acquired_at),
            expires_at=clock.iso(m.expires_at),
        )


class QuoteOut(Out):
    """The price at checkout: the level discount first, then the coupon."""

    list_amount: int
    level_name: str
    level_bps: int
    level_discount: int
    coupon_discount: int
    to_pay: int
