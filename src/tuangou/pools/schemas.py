from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut
from tuangou.pools import rules
from tuangou.pools.models import (
    Wave,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
)
from tuangou.pools.rules import WaveStatus
from tuangou.pools.service import ItemInput, WaveInput

if TYPE_CHECKING:
    from tuangou.commission.models import Commission, Withdrawal


class ItemIn(In):
    sku_id: int
    price: int = Field(gt=0, description="unit price in fen that every member pays")
    moq: int = Field(ge=1, description="minimum total quantity across the wave (成团门槛)")
    stock: int = Field(ge=1)
    per_member_limit: int = Field(default=10, ge=1)
    tiers: list[tuple[int, int]] = Field(
        default_factory=list, description="[[total quantity, unit price], ...] cheaper as it grows"
    )
    title: str = Field(default="", max_length=200)
    commission_bps: int | None = Field(default=None, ge=0, le=rules.MAX_COMMISSION_BPS)


class WaveIn(In):
    title: str = Field(min_length=1, max_length=200, examples=["明日达 · 烟台苹果"])
    description: str = Field(default="", max_length=2000)
    cutoff_at: datetime = Field(description="orders close at this instant (截单)")
    delivery_date: date
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    commission_bps: int = Field(
        default=rules.DEFAULT_COMMISSION_BPS, ge=0, le=rules.MAX_COMMISSION_BPS
    )
    unpicked_policy: str = Field(default="refund", pattern="^(refund|keep)$")
    unpicked_days: int = Field(default=3, ge=1, le=30)
    arrival_grace_days: int = Field(default=2, ge=0, le=14)
    auto_refund_undelivered: bool = True
    hold_minutes: int = Field(default=15, ge=1, le=120)

    @model_validator(mode="after")
    def _utc(self) -> WaveIn:
        if self.cutoff_at.tzinfo is not None:
            self.cutoff_at = clock.as_utc(self.cutoff_at).replace(tzinfo=None)
        return self

    def data(self) -> WaveInput:
        return WaveInput(
            title=self.title,
            description=self.description,
            cutoff_at=self.cutoff_at,
            delivery_date=self.delivery_date,
            items=[ItemInput(**i.model_dump()) for i in self.items],
            commission_bps=self.commission_bps,
            unpicked_policy=self.unpicked_policy,
            unpicked_days=self.unpicked_days,
            arrival_grace_days=self.arrival_grace_days,
            auto_refund_undelivered=self.auto_refund_undelivered,
            hold_minutes=self.hold_minutes,
        )


class PublishIn(WaveIn):
    community_id: int
    pickup_point_id: int


class AdoptIn(In):
    community_id: int
    pickup_point_id: int


class OrderIn(In):
    coupon_id: int | None = Field(
        default=None,
        description="one of the caller's coupons (我的优惠券) to apply; refusals:"
        " coupon_not_applicable, coupon_expired, coupon_used, coupon_not_found",
    )
    items: dict[int, int] = Field(
        description="{item id: quantity}", examples=[{"1": 2, "2": 1}], min_length=1
    )
    remark: str = Field(default="", max_length=200, description="团员备注, for the leader")


class WithdrawalIn(In):
    amount: int = Field(gt=0, description="fen")
    account_note: str = Field(default="", max_length=200, description="where to pay it")


class DecisionIn(In):
    reason: str = Field(default="", max_length=200)


# ---------------------------------------------------------------- replies


class SkuChoiceOut(Out):
    """A SKU a leader may put in a wave, with the supplier's terms the wave must keep."""

    sku_id: int
    title: str
    supplier: str
    price: int = Field(description="the SKU's single price, fen")
    available: int = Field(description="stock not yet allocated")
    floor_price: int = Field(description="the lowest unit price (base price and every tier), fen")
    max_commission_bps: int = Field(description="the highest commission a wave may take on it")
    own: bool = Field(description="your own goods: the terms do not bind you")


class WaveOut(Out):
    """A wave: its cut-off, delivery date and terms."""

    id: int
    title: str
    description: str
    source: str
    supplier_id: int
    status: str
    open: bool
    cutoff_at: Iso
    seconds_to_cutoff: int
    delivery_date: str = Field(json_schema_extra={"format": "date"})
    commission_bps: int
    unpicked_policy: str
    unpicked_days: int
    arrival_grace_days: int

    @classmethod
    def of(cls, wave: Wave) -> WaveOut:
        now = clock.now()
        return cls.model_construct(
            id=wave.id,
            title=wave.title,
            description=wave.description,
            source=wave.source,
            supplier_id=wave.supplier_id,
            status=wave.status,
            open=wave.status == WaveStatus.OPEN and wave.cutoff_at > now,
            cutoff_at=clock.iso(wave.cutoff_at),
            seconds_to_cutoff=max(0, int((wave.cutoff_at - now).total_seconds())),
            delivery_date=wave.delivery_date.isoformat(),
            commission_bps=wave.commission_bps,
            unpicked_policy=wave.unpicked_policy,
            unpicked_days=wave.unpicked_days,
            arrival_grace_days=wave.arrival_grace_days,
        )


