from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.fulfilment import service
from tuangou.orders.schemas import OrderOut
from tuangou.pools.schemas import ChainItemOut


class ShipIn(In):
    pickup_point_ids: list[int] | None = Field(
        default=None,
        description="the pickup points whose goods were sent; null for all of the wave's",
    )
    carrier: str | None = Field(
        default=None, max_length=64, description="the carrier (承运商), e.g. 顺丰速运"
    )
    tracking_no: str | None = Field(default=None, max_length=64, description="its tracking number")


class TrackingNumberIn(In):
    carrier: str = Field(min_length=1, max_length=64)
    tracking_no: str = Field(min_length=1, max_length=64)


class TrackingStepIn(In):
    status: str = Field(description='the step reached: "in_transit" (运输中) or "arrived" (已到达)')
    note: str = Field(default="", max_length=200)


class VerifyIn(In):
    pickup_point_id: int
    code: str = Field(min_length=1, max_length=20, description="the 6-digit pickup code")
    wave_id: int | None = Field(
        default=None, description="only if the same code waits here in two waves"
    )


class HandOverIn(In):
    pickup_point_id: int
    order_id: int = Field(description="the order chosen from a lookup by phone tail and name")


# ---------------------------------------------------------------- replies


class HandOverItemOut(Out):
    """What to hand over of one item (a confirmed line)."""

    item_id: int
    title: str
    quantity: int


class ShipmentOut(Out):
    """Where a wave's goods are for one pickup point (``service.shipment_view``)."""

    pickup_point_id: int
    shipped_at: Iso | None
    received_at: Iso | None
    refunded_at: Iso | None


class ShippedOut(ShipmentOut):
    orders_shipped: int
    skipped: str | None = Field(description='"received" or "refunded": nothing left to ship')

    @classmethod
    def of(cls, shipped: service.Shipped) -> ShippedOut:
        return cls.model_construct(
            **service.shipment_view(shipped.shipment, shipped.shipment.pickup_point_id),
            orders_shipped=shipped.orders_shipped,
            skipped=shipped.skipped,
        )


class ShipmentsOut(Out):
    wave_id: int
    shipments: list[ShippedOut]


class ReceivedOut(ShipmentOut):
    """The goods arrived at the pickup point: each order got a pickup code."""

    wave_id: int
    orders_arrived: int
    order_ids: list[int]

    @classmethod
    def of(cls, received: service.Received) -> ReceivedOut:
        return cls.model_construct(
            **service.shipment_view(received.shipment, received.shipment.pickup_point_id),
            wave_id=received.shipment.wave_id,
            orders_arrived=len(received.pickups),
            order_ids=[p.order_id for p in received.pickups],
        )


class VerifiedOut(Out):
    """A pickup code verified at the counter (核销)."""

    result: str
    name: str
    items: list[ChainItemOut]
    seq: int | None
    order_id: int
    wave_id: int
    order_status: str
    picked_up_at: Iso | None

    @classmethod
    def of(cls, v: service.Verified) -> VerifiedOut:
        return cls.model_construct(
            result="valid",
            name=v.name,
            items=[
                ChainItemOut.model_construct(title=i["title"], quantity=i["quantity"])
                for i in v.items
            ],
            seq=v.seq,
            order_id=v.order.id,
            wave_id=v.pickup.wave_id,
            order_status=v.order.status,
            picked_up_at=clock.iso(v.pickup.picked_up_at),
        )


class ScannedOut(VerifiedOut):
    """A picture of a member's QR, decoded on the server and verified as a typed code."""

    code: str = Field(description="the pickup code read from the QR")

    @classmethod
    def read(cls, code: str, v: service.Verified) -> ScannedOut:
        return cls.model_construct(**dict(VerifiedOut.of(v)), code=code)


class ManifestPointOut(Out):
    id: int
    name: str
    address: str
    opening_hours: str


class ManifestOrderOut(Out):
    seq: int | None
    order_id: int
    name: str
    items: list[HandOverItemOut]
    remark: str


class ManifestOut(Out):
    """The delivery manifest of one pickup point."""

    wave_id: int
    title: str
    delivery_date: str = Field(json_schema_extra={"format": "date"})
    pickup_point: ManifestPointOut
    shipment: ShipmentOut
    totals: list[HandOverItemOut]
    orders: list[ManifestOrderOut]


class CounterPointOut(Out):
    id: int
    name: str
    address: str


class PickupCountsOut(Out):
    collected: int
    uncollected: int
    closed: int


class PickupRowOut(Out):
    order_id: int
    wave_id: int
    seq: int | None
    name: str
    phone_last4: str
    items: list[HandOverItemOut]
    remark: str
    status: str
    arrived_at: Iso | None
    picked_up_at: Iso | None
    verified_how: str | None = Field(
        default=None, description='"code" (typed), "scan" (its QR) or "lookup"'
    )


class PickupLookupOut(Out):
    """The orders waiting at a pickup point whose member matches a phone tail and name."""

    pickup_point_id: int
    phone_tail: str
    name: str
    rows: list[PickupRowOut]


class PickupListOut(Out):
    """The counter's list: collected, still uncollected, and closed."""

    pickup_point: CounterPointOut
    wave_id: int | None
    counts: PickupCountsOut
    uncollected: list[PickupRowOut]
    collected: list[PickupRowOut]
    closed: list[PickupRowOut]


class MemberPickupPointOut(ManifestPointOut):
    latitude: float
    longitude: float
    map_url: str


class MemberPickupOut(Out):
    """Your pickup code, and where and when to collect."""

    order_id: int
    order_status: str
    wave_id: int
    seq: int | None
    delivery_date: str = Field(json_schema_extra={"format": "date"})
    status: str
    code: str | None
    arrived_at: Iso | None
    collect_by: Iso | None
    unpicked_policy: str
    picked_up_at: Iso | None
    items: list[HandOverItemOut]
    pickup_point: MemberPickupPointOut


class RefundedUndeliveredOut(Out):
    """The members of a pickup point refunded because the goods never arrived."""

    wave_id: int
    pickup_point_id: int
    refunded: list[OrderOut]


class TrackingStepOut(Out):
    status: str = Field(description='"shipped" (已发货), "in_transit" (运输中), "arrived" (已到达)')
    at: Iso | None
    done: bool


class TrackingOut(Out):
    """Where the goods for one pickup point are (``tracking.view``): every step, reached or
    not; the leader's receipt is its own field."""

    wave_id: int
    pickup_point_id: int
    carrier: str | None
    tracking_no: str | None
    status: str | None
    manual: bool = Field(description="moved by hand (no carrier polled)")
    steps: list[TrackingStepOut]
    received_at: Iso | None
    refunded_at: Iso | None


class OrderTrackingOut(TrackingOut):
    """Where a member's wave order's goods are on their way to the pickup point."""

    order_id: int
