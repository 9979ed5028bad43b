from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tuangou.api.deps import Member
from tuangou.core.db import unit_of_work
from tuangou.recommend import schemas
from tuangou.recommend import service as recommend

router = APIRouter(tags=["recommendations"])


@router.get("/recommendations", response_model=schemas.RecommendationsOut)
def recommendations(
    who: Member,
    context: Annotated[str, Query(max_length=16)] = "home",
    order_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """猜你喜欢: up to 10 things the member can order now (a live team buy, or an open wave
    of one of their communities), each with its link, price and the reason in words; the
    reply names the ``source`` that ranked them (``model``, ``community_popularity``,
    ``popularity``) and the model's version. ``context=after_order`` with the member's own
    ``order_id`` leans towards products like the order's, and leaves them out."""
    with unit_of_work(readonly=True) as session:
        ctx = recommend.parse_context(context)
        found = recommend.recommend(session, who.user_id, context=ctx, order_id=order_id)
        return schemas.RecommendationsOut.of(found).model_dump()
