from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from tuangou.accounts.schemas import Address
from tuangou.bargains import rules
from tuangou.bargains.models import Bargain, BargainCampaign
from tuangou.bargains.service import Details
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut


class BargainCampaignIn(In):
    sku_id: int
    title: str = Field(default="", max_length=200)
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime
    start_price: int = Field(gt=0, description="fen: where every bargain starts")
    floor_price: int = Field(gt=0, description="fen: the lowest price the cuts reach")
    helpers_needed: int = Field(ge=1, le=rules.MAX_HELPERS, description="K: cuts to the floor")
    stock: int = Field(gt=0)
    hours: int = Field(
        default=rules.DEFAULT_HOURS, ge=1, le=rules.MAX_HOURS, description="a bargain's time"
    )
    buy_at_any_price: bool = Field(
        default=True, description="false: the starter may buy only once the floor is reached"
    )
    helps_per_member: int = Field(default=1, ge=1, le=1000)
    starts_per_member: int = Field(default=1, ge=1, le=1000)
    new_member_bonus: int = Field(
        default=0,
        ge=0,
        description="fen added to the cut of a brand-new member (signed up within "
        f"{rules.NEW_MEMBER_HOURS} hours, never paid for an order), taken from the later cuts",
    )
    hold_minutes: int = Field(default=15, ge=1, le=1440)
    ship_within_hours: int = Field(default=72, ge=1, le=24 * 365)

    @model_validator(mode="after")
    def _utc(self) -> BargainCampaignIn:
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is not None:
                setattr(self, name, clock.as_utc(value).replace(tzinfo=None))
        return self


class BargainCampaignStatusIn(In):
    status: str = Field(pattern="^(active|paused)$")


class BargainCampaignOut(Out):
    id: int
    title: str
    sku_id: int
    product_title: str
    sku_name: str
    image_url: str | None
    start_price: int
    floor_price: int
    helpers_needed: int
    hours: int
    buy_at_any_price: bool
    helps_per_member: int
    starts_per_member: int
    new_member_bonus: int
    new_member_hours: int
    starts_at: Iso
    ends_at: Iso
    status: str
    stock: int
    sold: int
    held: int
    left: int

    @classmethod
    def of(cls, c: BargainCampaign, product: dict[str, Any]) -> BargainCampaignOut:
        return cls(
            id=c.id,
            title=c.title,
            sku_id=c.sku_id,
            product_title=str(product.get("product_title") or product.get("title") or ""),
            sku_name=str(product.get("sku_name") or ""),
            image_url=product.get("image_url"),
            start_price=c.start_price,
            floor_price=c.floor_price,
            helpers_needed=c.helpers_needed,
            hours=c.hours,
            buy_at_any_price=c.buy_at_any_price,
            helps_per_member=c.helps_per_member,
            starts_per_member=c.starts_per_member,
            new_member_bonus=c.new_member_bonus,
            new_member_hours=rules.NEW_MEMBER_HOURS,
            starts_at=clock.iso(c.starts_at),
            ends_at=clock.iso(c.ends_at),
            status=c.status,
            stock=c.stock,
            sold=c.sold,
            held=c.held,
            left=max(0, c.stock - c.sold - c.held),
        )


class HelperOut(Out):
    """A friend's cut, as everyone who sees the bargain sees it (a masked name)."""

    name: str
    amount: int
    bonus: int
    at: Iso
    voided: bool


class BargainOut(Out):
    id: int
    campaign_id: int
    title: str
    starter: str
    is_starter: bool
    status: str
    start_price: int
    floor_price: int
    price: int
    cut_so_far: int
    percent: int
    helpers_needed: int
    cuts_taken: int
    cuts_left: int
    next_cut: int | None
    deadline: Iso
    seconds_left: int
    buy_at_any_price: bool
    order_id: int | None
    share_token: str
    schedule: list[int] = Field(description="the cuts as the schedule stands, in order")
    helpers: list[HelperOut]

    @classmethod
    def of(
        cls,
        b: Bargain,
        d: Details,
        *,
        viewer_id: int | None,
    ) -> BargainOut:
        campaign, schedule, helps, names = d.campaign, d.schedule, d.helps, d.names
        progress = rules.Progress(
            b.start_price, b.floor_price, b.price, b.cuts_taken, b.helpers_needed
        )
        left = int((b.deadline - clock.now()).total_seconds())
        return cls(
            id=b.id,
            campaign_id=b.campaign_id,
            title=campaign.title,
            starter=names.get(b.starter_id, ""),
            is_starter=viewer_id == b.starter_id,
            status=b.status,
            start_price=b.start_price,
            floor_price=b.floor_price,
            price=b.price,
            cut_so_far=progress.cut_so_far,
            percent=progress.percent,
            helpers_needed=b.helpers_needed,
            cuts_taken=b.cuts_taken,
            cuts_left=progress.cuts_left,
            next_cut=schedule[b.cuts_taken] if b.cuts_taken < len(schedule) else None,
            deadline=clock.iso(b.deadline),
            seconds_left=max(0, left) if b.status in rules.LIVE else 0,
            buy_at_any_price=campaign.buy_at_any_price,
            order_id=b.order_id,
            share_token=b.share_token,
            schedule=schedule,
            helpers=[
                HelperOut(
                    name=names.get(h.helper_id, ""),
                    amount=h.amount,
                    bonus=h.bonus,
                    at=clock.iso(h.created_at),
                    voided=h.status == rules.HelpStatus.VOIDED,
                )
                for h in helps
            ],
        )


class HelpIn(In):
    share: str | None = Field(
        default=None, max_length=64, description="the bargain's share token, from its link"
    )


class BargainSummaryOut(Out):
    """A bargain's price and cuts, without its helpers (the full view is one GET away)."""

    id: int
    status: str
    start_price: int
    floor_price: int
    price: int
    cuts_taken: int
    cuts_left: int

    @classmethod
    def of(cls, b: Bargain) -> BargainSummaryOut:
        return cls(
            id=b.id,
            status=b.status,
            start_price=b.start_price,
            floor_price=b.floor_price,
            price=b.price,
            cuts_taken=b.cuts_taken,
            cuts_left=b.helpers_needed - b.cuts_taken,
        )


class HelpOut(Out):
    cut: int
    bonus: int
    bargain: BargainSummaryOut


class BargainOrderIn(In):
    coupon_id: int | None = Field(
        default=None,
        description="one of the caller's coupons (我的优惠券) to apply; refusals:"
        " coupon_not_applicable, coupon_expired, coupon_used, coupon_not_found",
    )
    address_id: int | None = Field(
        default=None,
        description="the entry of the caller's address book to ship to; default: the default "
        "entry; a member without any address is refused with 422 address_required",
    )
    address: Address | None = Field(
        default=None, description="an address given with the order instead of address_id"
    )


class BoughtOut(Out):
    bargain: BargainOut
    order: OrderOut
    payment: PaymentOut
    pay_url: str


class ReverseHelpsIn(In):
    helper_ids: list[int] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=200)


class ReversedOut(Out):
    voided: int
