"""The read model over HTTP: the operator's order list, searched and filtered, and the
dashboards' figures (the operator's, and each leader's own)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from tuangou.accounts import service as accounts
from tuangou.analytics import boards, rules
from tuangou.analytics import service as analytics
from tuangou.analytics.schemas import DashboardOut, DefinitionOut, DeskOrderOut
from tuangou.api.deps import Caller, Member, Operator
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


# ---------------------------------------------------------------- the dashboards

Start = Annotated[date | None, Query(description="first local day (default: `days` before `end`)")]
End = Annotated[date | None, Query(description="last local day (default: today)")]
Days = Annotated[int, Query(ge=1, le=rules.MAX_RANGE_DAYS)]
Id = Annotated[int | None, Query(ge=1, le=BIGGEST)]


@router.get("/admin/dashboard", tags=["operator: dashboards"])
def admin_dashboard(
    who: Operator,
    start: Start = None,
    end: End = None,
    days: Days = 30,
    community_id: Id = None,
    leader_id: Id = None,
) -> DashboardOut:
    """The platform's figures over a range of local days, or one community's or leader's."""
    scope = boards.scope(
        start=start, end=end, days=days, community_id=community_id, leader_id=leader_id
    )
    with unit_of_work(readonly=True) as session:
        return DashboardOut.of(boards.figures(session, scope))


@router.get("/leader/dashboard", tags=["leaders"])
def leader_dashboard(
    who: Member,
    start: Start = None,
    end: End = None,
    days: Days = 30,
    community_id: Id = None,
) -> DashboardOut:
    """Your own figures: the wave orders through your listings (or one of your communities)."""
    asked = boards.scope(start=start, end=end, days=days, community_id=community_id)
    with unit_of_work(readonly=True) as session:
        scope = boards.leader_scope(session, who.user_id, asked)
        return DashboardOut.of(boards.figures(session, scope))


@router.get("/dashboard/definitions", tags=["leaders"])
def definitions(who: Caller) -> list[DefinitionOut]:
    """What each dashboard figure counts, in the order the dashboards show them."""
    return [
        DefinitionOut(figure=key, title=title, definition=text)
        for key, (title, text) in rules.DEFINITIONS.items()
    ]