class ListingOut(Out):
    """A wave published in one community."""

    id: int
    wave_id: int
    community_id: int
    leader_id: int
    pickup_point_id: int
    commission_bps: int
    orders: int
    share_path: str = Field(
        description="The wave's share link: whoever holds it may see the wave (an invitee)"
    )

    @classmethod
    def of(cls, listing: WaveListing) -> ListingOut:
        return cls.model_construct(
            id=listing.id,
            wave_id=listing.wave_id,
            community_id=listing.community_id,
            leader_id=listing.leader_id,
            pickup_point_id=listing.pickup_point_id,
            commission_bps=listing.commission_bps,
            orders=listing.next_seq,
            share_path=rules.share_path(listing.id, listing.share_token),
        )


class WaveShareOut(Out):
    """What a leader shares of a wave (分享团期): a copy-ready 接龙 text for the group chat,
    the share link it ends with, and a poster of the wave to long-press and save."""

    listing_id: int
    text: str = Field(
        description="The 接龙 text: community, title and cut-off, one line per item with its "
        "price, pickup point and delivery, then the share link"
    )
    link: str = Field(description="The wave's share link, absolute (it carries its token)")
    poster_url: str = Field(description="The wave's poster, a PNG image of the share link")
    lang: str = Field(description="The language of the text: zh or en")


class ItemTierOut(Out):
    quantity: int
    unit_price: int


class NextItemTierOut(ItemTierOut):
    more_needed: int


class ItemProgressOut(Out):
    """An item of a wave against its MOQ (as ``pools.progress`` reports it)."""

    item_id: int
    title: str
    sku_id: int
    price: int
    tiers: list[ItemTierOut]
    current_unit_price: int
    next_tier: NextItemTierOut | None
    moq: int
    ordered: int
    held: int
    reached_moq: bool
    available: int
    per_member_limit: int
    status: str
    final_unit_price: int | None


class ChainItemOut(Out):
    title: str
    quantity: int


class ChainEntryOut(Out):
    """One order of the chain list (接龙), the name masked."""

    seq: int
    name: str
    items: list[ChainItemOut]
    paid_at: Iso | None
    refunded: bool
    mine: bool = Field(default=False, description="the caller's own order")
    order_id: int | None = Field(default=None, description="the order's id, on the caller's own")

    @classmethod
    def of(cls, row: dict[str, Any]) -> ChainEntryOut:
        """A row of ``pools.chain``, its time as ISO text."""
        return cls.model_validate({**row, "paid_at": clock.iso(row["paid_at"])})


class WaveLeaderOut(Out):
    id: int
    name: str


class WavePickupPointOut(Out):
    id: int
    name: str
    address: str
    opening_hours: str
    latitude: float
    longitude: float


class WavePageOut(Out):
    """A wave as a community sees it: leader, pickup point, cut-off, MOQ progress, and a
    summary of its chain (the whole list page by page: ``GET /api/listings/{id}/chain``)."""

    listing: ListingOut
    wave: WaveOut
    leader: WaveLeaderOut
    pickup_point: WavePickupPointOut
    items: list[ItemProgressOut]
    chain: list[ChainEntryOut] = Field(
        description="the latest lines of the chain list (接龙), in chain order"
    )
    chain_count: int = Field(description="how many orders the chain list holds")
    my_chain: list[ChainEntryOut] = Field(
        description="the caller's own lines of the chain (你已跟团), wherever they are in it"
    )


class ChainPageOut(Out):
    """A page of a wave's chain list (接龙), in chain order, after a cursor."""

    lines: list[ChainEntryOut]
    next_cursor: str | None = Field(description="the next page's cursor; null on the last page")


class ListedWaveOut(Out):
    listing: ListingOut
    wave: WaveOut


class LeaderWaveOut(ListedWaveOut):
    """One of your waves, with live totals per item against the MOQ."""

    items: list[ItemProgressOut]


class WaveWithItemsOut(WaveOut):
    items: list[ItemProgressOut]

    @classmethod
    def with_items(cls, wave: Wave, items: list[ItemProgressOut]) -> WaveWithItemsOut:
        return cls.model_construct(**dict(WaveOut.of(wave)), items=items)


