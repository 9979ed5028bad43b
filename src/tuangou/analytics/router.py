"""The read model over HTTP: the operator's order list, searched and filtered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tuangou.accounts import service as accounts
from tuangou.analytics import service as analytics
from tuangou.analytics.schemas import DeskOrderOut
from tuangou.api.deps import Operator
from tuangou.core.db import unit_of_work
from tuangou.core.schemas import BIGGEST

router = APIRouter(tags=["operator: orders"])


@router.get("/admin/order-desk")
def order_desk(
    who: Operator,
    status: str | None = None,
    kind: str | None = None,
    community_id: Annotated[int | None, Query(ge=1, le=BIGGEST)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=BIGGEST)] = None,
    q: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=BIGGEST)] = 0,
) -> list[DeskOrderOut]:
    """Orders newest first, with member, product and community; ``q`` finds an order number,
    a phone (or its end), a nickname, a product, item or wave title, a community's name."""
    with unit_of_work(readonly=True) as session:
        found = analytics.find_orders(
            session,
            status=status or None,
            kind=kind or None,
            community_id=community_id,
            product_id=product_id,
            search=q,
            limit=limit,
            offset=offset,
        )
    return [DeskOrderOut.of(o, accounts.mask_phone(o.phone)) for o in found]
