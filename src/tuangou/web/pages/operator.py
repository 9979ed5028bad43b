"""The operator console (平台运营, at a desk; still usable on a phone), under ``/ops``.

Queues first (leader applications, after-sale cases, withdrawals), then the dashboard's
charts; the catalogue (suppliers, products, SKUs, team-buy campaigns); orders and manual
refunds; each wave's purchase order. Every page needs the operator role; each handler calls
the same services as the API's operator endpoints, with the same arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.aftersales import service as aftersales
from tuangou.analytics import rules as analytics_rules
from tuangou.analytics import service as analytics
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.pools import commission, export
from tuangou.pools import service as pools
from tuangou.teams import service as teams
from tuangou.web import i18n, once, responses
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import fmt_money, language, render, translate

router = APIRouter(prefix="/ops")

SECTIONS = [
    ("/ops", i18n.lazy("Dashboard")),
    ("/ops/applications", i18n.lazy("Leader applications")),
    ("/ops/aftersales", i18n.lazy("After-sales")),
    ("/ops/withdrawals", i18n.lazy("Withdrawals")),
    ("/ops/orders", i18n.lazy("Orders")),
    ("/ops/waves", i18n.lazy("Waves")),
    ("/ops/campaigns", i18n.lazy("Campaigns")),
    ("/ops/products", i18n.lazy("Products")),
    ("/ops/suppliers", i18n.lazy("Suppliers")),
]

QUEUES = {
    "leader_applications": (i18n.lazy("Leader applications"), "/ops/applications"),
    "aftersales": (i18n.lazy("After-sale cases"), "/ops/aftersales"),
    "withdrawals": (i18n.lazy("Withdrawals waiting"), "/ops/withdrawals"),
}

ORDER_STATUSES = {
    "pending_payment": i18n.lazy("Awaiting payment"),
    "paid": i18n.lazy("Paid"),
    "confirmed": i18n.lazy("Confirmed"),
    "shipped": i18n.lazy("Shipped"),
    "arrived": i18n.lazy("Arrived"),
    "completed": i18n.lazy("Completed"),
    "cancelled": i18n.lazy("Cancelled"),
    "refunded": i18n.lazy("Refunded"),
}
ORDER_KINDS = {"team": i18n.lazy("Team buy"), "wave": i18n.lazy("Wave")}

REFUND_REASONS = {
    "price_protection": i18n.lazy("Price protection"),
    "team_failed": i18n.lazy("Team failed"),
    "left_team": i18n.lazy("Left the team"),
    "opener_free": i18n.lazy("Opener free"),
    "not_shipped": i18n.lazy("Not shipped in time"),
    "late_payment": i18n.lazy("Late payment"),
    "manual": i18n.lazy("Refunded by an operator"),
    "moq_not_met": i18n.lazy("Below the minimum quantity"),
    "after_sale": i18n.lazy("After-sale"),
    "not_picked_up": i18n.lazy("Not picked up"),
    "not_delivered": i18n.lazy("Not delivered"),
}

WAVE_STATUSES = {
    "open": i18n.lazy("Open"),
    "settling": i18n.lazy("Settling"),
    "settled": i18n.lazy("Settled"),
    "cancelled": i18n.lazy("Cancelled"),
}
ITEM_STATUSES = {
    "open": i18n.lazy("Open"),
    "confirmed": i18n.lazy("Confirmed"),
    "cancelled": i18n.lazy("Below the minimum quantity"),
}

LINE_STATUSES = {
    "open": i18n.lazy("Ordered"),
    "confirmed": i18n.lazy("Confirmed"),
    "refunded": i18n.lazy("Refunded"),
    "cancelled": i18n.lazy("Refunded"),
}
PAYMENT_STATUSES = {
    "pending": i18n.lazy("Waiting for the payer"),
    "succeeded": i18n.lazy("Succeeded"),
    "failed": i18n.lazy("Declined"),
    "expired": i18n.lazy("Expired"),
}
REFUND_STATUSES = {
    "pending": i18n.lazy("Being sent back"),
    "succeeded": i18n.lazy("Sent back"),
}
GATEWAYS = {"sandbox": i18n.lazy("Sandbox gateway")}
# The journal's accounts; those of one supplier or leader end in ":<id>".
LEDGER_ACCOUNTS = {
    "gateway": i18n.lazy("Payment gateway"),
    "escrow": i18n.lazy("Escrow"),
    "refunds": i18n.lazy("Refunds owed to members"),
    "subsidy": i18n.lazy("Platform subsidy"),
    "platform_revenue": i18n.lazy("Platform revenue"),
    "supplier_payable": i18n.lazy("Owed to supplier"),
    "leader_frozen": i18n.lazy("Leader commission, frozen"),
    "leader_available": i18n.lazy("Leader commission, available"),
    "leader_withdrawing": i18n.lazy("Leader commission, being withdrawn"),
}

CAMPAIGN_STATUSES = {
    "active": i18n.lazy("Active"),
    "paused": i18n.lazy("Paused"),
    "ended": i18n.lazy("Ended"),
}
OPENER_PERKS = {
    "none": i18n.lazy("None"),
    "price": i18n.lazy("Opener price"),
    "free": i18n.lazy("Opener free"),
}


def _account_name(account: str) -> tuple[str, str]:
    """A journal account as (message id of its kind, the id of its owner or "")."""
    kind, _, owner = account.partition(":")
    return LEDGER_ACCOUNTS.get(kind, account), owner


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    return {
        "sections": SECTIONS,
        "order_statuses": ORDER_STATUSES,
        "order_kinds": ORDER_KINDS,
        "refund_reasons": REFUND_REASONS,
        "wave_statuses": WAVE_STATUSES,
        "item_statuses": ITEM_STATUSES,
        "line_statuses": LINE_STATUSES,
        "payment_statuses": PAYMENT_STATUSES,
        "refund_statuses": REFUND_STATUSES,
        "gateways": GATEWAYS,
        "account_name": _account_name,
        **values,
    }


def _refused(exc: DomainError) -> int:
    """A form's refusal: 409 for a conflict with the current state, else 400."""
    return 409 if exc.status == 409 else 400