class WaveOrderInfoOut(Out):
    wave_id: int
    listing_id: int
    pickup_point_id: int
    seq: int | None
    remark: str

    @classmethod
    def of(cls, info: WaveOrderInfo) -> WaveOrderInfoOut:
        return cls.model_construct(
            wave_id=info.wave_id,
            listing_id=info.listing_id,
            pickup_point_id=info.pickup_point_id,
            seq=info.seq,
            remark=info.remark,
        )


class LineOut(Out):
    item_id: int
    sku_id: int
    title: str
    quantity: int
    unit_price: int
    final_unit_price: int | None
    status: str

    @classmethod
    def of(cls, line: WaveOrderLine, title: str = "") -> LineOut:
        return cls.model_construct(
            item_id=line.item_id,
            sku_id=line.sku_id,
            title=title,
            quantity=line.quantity,
            unit_price=line.unit_price,
            final_unit_price=line.final_unit_price,
            status=line.status,
        )


class WaveOrderOut(Out):
    """A member's wave order with its lines and chain number."""

    order: OrderOut
    wave_order: WaveOrderInfoOut
    lines: list[LineOut]


class PlacedOut(WaveOrderOut):
    """An order placed in a wave, its payment and where to pay it."""

    payment: PaymentOut
    pay_url: str


class CommissionOut(Out):
    id: int
    order_id: int
    kind: str
    base_amount: int
    rate_bps: int
    amount: int
    reversed_amount: int
    status: str
    created_at: Iso
    available_at: Iso

    @classmethod
    def of(cls, c: Commission) -> CommissionOut:
        return cls.model_construct(
            id=c.id,
            order_id=c.order_id,
            kind=c.kind,
            base_amount=c.base_amount,
            rate_bps=c.rate_bps,
            amount=c.amount,
            reversed_amount=c.reversed_amount,
            status=c.status,
            created_at=clock.iso(c.created_at),
            available_at=clock.iso(c.available_at),
        )


class WithdrawalOut(Out):
    id: int
    leader_id: int
    amount: int
    status: str
    account_note: str
    reason: str | None
    created_at: Iso
    decided_at: Iso | None

    @classmethod
    def of(cls, w: Withdrawal) -> WithdrawalOut:
        return cls.model_construct(
            id=w.id,
            leader_id=w.leader_id,
            amount=w.amount,
            status=w.status,
            account_note=w.account_note,
            reason=w.reason,
            created_at=clock.iso(w.created_at),
            decided_at=clock.iso(w.decided_at),
        )


class WalletOut(Out):
    """Commission frozen, available and withdrawn, each line traceable to its order."""

    frozen: int
    available: int
    withdrawing: int
    withdrawn: int
    history: list[CommissionOut]
    withdrawals: list[WithdrawalOut]


class PurchaseItemOut(Out):
    item_id: int
    sku_id: int
    title: str
    status: str
    unit_price: int | None
    quantity: int


class PointItemOut(Out):
    item_id: int
    quantity: int


class PurchasePointOut(Out):
    pickup_point_id: int
    name: str
    address: str
    items: list[PointItemOut]


class PurchaseOrderOut(Out):
    """One purchase order per wave: quantity per SKU, split per pickup point."""

    wave_id: int
    title: str
    supplier_id: int
    status: str
    cutoff_at: Iso
    delivery_date: str = Field(json_schema_extra={"format": "date"})
    items: list[PurchaseItemOut]
    pickup_points: list[PurchasePointOut]


class ListingOrderItemOut(Out):
    title: str
    quantity: int
    refunded: bool


class ListingOrderOut(Out):
    """One paid order of a leader's listing, as the pickup counter reads it (phone: last four
    digits only)."""

    seq: int | None
    nickname: str
    phone: str
    remark: str
    paid_at: str | None
    items: list[ListingOrderItemOut]
    amount: int
    refunded: int
    status: str
    pickup_point: str

    @classmethod
    def of(cls, row: Any) -> ListingOrderOut:
        return cls.model_construct(
            seq=row.seq,
            nickname=row.nickname,
            phone=row.phone,
            remark=row.remark,
            paid_at=clock.iso(row.paid_at),
            items=[
                ListingOrderItemOut.model_construct(title=t, quantity=q, refunded=r)
                for t, q, r in row.items
            ],
            amount=row.amount,
            refunded=row.refunded,
            status=row.status,
            pickup_point=row.pickup_point,
        )


class ListingOrdersOut(Out):
    """A page of a listing's paid orders in chain order; ``next_cursor`` opens the next."""

    items: list[ListingOrderOut]
    next_cursor: str | None
