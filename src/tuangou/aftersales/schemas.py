from __future__ import annotations

from pydantic import Field

from tuangou.aftersales import rules
from tuangou.aftersales.models import AfterSaleCase, AfterSaleLine, AfterSalePhoto, PickupRating
from tuangou.aftersales.rules import CaseStatus
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out


class LineIn(In):
    item_id: int | None = Field(
        default=None, description="the wave item of the line; leave out for a one-SKU order"
    )
    quantity: int = Field(ge=1, description="units missing, damaged or wrong")


class CaseIn(In):
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


class AcceptIn(In):
    amount: int | None = Field(default=None, ge=1, description="fen; default: what was asked")


class RejectIn(In):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class RatingIn(In):
    stars: int = Field(ge=rules.MIN_STARS, le=rules.MAX_STARS)
    comment: str = Field(default="", max_length=rules.COMMENT_MAX)


# ---------------------------------------------------------------- replies


class PhotoOut(Out):
    """An uploaded photo, to attach by id to a report."""

    id: str
    content_type: str
    size: int

    @classmethod
    def of(cls, p: AfterSalePhoto) -> PhotoOut:
        return cls.model_construct(id=p.id, content_type=p.content_type, size=p.size)


class CaseOut(Out):
    """An after-sale case, as the lists show it."""

    id: int
    order_id: int
    order_kind: str
    kind: str
    description: str
    status: str
    amount_requested: int
    amount_refunded: int
    refund_mode: str | None
    reject_reason: str | None
    leader_id: int | None
    community_id: int | None
    pickup_point_id: int | None
    created_at: Iso
    decided_at: Iso | None
    age_seconds: int
    can_decide: bool

    @classmethod
    def of(cls, c: AfterSaleCase, *, can_decide: bool = False) -> CaseOut:
        now = clock.now()
        return cls.model_construct(
            id=c.id,
            order_id=c.order_id,
            order_kind=c.order_kind,
            kind=c.kind,
            description=c.description,
            status=c.status,
            amount_requested=c.amount_requested,
            amount_refunded=c.amount_refunded,
            refund_mode=c.refund_mode,
            reject_reason=c.reject_reason,
            leader_id=c.leader_id,
            community_id=c.community_id,
            pickup_point_id=c.pickup_point_id,
            created_at=clock.iso(c.created_at),
            decided_at=clock.iso(c.decided_at),
            age_seconds=max(0, int(((c.decided_at or now) - c.created_at).total_seconds())),
            can_decide=can_decide and c.status == CaseStatus.OPEN,
        )


class CaseLineOut(Out):
    item_id: int | None
    title: str
    quantity: int
    unit_price: int
    amount: int


class CasePhotoOut(Out):
    n: int | None
    url: str
    content_type: str


class CaseDetailOut(CaseOut):
    """A case with its lines and photos."""

    lines: list[CaseLineOut]
    photos: list[CasePhotoOut]

    @classmethod
    def detail(
        cls,
        c: AfterSaleCase,
        *,
        lines: list[AfterSaleLine],
        photos: list[AfterSalePhoto],
        titles: dict[int, str],
        can_decide: bool,
    ) -> CaseDetailOut:
        return cls.model_construct(
            **dict(CaseOut.of(c, can_decide=can_decide)),
            lines=[
                CaseLineOut.model_construct(
                    item_id=line.item_id,
                    title=titles.get(line.item_id or 0, ""),
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.unit_price * line.quantity,
                )
                for line in lines
            ],
            photos=[
                CasePhotoOut.model_construct(
                    n=p.position,
                    url=f"/api/aftersales/{c.id}/photos/{p.position}",
                    content_type=p.content_type,
                )
                for p in photos
            ],
        )


class ReporterOut(Out):
    nickname: str
    phone: str


class DecidingCaseDetailOut(CaseDetailOut):
    """A case as one who may decide it sees it: with who reported it (phone masked)."""

    member: ReporterOut


CaseReply = CaseDetailOut | DecidingCaseDetailOut


class RatingOut(Out):
    order_id: int
    leader_id: int
    pickup_point_id: int
    stars: int
    comment: str
    created_at: Iso

    @classmethod
    def of(cls, r: PickupRating) -> RatingOut:
        return cls.model_construct(
            order_id=r.order_id,
            leader_id=r.leader_id,
            pickup_point_id=r.pickup_point_id,
            stars=r.stars,
            comment=r.comment,
            created_at=clock.iso(r.created_at),
        )
