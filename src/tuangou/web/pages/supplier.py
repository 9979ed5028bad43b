"""The supplier's pages: its products and SKUs, and the terms leaders' waves must keep on
each SKU (the floor price and the maximum leader commission); its shipping list (team-buy
orders to ship, with the member's address); its waves' shipments to pickup points with
their delivery tracking; its own quality record (品控)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts.service import Principal
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.fulfilment import service as fulfilment
from tuangou.orders import service as orders
from tuangou.pools import service as pools
from tuangou.quality import service as quality
from tuangou.web import session, views
from tuangou.web.forms import FormState
from tuangou.web.session import Form
from tuangou.web.templating import render, translate

router = APIRouter(prefix="/supplier")
FLASH = "supplier_flash"
_PERCENT = re.compile(r"^\d{1,2}(\.\d{1,2})?$")


def _page_supplier(request: Request) -> Principal:
    return session.require(request, "supplier")


PageSupplier = Annotated[Principal, Depends(_page_supplier)]


def percent_to_bps(text: str) -> int | None:
    """``12.5`` (per cent, two decimals at most) as basis points; None if unreadable."""
    text = text.strip().rstrip("%").strip()
    if not _PERCENT.match(text):
        return None
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def bps_to_percent(bps: int) -> str:
    """Basis points as the per cent a form shows: 1000 → ``10``, 1250 → ``12.5``."""
    return f"{bps / 100:.2f}".rstrip("0").rstrip(".")


def _products_page(
    request: Request,
    who: Principal,
    *,
    form: FormState | None = None,
    sku_id: int | None = None,
    status: int = 200,
) -> Response:
    assert who.supplier_id is not None
    supplier_id = who.supplier_id

    def load(db: Session) -> dict[str, Any]:
        return {
            "supplier": catalog.get_supplier(db, supplier_id),
            "products": [
                (p, catalog.skus_of(db, p.id))
                for p in catalog.list_products(db, supplier_id=supplier_id)
            ],
        }

    context = {
        **read(load),
        "form": form or FormState(),
        "form_sku": sku_id,
        "percent": bps_to_percent,
    }
    flash = request.session.pop(FLASH, None)
    if flash:
        context["flash"] = flash
    return render(request, "supplier/products.html", context, status_code=status)


@router.get("/products")
def products(request: Request, who: PageSupplier) -> Response:
    return _products_page(request, who)


@router.post("/skus/{sku_id}/terms")
def set_terms(sku_id: int, request: Request, form: Form, who: PageSupplier) -> Response:
    """The floor price (yuan) and the maximum commission (per cent) of one of its SKUs."""
    state = FormState.of(form)
    floor = state.fen(request, "floor_price")
    most = percent_to_bps(state.text("max_commission"))
    if most is None:
        state.add(request, "max_commission", "Enter a commission of 0 to 50 per cent")
    if state.ok and floor is not None and most is not None:
        try:
            run_in_transaction(
                lambda db: catalog.set_terms(
                    db,
                    sku_id=sku_id,
                    floor_price=floor,
                    max_commission_bps=most,
                    supplier_id=who.supplier_id,
                )
            )
        except DomainError as exc:
            if exc.status in (403, 404):  # another supplier's SKU, or none: the error page
                raise
            field = str(exc.extra.get("field") or "_form")
            exc.extra["field"] = {"max_commission_bps": "max_commission"}.get(field, field)
            state.refuse(request, exc)
        else:
            request.session[FLASH] = translate(request, "Terms saved.")
            return RedirectResponse("/supplier/products", status_code=303)
    return _products_page(request, who, form=state, sku_id=sku_id, status=400)


# ---------------------------------------------------------------- orders to ship

SHIP_LIST_MAX = 200


def _to_ship_page(
    request: Request,
    who: Principal,
    *,
    form: FormState | None = None,
    order_id: int | None = None,
    status: int = 200,
) -> Response:
    """The supplier's shipping list: its team-buy orders waiting to be shipped, each with the
    address the member chose at checkout (the order's copy), and a form to ship it."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id

    def load(db: Session) -> dict[str, Any]:
        waiting = orders.list_all(
            db, status=orders.OrderStatus.CONFIRMED, supplier_id=supplier_id, limit=SHIP_LIST_MAX
        )
        rows = []
        for order in waiting:
            if order.kind not in ("team", "flash", "bargain") or order.sku_id is None:
                continue
            sku = catalog.sku_summary(db, order.sku_id)
            rows.append({"order": order, "title": f"{sku['title']} {sku['sku_name']}".strip()})
        return {"supplier": catalog.get_supplier(db, supplier_id), "rows": rows}

    context = {**read(load), "form": form or FormState(), "form_order": order_id}
    flash = request.session.pop(FLASH, None)
    if flash:
        context["flash"] = flash
    return render(request, "supplier/orders.html", context, status_code=status)


@router.get("/orders")
def orders_to_ship(request: Request, who: PageSupplier) -> Response:
    return _to_ship_page(request, who)


@router.post("/orders/{order_id}/ship")
def ship_order(order_id: int, request: Request, form: Form, who: PageSupplier) -> Response:
    state = FormState.of(form)
    state.required(request, "carrier", "tracking_no")
    state.at_most(request, "carrier", 64)
    state.at_most(request, "tracking_no", 64)
    if state.ok:
        try:
            run_in_transaction(
                lambda db: orders.ship(
                    db,
                    supplier_id=who.supplier_id or 0,
                    order_id=order_id,
                    carrier=state.text("carrier"),
                    tracking_no=state.text("tracking_no"),
                )
            )
        except DomainError as exc:
            if exc.status in (403, 404):  # another supplier's order, or none: the error page
                raise
            state.refuse(request, exc)
        else:
            request.session[FLASH] = translate(request, "Marked as shipped.")
            return RedirectResponse("/supplier/orders", status_code=303)
    return _to_ship_page(request, who, form=state, order_id=order_id, status=400)


# ---------------------------------------------------------------- waves to ship, with tracking


def _waves_page(
    request: Request,
    who: Principal,
    *,
    form: FormState | None = None,
    at: tuple[int, int] | None = None,
    status: int = 200,
) -> Response:
    """The supplier's settled waves, each pickup point with its shipment: a form to ship it
    with the carrier and tracking number, then the steps (运输中, 已到达) moved by hand."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id

    def load(db: Session) -> dict[str, Any]:
        waves = [
            w
            for w in pools.waves_of_supplier(db, supplier_id)
            if w.status == pools.WaveStatus.SETTLED
        ][:30]
        rows = []
        for wave in waves:
            points = fulfilment.wave_tracking(
                db, wave_id=wave.id, supplier_id=supplier_id, raw=True
            )
            for point in points:
                point["name"] = communities.get_pickup_point(db, point["pickup_point_id"]).name
            rows.append({"wave": wave, "points": points})
        return {"supplier": catalog.get_supplier(db, supplier_id), "rows": rows}

    context = {**read(load), "form": form or FormState(), "form_at": at}
    flash = request.session.pop(FLASH, None)
    if flash:
        context["flash"] = flash
    return render(request, "supplier/waves.html", context, status_code=status)


@router.get("/waves")
def waves_to_ship(request: Request, who: PageSupplier) -> Response:
    return _waves_page(request, who)


@router.post("/waves/{wave_id}/points/{pickup_point_id}/ship")
def ship_wave(
    wave_id: int, pickup_point_id: int, request: Request, form: Form, who: PageSupplier
) -> Response:
    """Ship a wave's goods to one pickup point, with the carrier and tracking number."""
    state = FormState.of(form)
    state.required(request, "carrier", "tracking_no")
    state.at_most(request, "carrier", 64)
    state.at_most(request, "tracking_no", 64)
    if state.ok:
        try:
            run_in_transaction(
                lambda db: fulfilment.ship(
                    db,
                    wave_id=wave_id,
                    supplier_id=who.supplier_id or 0,
                    user_id=who.user_id,
                    pickup_point_ids=[pickup_point_id],
                    carrier=state.text("carrier"),
                    tracking_no=state.text("tracking_no"),
                )
            )
        except DomainError as exc:
            if exc.status == 404:  # another supplier's wave, or none: the error page
                raise
            state.refuse(request, exc)
        else:
            request.session[FLASH] = translate(request, "Marked as shipped.")
            return RedirectResponse(f"/supplier/waves#point-{wave_id}-{pickup_point_id}", 303)
    return _waves_page(request, who, form=state, at=(wave_id, pickup_point_id), status=400)


@router.post("/waves/{wave_id}/points/{pickup_point_id}/step")
def move_step(
    wave_id: int, pickup_point_id: int, request: Request, form: Form, who: PageSupplier
) -> Response:
    """Move the shipment by hand to a later step (运输中, 已到达)."""
    state = FormState.of(form)
    try:
        run_in_transaction(
            lambda db: fulfilment.move_tracking(
                db,
                wave_id=wave_id,
                pickup_point_id=pickup_point_id,
                supplier_id=who.supplier_id or 0,
                user_id=who.user_id,
                to=state.text("status"),
            )
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        state.refuse(request, exc, "_form")
        return _waves_page(request, who, form=state, at=(wave_id, pickup_point_id), status=409)
    request.session[FLASH] = translate(request, "Delivery step saved.")
    return RedirectResponse(f"/supplier/waves#point-{wave_id}-{pickup_point_id}", 303)


# ---------------------------------------------------------------- its own quality record


@router.get("/quality")
def my_quality(request: Request, who: PageSupplier) -> Response:
    """The supplier's own quality record (品控), as operators and leaders see it."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id
    found = read(lambda db: quality.record(db, supplier_id))
    return render(
        request, "supplier/quality.html", {"record": found, "case_kinds": views.CASE_KINDS}
    )