def _done(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _save(
    request: Request, state: FormState, action: Callable[[Session], Any], done: str, field: str
) -> Response | None:
    """A form's change in one transaction: the way to ``done``, or None with the refusal
    next to ``field`` in ``state``."""
    try:
        run_in_transaction(action)
    except DomainError as exc:
        state.refuse(request, exc, field)
        return None
    return _done(done)


def age_text(request: Request, seconds: int | None) -> str:
    """How long something has waited, the largest two units ("2 d 3 h", "5 min")."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return translate(request, "%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return translate(request, "%(h)d h %(m)d min", h=hours, m=minutes)
    return translate(request, "%(m)d min", m=minutes)


# ---------------------------------------------------------------- the dashboard


def _chart(fig: go.Figure) -> Markup:
    """A figure's JSON for the page's script: ``<`` escaped, so no text can end the script."""
    return Markup(fig.to_json().replace("<", "\\u003c"))


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        margin={"l": 48, "r": 12, "t": 40, "b": 40},
        height=280,
        font={"family": "system-ui, sans-serif", "size": 12},
        paper_bgcolor="#fff",
        plot_bgcolor="#fff",
        legend={"orientation": "h", "y": -0.2},
        **kw,
    )
    return fig


def _charts(request: Request, d: analytics.Dashboard) -> dict[str, Markup]:
    t = lambda m: translate(request, m)  # noqa: E731
    # Days as "10-25" categories: Plotly's own date ticks ("Oct 25 2026") are English only.
    days = [x.strftime("%m-%d") for x in d.days]
    by_day = {"type": "category", "tickangle": 0, "automargin": True}
    gmv = go.Figure(
        go.Bar(
            x=days,
            y=[f / 100 for f in d.gmv],
            name=t("GMV"),
            marker_color="#e02e24",
            hovertemplate="%{x} · ¥%{y:,.2f}<extra></extra>",
        )
    )
    _layout(gmv, t("GMV per day (¥)"), xaxis=by_day, yaxis={"tickformat": ",.2f"})

    rates = go.Figure()
    for rows, name, colour in (
        (d.teams, t("Team success rate"), "#e02e24"),
        (d.waves, t("Wave confirmation rate"), "#1a7f37"),
    ):
        rates.add_trace(
            go.Scatter(
                x=days,
                y=[None if r.rate is None else round(r.rate * 100, 1) for r in rows],
                name=name,
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour},
                hovertemplate="%{x} · %{y}%",
            )
        )
    _layout(rates, t("Success rates per day, in percent"), xaxis=by_day, yaxis={"range": [0, 105]})

    def ranking(rows: list[analytics.Ranked], title: str, colour: str) -> go.Figure:
        names = [r.name for r in reversed(rows)]
        fig = go.Figure(
            go.Bar(
                x=[r.gmv / 100 for r in reversed(rows)],
                y=names,
                orientation="h",
                marker_color=colour,
            )
        )
        return _layout(fig, title, yaxis={"automargin": True})

    reasons = go.Figure(
        go.Bar(
            x=[t(REFUND_REASONS.get(r.reason, r.reason)) for r in d.refunds],
            y=[r.amount / 100 for r in d.refunds],
            marker_color="#b35c00",
        )
    )
    _layout(reasons, t("Refunds by reason (¥)"))
    return {
        "gmv": _chart(gmv),
        "rates": _chart(rates),
        "communities": _chart(ranking(d.top_communities, t("Top communities (¥)"), "#0b57d0")),
        "leaders": _chart(ranking(d.top_leaders, t("Top leaders (¥)"), "#6f42c1")),
        "refunds": _chart(reasons),
    }


@router.get("")
def dashboard(request: Request, who: PageOperator) -> Response:
    def load(session: Session) -> tuple[list[analytics.Queue], analytics.Dashboard]:
        return analytics.queues(session), analytics.dashboard(session)

    queues, d = read(load)
    queue_rows = [
        {
            "label": QUEUES[q.name][0],
            "href": QUEUES[q.name][1],
            "count": q.count,
            "age": age_text(request, q.oldest_age_seconds),
        }
        for q in queues
    ]
    return render(
        request,
        "operator/dashboard.html",
        _ctx(
            request,
            queues=queue_rows,
            d=d,
            charts=_charts(request, d),
            percent=analytics_rules.percent,
            active_days=[(day, g) for day, g in zip(d.days, d.gmv, strict=True) if g],
        ),
    )


# ---------------------------------------------------------------- leader applications


@router.get("/applications")
def applications(request: Request, who: PageOperator) -> Response:
    return _applications_page(request)


def _applications_page(
    request: Request, *, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    queue = read(
        lambda s: communities.application_queue(s, status=communities.ApplicationStatus.PENDING)
    )
    rows = [{"q": q, "age": age_text(request, q.age_seconds)} for q in queue]
    return render(
        request,
        "operator/applications.html",
        _ctx(request, rows=rows, form=form or FormState(), failed=failed),
        status_code=status,
    )


@router.post("/applications/{application_id}/approve")
def approve_application(
    application_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    try:
        run_in_transaction(
            lambda s: communities.approve_application(s, application_id, operator_id=who.user_id)
        )
    except DomainError as exc:
        state = FormState.of(form)
        state.refuse(request, exc)
        return _applications_page(request, form=state, failed=application_id, status=_refused(exc))
    return _done("/ops/applications")


@router.post("/applications/{application_id}/reject")
def reject_application(
    application_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    state = FormState.of(form)
    state.required(request, "reason")
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: communities.reject_application(
                s, application_id, operator_id=who.user_id, reason=state.text("reason")
            ),
            "/ops/applications",
            "reason",
        )
        if saved:
            return saved
    return _applications_page(request, form=state, failed=application_id, status=400)


# ---------------------------------------------------------------- suppliers


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
    status: int = 200,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        found = catalog.list_products(session)
        return {
            "suppliers": {s.id: s for s in catalog.list_suppliers(session)},
            "products": [(p, catalog.skus_of(session, p.id)) for p in found],
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
                (sku.id, f"{product.title} · {sku.name} · {fmt_money(sku.price)}")
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


# ---------------------------------------------------------------- orders and refunds


@router.get("/orders")
def order_list(
    request: Request, who: PageOperator, status: str = "", kind: str = "", page: int = 1
) -> Response:
    status = status if status in ORDER_STATUSES else ""
    kind = kind if kind in ORDER_KINDS else ""
    page = max(1, page)
    per_page = 50

    def load(session: Session) -> list[Any]:
        ids = analytics.find_orders(
            session,
            status=status or None,
            kind=kind or None,
            limit=per_page + 1,
            offset=(page - 1) * per_page,
        )
        return orders.get_many(session, ids)

    found = sorted(read(load), key=lambda o: -o.id)
    return render(
        request,
        "operator/orders.html",
        _ctx(
            request,
            orders=found[:per_page],
            more=len(found) > per_page,
            status=status,
            kind=kind,
            page=page,
        ),
    )


def _order_page(
    request: Request, order_id: int, form: FormState | None = None, status: int = 200
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        order = orders.get(session, order_id)
        user = accounts.get_user(session, order.user_id)
        lines: list[Any] = []
        if order.kind == "wave":
            info = pools.info_of(session, order.id)
            titles = {i.id: i.title for i in pools.items_of(session, info.wave_id)}
            lines = [
                (titles.get(line.item_id, ""), line) for line in pools.lines_of(session, order.id)
            ]
        return {
            "order": order,
            "member": communities.people(session, [user.id])[user.id],
            "payments": payments.payments_of(session, order.id),
            "refunds": orders.refunds_of(session, order.id),
            "legs": analytics.ledger_of_order(session, order.id),
            "lines": lines,
            "refundable": order.status in orders.MANUALLY_REFUNDABLE,
            "left": order.paid_amount
            + order.subsidy_amount
            - order.refunded_amount
            - order.released_amount,
        }

    data = read(load)
    if form is None:
        form = FormState()
    if not form.get("key"):
        form.values["key"] = once.new_key()
    return render(
        request, "operator/order.html", _ctx(request, **data, form=form), status_code=status
    )


@router.get("/orders/{order_id}")
def order_detail(order_id: int, request: Request, who: PageOperator) -> Response:
    return _order_page(request, order_id)


@router.post("/orders/{order_id}/refund")
def refund(order_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    """A manual refund; the form's one-time key makes a double submit refund once."""
    state = FormState.of(form)
    state.required(request, "note")
    amount = None
    if state.get("scope") != "full":
        amount = state.fen(request, "amount")
        if amount is not None and amount <= 0:
            state.add(request, "amount", "The amount must be more than zero")
    key = state.text("key")
    if not key:
        state.add(request, "_form", "This form has expired; reload the page and try again")
    if not state.ok:
        return _order_page(request, order_id, state, status=400)
    note = state.text("note")

    def work(session: Session) -> dict[str, Any]:
        row = orders.manual_refund(session, order_id=order_id, amount=amount, note=note)
        return {"refund_id": row.id}

    try:
        outcome = once.run(request, who, key, {"amount": amount, "note": note}, work)
    except DomainError as exc:
        state.refuse(request, exc, "amount")
        state.values["key"] = ""  # a corrected form is a new decision
        return _order_page(request, order_id, state, status=_refused(exc))
    if once.replayed_refusal(request, state, outcome):  # the same submit, refused the first time
        state.values["key"] = ""
        return _order_page(request, order_id, state, status=outcome.status_code)
    return _done(f"/ops/orders/{order_id}")


# ---------------------------------------------------------------- waves and purchase orders


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


# ---------------------------------------------------------------- withdrawals


def _withdrawals_page(
    request: Request, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    def load(session: Session) -> list[dict[str, Any]]:
        now = clock.now()
        rows = []
        for w in commission.withdrawals(session, status=commission.WithdrawalStatus.REQUESTED):
            leader = communities.get_leader(session, w.leader_id)
            rows.append(
                {
                    "w": w,
                    "leader": communities.people(session, [leader.user_id])[leader.user_id],
                    "age": int((now - w.created_at).total_seconds()),
                }
            )
        return rows

    rows = read(load)
    for row in rows:
        row["age"] = age_text(request, max(0, row["age"]))
    return render(
        request,
        "operator/withdrawals.html",
        _ctx(request, rows=rows, form=form or FormState(), failed=failed),
        status_code=status,
    )


@router.get("/withdrawals")
def withdrawals(request: Request, who: PageOperator) -> Response:
    return _withdrawals_page(request)


def _decide(
    request: Request,
    form: Any,
    item_id: int,
    action: Callable[[Session, FormState], Any],
    page: Callable[..., Response],
    done: str,
    *,
    needs_reason: bool,
) -> Response:
    state = FormState.of(form)
    if needs_reason:
        state.required(request, "reason")
    if state.ok:
        try:
            with unit_of_work() as session:
                action(session, state)
            return _done(done)
        except DomainError as exc:
            state.refuse(request, exc, "reason" if needs_reason else "_form")
    return page(request, form=state, failed=item_id, status=400)


@router.post("/withdrawals/{withdrawal_id}/approve")
def approve_withdrawal(
    withdrawal_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    return _decide(
        request,
        form,
        withdrawal_id,
        lambda s, _: commission.decide_withdrawal(
            s, withdrawal_id=withdrawal_id, operator_id=who.user_id, approve=True
        ),
        _withdrawals_page,
        "/ops/withdrawals",
        needs_reason=False,
    )


@router.post("/withdrawals/{withdrawal_id}/reject")
def reject_withdrawal(
    withdrawal_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    return _decide(
        request,
        form,
        withdrawal_id,
        lambda s, st: commission.decide_withdrawal(
            s,
            withdrawal_id=withdrawal_id,
            operator_id=who.user_id,
            approve=False,
            reason=st.text("reason"),
        ),
        _withdrawals_page,
        "/ops/withdrawals",
        needs_reason=True,
    )


# ---------------------------------------------------------------- after-sales


def _aftersales_page(
    request: Request, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    def load(session: Session) -> list[dict[str, Any]]:
        now = clock.now()
        cases = aftersales.queue(session, status=aftersales.CaseStatus.OPEN)
        who = communities.people(session, [c.user_id for c in cases])
        return [
            {
                "c": c,
                "member": who[c.user_id],
                "age": int((now - c.created_at).total_seconds()),
                "photos": len(aftersales.photos_of(session, c.id)),
            }
            for c in cases
        ]

    rows = read(load)
    for row in rows:
        row["age"] = age_text(request, max(0, row["age"]))
    return render(
        request,
        "operator/aftersales.html",
        _ctx(
            request,
            rows=rows,
            form=form or FormState(),
            failed=failed,
            kinds={
                "missing": i18n.lazy("Missing item"),
                "damaged": i18n.lazy("Damaged item"),
                "wrong": i18n.lazy("Wrong item"),
            },
        ),
        status_code=status,
    )


@router.get("/aftersales")
def aftersale_queue(request: Request, who: PageOperator) -> Response:
    return _aftersales_page(request)


@router.get("/aftersales/{case_id}/photos/{n}")
def aftersale_photo(case_id: int, n: int, request: Request, who: PageOperator) -> Response:
    """A photo the member sent with their case, to decide on it."""
    viewer = aftersales.Viewer(user_id=who.user_id, role=who.role)
    with unit_of_work(readonly=True) as session:
        data, content_type = aftersales.photo(session, viewer, case_id, n)
    return responses.private_image(data, content_type)


@router.post("/aftersales/{case_id}/accept")
def accept_case(case_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    viewer = aftersales.Viewer(user_id=who.user_id, role=who.role)
    return _decide(
        request,
        form,
        case_id,
        lambda s, _: aftersales.accept(s, case_id=case_id, viewer=viewer),
        _aftersales_page,
        "/ops/aftersales",
        needs_reason=False,
    )


@router.post("/aftersales/{case_id}/reject")
def reject_case(case_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    viewer = aftersales.Viewer(user_id=who.user_id, role=who.role)
    return _decide(
        request,
        form,
        case_id,
        lambda s, st: aftersales.reject(
            s, case_id=case_id, viewer=viewer, reason=st.text("reason")
        ),
        _aftersales_page,
        "/ops/aftersales",
        needs_reason=True,
    )
