"""The read model's replies: the operator's order list."""

from __future__ import annotations

from tuangou.analytics.service import DeskOrder
from tuangou.core import clock
from tuangou.core.schemas import Iso, Out


class DeskOrderOut(Out):
    """An order with who bought it, what and where (a team order has no community)."""

    id: int
    kind: str
    status: str
    quantity: int
    paid_amount: int
    refunded_amount: int
    created_at: Iso
    user_id: int
    member: str
    masked_phone: str
    product: str
    wave: str
    community_id: int | None
    community: str

    @classmethod
    def of(cls, o: DeskOrder, masked_phone: str) -> DeskOrderOut:
        return cls.model_construct(
            id=o.id,
            kind=o.kind,
            status=o.status,
            quantity=o.quantity,
            paid_amount=o.paid_amount,
            refunded_amount=o.refunded_amount,
            created_at=clock.iso(o.created_at) or "",
            user_id=o.user_id,
            member=o.member,
            masked_phone=masked_phone,
            product=o.product,
            wave=o.wave,
            community_id=o.community_id,
            community=o.community,
        )
