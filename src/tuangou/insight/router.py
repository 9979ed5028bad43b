from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tuangou.api.deps import Caller
from tuangou.core.db import unit_of_work
from tuangou.insight import schemas
from tuangou.insight import service as insight

router = APIRouter(tags=["leaders"])

Week = Annotated[str | None, Query(max_length=8, description="ISO week, e.g. 2026-W49")]


@router.get("/leader/communities/{community_id}/insight")
def community_insight(community_id: int, who: Caller, week: Week = None) -> schemas.InsightOut:
    """需求洞察: the goods the community asked for in a week (this week by default), best
    first, each with the posts, replies and proposals that ask for it and the catalogue
    goods that would answer it. For the community's leader and operators."""
    with unit_of_work(readonly=True) as session:
        return schemas.InsightOut.of(
            insight.community_insight(
                session,
                user_id=who.user_id,
                community_id=community_id,
                week=week,
                operator=who.role == "operator",
            )
        )
