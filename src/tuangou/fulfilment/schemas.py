from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tuangou.core import clock
from tuangou.fulfilment import service


class ShipIn(BaseModel):
    pickup_point_ids: list[int] | None = Field(
        default=None,
        description="the pickup points whose goods were sent; null for all of the wave's",
    )


class VerifyIn(BaseModel):
    pickup_point_id: int
    code: str = Field(min_length=1, max_length=20, description="the 6-digit pickup code")
    wave_id: int | None = Field(
        default=None, description="only if the same code waits here in two waves"
    )


def shipped_view(shipped: service.Shipped) -> dict[str, Any]:
    return {
        **service.shipment_view(shipped.shipment, shipped.shipment.pickup_point_id),
        "orders_shipped": shipped.orders_shipped,
        "skipped": shipped.skipped,
    }


def received_view(received: service.Received) -> dict[str, Any]:
    return {
        **service.shipment_view(received.shipment, received.shipment.pickup_point_id),
        "wave_id": received.shipment.wave_id,
        "orders_arrived": len(received.pickups),
        "order_ids": [p.order_id for p in received.pickups],
    }


def verified_view(v: service.Verified) -> dict[str, Any]:
    return {
        "result": "valid",
        "name": v.name,
        "items": [{"title": i["title"], "quantity": i["quantity"]} for i in v.items],
        "seq": v.seq,
        "order_id": v.order.id,
        "wave_id": v.pickup.wave_id,
        "order_status": v.order.status,
        "picked_up_at": clock.iso(v.pickup.picked_up_at),
    }
