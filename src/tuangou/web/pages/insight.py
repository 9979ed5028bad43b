"""需求洞察: a leader reads what their community asked for this week, with the posts as
evidence, and starts a wave of matching goods or a proposal from a wish."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuangou.cocreate import rules as co_rules
from tuangou.cocreate import service as cocreate
from tuangou.core.db import unit_of_work
from tuangou.insight import rules as insight_rules
from tuangou.insight import service as insight
from tuangou.web.pages.leader import PageLeader
from tuangou.web.templating import render

router = APIRouter()


@router.get("/leader/communities/{community_id}/insight")
def insight_page(request: Request, community_id: int, me: PageLeader) -> Response:
    week = request.query_params.get("week") or None
    with unit_of_work(readonly=True) as db:
        found = insight.community_insight(
            db, user_id=me.who.user_id, community_id=community_id, week=week
        )
        proposals, _ = cocreate.proposals_of(
            db,
            community_id=community_id,
            user_id=me.who.user_id,
            status=co_rules.ProposalStatus.OPEN,
            limit=5,
        )
    return render(
        request,
        "leader/insight.html",
        {"insight": found, "proposals": proposals, "wish_weight": insight_rules.WISH_WEIGHT},
    )
