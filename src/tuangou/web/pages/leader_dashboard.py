"""A leader's dashboard: the figures of their own listings (or one of their communities)
over a range of days, with charts, CSV export and the definitions. A leader never sees
another leader's figures: the scope is always narrowed to the logged-in leader."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.analytics import boards
from tuangou.analytics import dashboards as reference
from tuangou.analytics.figures import Figures
from tuangou.core.db import read
from tuangou.web.pages import dashboards
from tuangou.web.pages.leader import PageLeader
from tuangou.web.templating import translate

router = APIRouter(prefix="/leader")
LAYOUT = "leader/_layout.html"
BASE = "/leader/dashboard"


def _load(request: Request, me: Any) -> tuple[dashboards.Asked, Figures, list[Any]]:
    wanted = dashboards.asked(request, leaders=False)

    def load(session: Session) -> tuple[Figures, list[Any]]:
        mine = reference.community_choices(session, me.leader.id)
        scope = replace(wanted.scope, leader_id=me.leader.id)
        if scope.community_id is not None and scope.community_id not in {c for c, _ in mine}:
            wanted.form.errors["community_id"] = translate(request, "Choose from the list")
            scope = replace(scope, community_id=None)
        return boards.figures(session, scope), mine

    f, mine = read(load)
    return wanted, f, mine


@router.get("/dashboard")
def dashboard(request: Request, me: PageLeader) -> Response:
    wanted, f, mine = _load(request, me)
    return dashboards.page(
        request,
        f,
        wanted.form,
        layout=LAYOUT,
        base=BASE,
        communities=mine,
        leaders=None,
        context={},
    )


@router.get("/dashboard/export.csv")
def export(request: Request, me: PageLeader, figure: str = "gmv") -> Response:
    wanted, f, _ = _load(request, me)
    return dashboards.export(request, wanted, f, figure, "leader")


@router.get("/dashboard/definitions")
def definitions(request: Request, me: PageLeader) -> Response:
    return dashboards.definitions(request, layout=LAYOUT, base=BASE, context={})
