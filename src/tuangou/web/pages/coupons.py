"""Coupon pages: the coupon centre (``/me/coupons/centre``: what each coupon costs in points,
what it gives and its conditions in plain words, and the button to buy it), 我的优惠券
(``/me/coupons``: available, used and expired, with when each expires), the operator's
catalogue (``/ops/coupons``: list, create, edit, pause), and the coupon choice the checkout
forms of team, wave, bargain and flash orders share (:func:`checkout_choice`,
:func:`coupon_id_of`). Each handler calls the same services as the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts.rules import may_buy
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.coupons import rules as coupon_rules
from tuangou.coupons import service as coupons
from tuangou.points import service as points
from tuangou.web import i18n, once
from tuangou.web.errors import message as page_message
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _done, _refused
from tuangou.web.session import Form, PageBuyer, PageOperator
from tuangou.web.templating import render

router = APIRouter()

KIND_NAMES = {
    "team": i18n.lazy("team buys"),
    "wave": i18n.lazy("pre-sale waves"),
    "bargain": i18n.lazy("bargains"),
    "flash": i18n.lazy("flash sales"),
}
TABS = (
    ("available", i18n.lazy("Available")),
    ("used", i18n.lazy("Used")),
    ("expired", i18n.lazy("Expired")),
)


# ---------------------------------------------------------------- at checkout


def checkout_choice(
    db: Session, who: Any, kind: str, list_amount: int | None = None
) -> dict[str, Any]:
    """What a checkout form shows: the member's level discount and the coupons they may
    choose (those that apply to ``kind``, and to ``list_amount`` when it is known)."""
    if who is None or not may_buy(who.role):
        return {"coupons_at_checkout": None}
    level = points.level_of(db, who.user_id)
    held = coupons.usable(db, user_id=who.user_id, kind=kind, list_amount=list_amount or 0)
    if list_amount is None:  # the amount is not known yet (a wave): any coupon of the kind
        held = [c for c in coupons.mine(db, who.user_id) if _open(c) and kind in c.kinds]
    quote = (
        coupons.quote(db, user_id=who.user_id, kind=kind, list_amount=list_amount)
        if list_amount
        else None
    )
    return {
        "coupons_at_checkout": {
            "level": level.name,
            "level_bps": level.discount_bps,
            "coupons": held,
            "quote": quote,
            "kind_names": KIND_NAMES,
        }
    }


def _open(c: Any) -> bool:
    return coupons.shown_status(c) == coupon_rules.Status.AVAILABLE


def coupon_id_of(request: Request, state: FormState) -> int | None:
    """The coupon chosen in a checkout form (None: none)."""
    if not state.text("coupon_id"):
        return None
    return state.integer(request, "coupon_id", low=1, high=2**31 - 1)


# ---------------------------------------------------------------- members


def _centre(request: Request, who: Any, *, error: str = "", status_code: int = 200) -> Response:
    def load(db: Session) -> dict[str, Any]:
        return {
            "offers": coupons.catalogue(db, on_offer=True),
            "balance": points.balance_of(db, who.user_id),
        }

    context = {
        **read(load),
        "kind_names": KIND_NAMES,
        "key": once.new_key(),
        "error": error,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "member/coupons/centre.html", context, status_code=status_code)


@router.get("/me/coupons/centre")
def centre(request: Request, who: PageBuyer) -> Response:
    return _centre(request, who)


@router.post("/me/coupons/centre/{coupon_id}/buy")
def buy(coupon_id: int, request: Request, form: Form, who: PageBuyer) -> Response:
    state = FormState.of(form)
    key = state.text("key")[:64] or once.new_key()
    try:
        run_in_transaction(
            lambda db: coupons.buy(db, user_id=who.user_id, coupon_id=coupon_id, key=key)
        )
    except DomainError as exc:
        return _centre(request, who, error=page_message(request, exc), status_code=exc.status)
    return RedirectResponse("/me/coupons?done=bought", status_code=303)


@router.get("/me/coupons")
def mine(request: Request, who: PageBuyer) -> Response:
    tab = request.query_params.get("tab", "available")
    tab = tab if tab in {t for t, _ in TABS} else "available"

    def load(db: Session) -> list[tuple[Any, str]]:
        return [(c, coupons.shown_status(c)) for c in coupons.mine(db, who.user_id)]

    held = read(load)
    counts = {t: sum(1 for _, s in held if s == t) for t, _ in TABS}
    context = {
        "coupons": [c for c, s in held if s == tab],
        "tab": tab,
        "tabs": TABS,
        "counts": counts,
        "kind_names": KIND_NAMES,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "member/coupons/mine.html", context)


# ---------------------------------------------------------------- operators

_FIELDS = (
    "name",
    "form",
    "amount",
    "percent",
    "cap",
    "min_spend",
    "points_price",
    "valid_until",
    "valid_days",
    "stock",
    "per_member_limit",
)


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


def _form_of(c: Any | None) -> FormState:
    if c is None:
        return FormState(
            values={
                "form": "fixed",
                "valid_days": "30",
                "stock": "100",
                "per_member_limit": "1",
                "kind_wave": "on",
            }
        )
    values: dict[str, Any] = {
        "name": c.name,
        "form": c.form,
        "amount": _yuan(c.amount) if c.form == "fixed" else "",
        "percent": f"{c.percent_bps / 100:g}" if c.form == "percent" else "",
        "cap": _yuan(c.cap),
        "min_spend": _yuan(c.min_spend),
        "points_price": str(c.points_price),
        "valid_until": (
            clock.local_date(c.valid_until - timedelta(seconds=1)).isoformat()
            if c.valid_until
            else ""
        ),
        "valid_days": "" if c.valid_days is None else str(c.valid_days),
        "stock": str(c.stock),
        "per_member_limit": str(c.per_member_limit),
    }
    for kind in c.kinds.split(","):
        values[f"kind_{kind}"] = "on"
    return FormState(values=values)


def _data_of(request: Request, state: FormState, active: bool) -> coupons.CouponData | None:
    state.required(request, "name", "points_price", "stock", "per_member_limit")
    state.at_most(request, "name", 60)
    form = state.text("form") if state.text("form") in ("fixed", "percent") else "fixed"
    amount = state.fen(request, "amount") if form == "fixed" else 0
    bps = 0
    cap = None
    if form == "percent":
        raw = state.text("percent")
        try:
            bps = round(float(raw) * 100)
        except ValueError:
            state.add(request, "percent", "Enter a whole number")
        cap = state.fen(request, "cap", required=False)
    min_spend = state.fen(request, "min_spend", required=False) or 0
    price = state.integer(request, "points_price", low=1, high=10_000_000)
    stock = state.integer(request, "stock", low=0, high=10_000_000)
    limit = state.integer(request, "per_member_limit", low=1, high=1000)
    days = (
        state.integer(request, "valid_days", low=1, high=3660) if state.text("valid_days") else None
    )
    until: datetime | None = None
    if state.text("valid_until"):
        try:
            day = datetime.strptime(state.text("valid_until"), "%Y-%m-%d").date()
            until = clock.local_midnight(day + timedelta(days=1))
        except ValueError:
            state.add(request, "valid_until", "Enter a date")
    if until is None and days is None and "valid_days" not in state.errors:
        state.add(request, "valid_days", "Fill this in")
    kinds = tuple(k for k in coupon_rules.ORDER_KINDS if state.text(f"kind_{k}"))
    if not kinds:
        state.add(request, "kinds", "Choose at least one")
    if not state.ok or amount is None or price is None or stock is None or limit is None:
        return None
    return coupons.CouponData(
        name=state.text("name"),
        form=form,
        amount=amount,
        percent_bps=bps,
        cap=cap,
        min_spend=min_spend,
        points_price=price,
        kinds=kinds,
        valid_until=until,
        valid_days=days,
        stock=stock,
        per_member_limit=limit,
        active=active,
    )


def _ops_page(
    request: Request, form: FormState | None = None, editing: Any = None, status: int = 200
) -> Response:
    found = read(lambda db: coupons.catalogue(db))
    return render(
        request,
        "operator/coupons/list.html",
        _ctx(
            request,
            coupons=found,
            form=form or _form_of(editing),
            editing=editing,
            kinds=[(k, KIND_NAMES[k]) for k in coupon_rules.ORDER_KINDS],
            kind_names=KIND_NAMES,
        ),
        status_code=status,
    )


@router.get("/ops/coupons")
def ops_coupons(request: Request, who: PageOperator) -> Response:
    return _ops_page(request)


@router.get("/ops/coupons/{coupon_id}")
def ops_coupon(coupon_id: int, request: Request, who: PageOperator) -> Response:
    coupon = read(lambda db: coupons.get(db, coupon_id))
    return _ops_page(request, editing=coupon)


@router.post("/ops/coupons")
def ops_create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    data = _data_of(request, state, True)
    if data is None:
        return _ops_page(request, form=state, status=400)
    try:
        run_in_transaction(lambda db: coupons.create(db, data))
    except DomainError as exc:
        state.refuse(request, exc)
        return _ops_page(request, form=state, status=_refused(exc))
    return _done("/ops/coupons")


@router.post("/ops/coupons/{coupon_id}")
def ops_edit(coupon_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    coupon = read(lambda db: coupons.get(db, coupon_id))
    state = FormState.of(form)
    data = _data_of(request, state, coupon.active)
    if data is None:
        return _ops_page(request, form=state, editing=coupon, status=400)
    try:
        run_in_transaction(lambda db: coupons.edit(db, coupon_id, data))
    except DomainError as exc:
        state.refuse(request, exc)
        return _ops_page(request, form=state, editing=coupon, status=_refused(exc))
    return _done("/ops/coupons")


@router.post("/ops/coupons/{coupon_id}/status")
def ops_status(coupon_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    active = FormState.of(form).text("active") == "1"
    run_in_transaction(lambda db: coupons.set_active(db, coupon_id, active))
    return _done("/ops/coupons")
