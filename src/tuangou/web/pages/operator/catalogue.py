"""The catalogue: suppliers, products and their SKUs, team-buy campaigns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.teams import service as teams
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import (
    CAMPAIGN_STATUSES,
    OPENER_PERKS,
    _ctx,
    _done,
    _refused,
    _save,
)
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import fmt_money, render, translate

router = APIRouter(prefix="/ops")


def _suppliers_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    found = read(catalog.list_suppliers)
    return render(
        request,
        "operator/suppliers.html",
        _ctx(request, suppliers=found, form=form or FormState()),
        status_code=status,
    )


@router.get("/suppliers")
def suppliers(request: Request, who: PageOperator) -> Response:
    return _suppliers_page(request)


@router.post("/suppliers")
def create_supplier(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "name")
    state.at_most(request, "name", 128)
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: catalog.create_supplier(
                s, name=state.text("name"), contact=state.text("contact")[:128]
            ),
            "/ops/suppliers",
            "name",
        )
        if saved:
            return saved
    return _suppliers_page(request, state, status=400)


# ---------------------------------------------------------------- products and SKUs


def _products_page(
    request: Request,
    *,
    form: FormState | None = None,
    sku_form: FormState | None = None,
    sku_product: int | None = None,
    category_form: FormState | None = None,
    category_id: int | None = None,
    status: int = 200,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        found = catalog.list_products(session)
        return {
            "suppliers": {s.id: s for s in catalog.list_suppliers(session)},
            "products": [(p, catalog.skus_of(session, p.id)) for p in found],
            "categories": catalog.list_categories(session),
        }

    data = read(load)
    return render(
        request,
        "operator/products.html",
        _ctx(
            request,
            **data,
            form=form or FormState(),
            sku_form=sku_form or FormState(),
            sku_product=sku_product,
            category_form=category_form or FormState(),
            category_id=category_id,
            new_category=category_form if category_form and category_id == 0 else FormState(),
        ),
        status_code=status,
    )


@router.get("/products")
def products(request: Request, who: PageOperator) -> Response:
    return _products_page(request)


@router.post("/products")
def create_product(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "supplier_id", "title")
    supplier_id = state.integer(request, "supplier_id", low=1) if state.ok else None
    state.at_most(request, "title", 200)
    image = state.text("image_url")
    if image and not (image.startswith("https://") or image.startswith("/")):
        state.add(request, "image_url", "Enter a link starting with https:// or /")
    if state.ok and supplier_id is not None:
        saved = _save(
            request,
            state,
            lambda s: catalog.create_product(
                s,
                supplier_id=supplier_id,
                title=state.text("title"),
                description=state.text("description"),
                image_url=image,
            ),
            "/ops/products",
            "supplier_id",
        )
        if saved:
            return saved
    return _products_page(request, form=state, status=400)


@router.post("/products/{product_id}/skus")
def create_sku(product_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.at_most(request, "sku_name", 128)
    price = state.fen(request, "price")
    if price is not None and price <= 0:
        state.add(request, "price", "The price must be more than zero")
    stock = state.integer(request, "stock", low=0)
    if state.ok and price is not None and stock is not None:
        saved = _save(
            request,
            state,
            lambda s: catalog.create_sku(
                s, product_id=product_id, name=state.text("sku_name"), price=price, stock=stock
            ),
            "/ops/products",
            "price",
        )
        if saved:
            return saved
    return _products_page(request, sku_form=state, sku_product=product_id, status=400)


# ---------------------------------------------------------------- categories


def _category_fields(request: Request, state: FormState) -> int | None:
    """The name (required, at most 32 characters) and the position (0 to 9999, or blank)."""
    state.required(request, "name")
    state.at_most(request, "name", catalog.CATEGORY_NAME_MAX)
    if not state.text("position"):
        return None
    return state.integer(request, "position", low=0, high=9999)


@router.post("/categories")
def create_category(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    position = _category_fields(request, state)
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: catalog.create_category(s, name=state.text("name"), position=position),
            "/ops/products#categories",
            "name",
        )
        if saved:
            return saved
    return _products_page(request, category_form=state, category_id=0, status=400)


@router.post("/categories/{category_id}")
def update_category(category_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    """Rename, move, hide or show a category (the row's form sends all three)."""
    state = FormState.of(form)
    position = _category_fields(request, state)
    hidden = state.text("hidden") == "1"
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: catalog.update_category(
                s, category_id, name=state.text("name"), position=position, hidden=hidden
            ),
            "/ops/products#categories",
            "name",
        )
        if saved:
            return saved
    return _products_page(request, category_form=state, category_id=category_id, status=400)


@router.post("/products/{product_id}/category")
def set_product_category(
    product_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    state = FormState.of(form)
    raw = state.text("category_id")
    category_id = state.integer(request, "category_id", low=1) if raw else None
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: catalog.set_product_category(
                s, product_id=product_id, category_id=category_id
            ),
            f"/ops/products#product-{product_id}",
            "category_id",
        )
        if saved:
            return saved
    return _products_page(request, sku_form=state, sku_product=product_id, status=400)


