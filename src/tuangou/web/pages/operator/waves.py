"""Waves and each wave's purchase order (on screen and as CSV)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.core.db import read
from tuangou.pools import export
from tuangou.pools import service as pools
from tuangou.web import responses
from tuangou.web.pages.operator.common import _ctx
from tuangou.web.session import PageOperator
from tuangou.web.templating import language, render

router = APIRouter(prefix="/ops")


@router.get("/waves")
def waves(request: Request, who: PageOperator) -> Response:
    def load(session: Session) -> list[Any]:
        suppliers = {s.id: s.name for s in catalog.list_suppliers(session)}
        return [(w, suppliers.get(w.supplier_id, "")) for w in pools.all_waves(session)]

    return render(request, "operator/waves.html", _ctx(request, waves=read(load)))


@router.get("/waves/{wave_id}/purchase-order")
def purchase_order(wave_id: int, request: Request, who: PageOperator) -> Response:
    po = read(lambda s: pools.purchase_order(s, wave_id))
    items = {i["item_id"]: i for i in po["items"]}
    total = sum((i["unit_price"] or 0) * i["quantity"] for i in po["items"])
    return render(
        request,
        "operator/purchase_order.html",
        _ctx(request, po=po, items=items, total=total),
    )


@router.get("/waves/{wave_id}/purchase-order.csv")
def purchase_order_csv(wave_id: int, request: Request, who: PageOperator) -> Response:
    po = read(lambda s: pools.purchase_order(s, wave_id))
    body = export.purchase_order_csv(po, "zh" if language(request) == "zh-CN" else "en")
    return responses.download(body, export.CSV_MEDIA, f"wave-{wave_id}-purchase-order.csv")
