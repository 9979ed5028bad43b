"""Suppliers linked to communities: the operator links a supplier to a community (it may then
turn the community's ready proposals into pre-sale waves of its own goods) and unlinks it;
the trail says who did which, and when."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.cocreate import service as cocreate
from tuangou.communities import service as communities
from tuangou.core.db import read
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _save
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render

router = APIRouter(prefix="/ops")


def _page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(db: Session) -> dict[str, Any]:
        links = cocreate.all_links(db)
        trail = cocreate.link_trail(db)
        community_ids = {x.community_id for x in links} | {e.community_id for e in trail}
        names = {cid: communities.get_community(db, cid).name for cid in sorted(community_ids)}
        by = sorted({x.linked_by for x in links} | {e.by_user_id for e in trail})
        people = {uid: accounts.get_user(db, uid).nickname for uid in by}
        return {
            "links": links,
            "trail": trail,
            "community_names": names,
            "suppliers": catalog.list_suppliers(db),
            "people": people,
        }

    context = _ctx(request, form=form or FormState(), **read(load))
    context["supplier_names"] = {s.id: s.name for s in context["suppliers"]}
    return render(request, "operator/supplier_links.html", context, status_code=status)


@router.get("/supplier-links")
def supplier_links(request: Request, who: PageOperator) -> Response:
    return _page(request)


@router.post("/supplier-links")
def link(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    community_id = state.integer(request, "community_id", low=1)
    supplier_id = state.integer(request, "supplier_id", low=1)
    if state.ok and community_id and supplier_id:
        saved = _save(
            request,
            state,
            lambda s: cocreate.link_supplier(
                s, operator_id=who.user_id, community_id=community_id, supplier_id=supplier_id
            ),
            "/ops/supplier-links",
            "community_id",
        )
        if saved:
            return saved
    return _page(request, state, status=400)


@router.post("/supplier-links/unlink")
def unlink(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    community_id = state.integer(request, "community_id", low=1)
    supplier_id = state.integer(request, "supplier_id", low=1)
    if state.ok and community_id and supplier_id:
        saved = _save(
            request,
            state,
            lambda s: cocreate.unlink_supplier(
                s, operator_id=who.user_id, community_id=community_id, supplier_id=supplier_id
            ),
            "/ops/supplier-links",
            "_form",
        )
        if saved:
            return saved
    return _page(request, state, status=400)