# ---------------------------------------------------------------- team-buy campaigns


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _local_input(value: datetime) -> str:
    """A stored time as a ``datetime-local`` input's value, in the deployment's time zone."""
    return clock.to_local(value).strftime("%Y-%m-%dT%H:%M")


def _parse_local(state: FormState, request: Request, name: str) -> datetime | None:
    raw = state.text(name)
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        state.add(request, name, "Enter a date and time")
        return None
    return clock.as_utc(local.replace(tzinfo=_zone())).replace(tzinfo=None)


def _parse_tiers(state: FormState, request: Request) -> list[tuple[int, int]] | None:
    """``2:19.90, 5:17.90``: members and the unit price in yuan, per tier."""
    tiers = []
    for part in state.text("tiers").replace("，", ",").split(","):
        if not part.strip():
            continue
        members, sep, price = part.strip().partition(":")
        probe = FormState(values={"p": price})
        fen = probe.fen(request, "p") if sep else None
        if not members.strip().isdigit() or fen is None:
            state.add(request, "tiers", "Write each tier as members:price, like 2:19.90, 5:17.90")
            return None
        tiers.append((int(members), fen))
    if not tiers:
        state.add(request, "tiers", "Fill this in")
        return None
    return tiers


def _campaigns_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(session: Session) -> dict[str, Any]:
        rows = []
        for c in teams.list_campaigns(session, live_only=False):
            sku = catalog.get_sku(session, c.sku_id)
            product = catalog.get_product(session, sku.product_id)
            rows.append(
                {
                    "c": c,
                    "product": product,
                    "sku": sku,
                    "goods": catalog.goods_name(product.title, sku.name),
                    "tiers": teams.tiers_of(c),
                    "live": teams.is_live(c),
                    "available": c.stock - c.sold - c.held,
                }
            )
        skus = [
            (sku, product)
            for product in catalog.list_products(session)
            for sku in catalog.skus_of(session, product.id)
        ]
        return {"campaigns": rows, "skus": skus}

    data = read(load)
    now = clock.now()
    if form is None:
        form = FormState(
            values={
                "min_size": "2",
                "window_hours": "24",
                "per_member_limit": "5",
                "stock": "100",
                "opener_perk": "none",
                "starts_at": _local_input(now),
                "ends_at": _local_input(now.replace(second=0, microsecond=0) + timedelta(days=7)),
            }
        )
    return render(
        request,
        "operator/campaigns.html",
        _ctx(
            request,
            **data,
            form=form,
            statuses=CAMPAIGN_STATUSES,
            perks=OPENER_PERKS,
            perk_options=[(k, translate(request, v)) for k, v in OPENER_PERKS.items()],
            sku_options=[
                (sku.id, f"{catalog.goods_name(product.title, sku.name)} · {fmt_money(sku.price)}")
                for sku, product in data["skus"]
            ],
        ),
        status_code=status,
    )


@router.get("/campaigns")
def campaigns(request: Request, who: PageOperator) -> Response:
    return _campaigns_page(request)


@router.post("/campaigns")
def create_campaign(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "sku_id", "tiers", "stock", "ends_at")
    sku_id = state.integer(request, "sku_id", low=1) if state.text("sku_id") else None
    tiers = _parse_tiers(state, request) if state.text("tiers") else None
    stock = state.integer(request, "stock", low=1) if state.text("stock") else None
    min_size = state.integer(request, "min_size", low=2)
    max_size = state.integer(request, "max_size", low=2) if state.text("max_size") else None
    limit = state.integer(request, "per_member_limit", low=1)
    window = state.integer(request, "window_hours", low=1, high=72)
    perk = state.text("opener_perk") or "none"
    if perk not in OPENER_PERKS:
        state.add(request, "opener_perk", "Choose one of the options")
    opener_price = None
    if perk == "price":
        opener_price = state.fen(request, "opener_price")
    starts_at = _parse_local(state, request, "starts_at") if state.text("starts_at") else None
    ends_at = _parse_local(state, request, "ends_at") if state.text("ends_at") else None
    if not state.ok:
        return _campaigns_page(request, state, status=400)
    assert sku_id is not None and tiers is not None and stock is not None and ends_at
    assert min_size is not None and limit is not None and window is not None
    data = teams.CampaignInput(
        sku_id=sku_id,
        title=state.text("title")[:200],
        starts_at=starts_at or clock.now(),
        ends_at=ends_at,
        tiers=tiers,
        stock=stock,
        min_size=min_size,
        max_size=max_size,
        window_hours=window,
        per_member_limit=limit,
        opener_perk=perk,
        opener_price=opener_price,
        new_member_only=state.get("new_member_only") == "on",
    )
    try:
        run_in_transaction(lambda s: teams.create_campaign(s, data))
    except DomainError as exc:
        state.refuse(request, exc, "sku_id")
        return _campaigns_page(request, state, status=_refused(exc))
    return _done("/ops/campaigns")


@router.post("/campaigns/{campaign_id}/status")
def set_campaign_status(
    campaign_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    status = str(form.get("status") or "")
    run_in_transaction(lambda s: teams.set_campaign_status(s, campaign_id, status))
    return _done("/ops/campaigns")
