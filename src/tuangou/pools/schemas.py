from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from tuangou.core import clock
from tuangou.pools import rules
from tuangou.pools.models import (
    Commission,
    Wave,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
    Withdrawal,
)
from tuangou.pools.service import ItemInput, WaveInput


class ItemIn(BaseModel):
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


class WaveIn(BaseModel):
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


class AdoptIn(BaseModel):
    community_id: int
    pickup_point_id: int


class OrderIn(BaseModel):
    items: dict[int, int] = Field(
        description="{item id: quantity}", examples=[{"1": 2, "2": 1}], min_length=1
    )
    remark: str = Field(default="", max_length=200, description="团员备注, for the leader")


class WithdrawalIn(BaseModel):
    amount: int = Field(gt=0, description="fen")
    account_note: str = Field(default="", max_length=200, description="where to pay it")


class DecisionIn(BaseModel):
    reason: str = Field(default="", max_length=200)


def wave_view(wave: Wave) -> dict[str, Any]:
    now = clock.now()
    return {
        "id": wave.id,
        "title": wave.title,
        "description": wave.description,
        "source": wave.source,
        "supplier_id": wave.supplier_id,
        "status": wave.status,
        "open": wave.status == rules.WaveStatus.OPEN and wave.cutoff_at > now,
        "cutoff_at": clock.iso(wave.cutoff_at),
        "seconds_to_cutoff": max(0, int((wave.cutoff_at - now).total_seconds())),
        "delivery_date": wave.delivery_date.isoformat(),
        "commission_bps": wave.commission_bps,
        "unpicked_policy": wave.unpicked_policy,
        "unpicked_days": wave.unpicked_days,
        "arrival_grace_days": wave.arrival_grace_days,
    }


def listing_view(listing: WaveListing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "wave_id": listing.wave_id,
        "community_id": listing.community_id,
        "leader_id": listing.leader_id,
        "pickup_point_id": listing.pickup_point_id,
        "commission_bps": listing.commission_bps,
        "orders": listing.next_seq,
    }


def line_view(line: WaveOrderLine, title: str = "") -> dict[str, Any]:
    return {
        "item_id": line.item_id,
        "sku_id": line.sku_id,
        "title": title,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "final_unit_price": line.final_unit_price,
        "status": line.status,
    }


def chain_view(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "paid_at": clock.iso(r["paid_at"])} for r in rows]


def info_view(info: WaveOrderInfo) -> dict[str, Any]:
    return {
        "wave_id": info.wave_id,
        "listing_id": info.listing_id,
        "pickup_point_id": info.pickup_point_id,
        "seq": info.seq,
        "remark": info.remark,
    }


def commission_view(c: Commission) -> dict[str, Any]:
    return {
        "id": c.id,
        "order_id": c.order_id,
        "kind": c.kind,
        "base_amount": c.base_amount,
        "rate_bps": c.rate_bps,
        "amount": c.amount,
        "reversed_amount": c.reversed_amount,
        "status": c.status,
        "created_at": clock.iso(c.created_at),
        "available_at": clock.iso(c.available_at),
    }


def withdrawal_view(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.id,
        "leader_id": w.leader_id,
        "amount": w.amount,
        "status": w.status,
        "account_note": w.account_note,
        "reason": w.reason,
        "created_at": clock.iso(w.created_at),
        "decided_at": clock.iso(w.decided_at),
    }
