from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tuangou.aftersales import rules
from tuangou.aftersales.models import AfterSaleCase, AfterSaleLine, AfterSalePhoto, PickupRating
from tuangou.core import clock


class LineIn(BaseModel):
    item_id: int | None = Field(
        default=None, description="the wave item of the line; leave out for a one-SKU order"
    )
    quantity: int = Field(ge=1, description="units missing, damaged or wrong")


class CaseIn(BaseModel):
    order_id: int
    kind: str = Field(pattern="^(missing|damaged|wrong)$", description="少件 / 破损 / 错发")
    description: str = Field(min_length=1, max_length=rules.DESCRIPTION_MAX)
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    amount: int | None = Field(
        default=None, ge=1, description="fen asked; default: what the claimed units cost"
    )
    photo_ids: list[str] = Field(
        min_length=rules.MIN_PHOTOS,
        max_length=rules.MAX_PHOTOS,
        description="ids returned by POST /api/uploads, in the order to show them",
    )

    def quantities(self) -> dict[int | None, int]:
        wanted: dict[int | None, int] = {}
        for line in self.lines:
            wanted[line.item_id] = wanted.get(line.item_id, 0) + line.quantity
        return wanted


class AcceptIn(BaseModel):
    amount: int | None = Field(default=None, ge=1, description="fen; default: what was asked")


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class RatingIn(BaseModel):
    stars: int = Field(ge=rules.MIN_STARS, le=rules.MAX_STARS)
    comment: str = Field(default="", max_length=rules.COMMENT_MAX)


def photo_view(p: AfterSalePhoto) -> dict[str, Any]:
    return {"id": p.id, "content_type": p.content_type, "size": p.size}


def case_view(
    c: AfterSaleCase,
    *,
    lines: list[AfterSaleLine] | None = None,
    photos: list[AfterSalePhoto] | None = None,
    titles: dict[int, str] | None = None,
    member: dict[str, str] | None = None,
    can_decide: bool = False,
) -> dict[str, Any]:
    now = clock.now()
    view: dict[str, Any] = {
        "id": c.id,
        "order_id": c.order_id,
        "order_kind": c.order_kind,
        "kind": c.kind,
        "description": c.description,
        "status": c.status,
        "amount_requested": c.amount_requested,
        "amount_refunded": c.amount_refunded,
        "refund_mode": c.refund_mode,
        "reject_reason": c.reject_reason,
        "leader_id": c.leader_id,
        "community_id": c.community_id,
        "pickup_point_id": c.pickup_point_id,
        "created_at": clock.iso(c.created_at),
        "decided_at": clock.iso(c.decided_at),
        "age_seconds": max(0, int(((c.decided_at or now) - c.created_at).total_seconds())),
        "can_decide": can_decide and c.status == rules.CaseStatus.OPEN,
    }
    if lines is not None:
        view["lines"] = [
            {
                "item_id": line.item_id,
                "title": (titles or {}).get(line.item_id or 0, ""),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.unit_price * line.quantity,
            }
            for line in lines
        ]
    if photos is not None:
        view["photos"] = [
            {
                "n": p.position,
                "url": f"/api/aftersales/{c.id}/photos/{p.position}",
                "content_type": p.content_type,
            }
            for p in photos
        ]
    if member is not None:
        view["member"] = member
    return view


def rating_view(r: PickupRating) -> dict[str, Any]:
    return {
        "order_id": r.order_id,
        "leader_id": r.leader_id,
        "pickup_point_id": r.pickup_point_id,
        "stars": r.stars,
        "comment": r.comment,
        "created_at": clock.iso(r.created_at),
    }
