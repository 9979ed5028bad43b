"""Flash sales (秒杀) on the pages: the members' slots (``/flash``), a slot with its checkout
(``/flash/{id}``), and the operator's slots (``/ops/flash``).

Buying goes through the same service as the API (``flashsales.buy``) with the form's one-time
key (:mod:`tuangou.web.once`), then to the pay page, as opening a team does; a slot this
process knows to be sold out is refused before any database work."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts.errors import AccountErrorCode
from tuangou.api.deps import screen
from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.db import read
from tuangou.core.errors import DomainError
from tuangou.core.money import fmt as fmt_money
from tuangou.flashsales import router as flash_api
from tuangou.flashsales import rules as flash_rules
from tuangou.flashsales import service as flash
from tuangou.web import i18n, once, session
from tuangou.web.errors import message as page_message
from tuangou.web.forms import FormState
from tuangou.web.pages import coupons as coupon_pages
from tuangou.web.pages.operator.common import _ctx, _save
from tuangou.web.pages.teambuy import _address_id, _checkout
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render

router = APIRouter()

STATES = {
    flash_rules.SlotState.UPCOMING: i18n.lazy("Starts soon"),
    flash_rules.SlotState.LIVE: i18n.lazy("On sale"),
    flash_rules.SlotState.SOLD_OUT: i18n.lazy("Sold out"),
    flash_rules.SlotState.OVER: i18n.lazy("Over"),
}
_ADDRESS_CODES = {AccountErrorCode.ADDRESS_REQUIRED, AccountErrorCode.ADDRESS_NOT_FOUND}


def _views(db: Session, slots: list[Any]) -> list[dict[str, Any]]:
    return flash_api.views(db, slots)


# ---------------------------------------------------------------- members


@router.get("/flash")
def slots_page(request: Request) -> Response:
    """Today's slots (those over included) and the coming days', with what is left."""
    session.require(request)
    today = clock.local_date(clock.now())

    def load(db: Session) -> list[dict[str, Any]]:
        found = flash.slots_for_members(db)
        views = _views(db, found)
        for slot, view in zip(found, views, strict=True):
            view["today"] = clock.local_date(slot.starts_at) == today
            view["starts"], view["ends"] = slot.starts_at, slot.ends_at
        return views

    return render(request, "member/flash.html", {"slots": read(load), "states": STATES})


def _slot_page(
    request: Request, slot_id: int, state: FormState | None = None, *, status_code: int = 200
) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        slot = flash.get_slot(db, slot_id)
        return {
            "slot": _views(db, [slot])[0],
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "mine": flash.usage_of(db, slot_id, who.user_id),
            **_checkout(request, db, who, f"/flash/{slot_id}"),
            **coupon_pages.checkout_choice(db, who, "flash", slot.price),
        }

    context = {
        **read(load),
        "states": STATES,
        "form": state or FormState.of(quantity="1"),
        "key": once.new_key(),
    }
    return render(request, "member/flash_slot.html", context, status_code=status_code)


@router.get("/flash/{slot_id}")
def slot_page(request: Request, slot_id: int) -> Response:
    return _slot_page(request, slot_id)


@router.post("/flash/{slot_id}/buy")
def buy(request: Request, slot_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    quantity = state.integer(request, "quantity", low=1) if state.text("quantity") else 1
    address_id = _address_id(request, state)
    coupon_id = coupon_pages.coupon_id_of(request, state)
    if not state.ok or quantity is None:
        return _slot_page(request, slot_id, state, status_code=400)
    try:
        refused = flash.refusal_from_memory(slot_id)
        if refused is not None:
            raise refused
        # After the sold-out answer from memory, in a transaction of its own (as the API).
        screen(request, type="order", actor=who.user_id, target=f"flash:{slot_id}", cookie=True)

        def work(db: Session) -> dict[str, Any]:
            bought = flash.buy(
                db,
                user_id=who.user_id,
                slot_id=slot_id,
                quantity=quantity,
                address_id=address_id,
                coupon_id=coupon_id,
            )
            return {"payment_id": bought.started.payment.id}

        body = {"quantity": quantity, "address_id": address_id, "coupon_id": coupon_id}
        done = once.do(request, who, state.get("key"), body, work)
    except DomainError as exc:
        if exc.code in _ADDRESS_CODES:
            state.errors.setdefault("address_id", page_message(request, exc))
        elif exc.extra.get("field") == "coupon_id":
            state.errors.setdefault("coupon_id", page_message(request, exc))
        else:
            state.refuse(request, exc, "quantity" if exc.extra.get("field") else "_form")
        return _slot_page(request, slot_id, state, status_code=exc.status)
    return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)


# ---------------------------------------------------------------- operators


def _ops_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(db: Session) -> dict[str, Any]:
        skus = [
            (sku.id, f"{catalog.goods_name(product.title, sku.name)} · {fmt_money(sku.price)}")
            for product in catalog.list_products(db)
            for sku in catalog.skus_of(db, product.id)
        ]
        found = flash.all_slots(db)
        views = flash_api.views(db, found, operator=True)
        for slot, view in zip(found, views, strict=True):
            view["starts"], view["ends"] = slot.starts_at, slot.ends_at
        return {"slots": views, "skus": skus}

    data = read(load)
    if form is None:
        tomorrow = clock.local_date(clock.now()) + timedelta(days=1)
        form = FormState(
            values={
                "day": tomorrow.isoformat(),
                "times": "10:00, 14:00, 20:00",
                "minutes": str(flash_rules.DEFAULT_MINUTES),
                "stock": "50",
                "per_order_cap": "1",
                "per_member_cap": "1",
                "hold_minutes": str(flash_rules.DEFAULT_HOLD_MINUTES),
            }
        )
    context = _ctx(
        request, **data, form=form, states=STATES, sku_options=[("", "—"), *data["skus"]]
    )
    return render(request, "operator/flash.html", context, status_code=status)


@router.get("/ops/flash")
def ops_slots(request: Request, who: PageOperator) -> Response:
    return _ops_page(request)


@router.post("/ops/flash")
def ops_create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "sku_id", "title", "price", "stock", "day", "times")
    sku_id = state.integer(request, "sku_id", low=1) if state.text("sku_id") else None
    price = state.fen(request, "price") if state.text("price") else None
    numbers = {
        name: state.integer(request, name, low=1) if state.text(name) else None
        for name in ("stock", "per_order_cap", "per_member_cap", "minutes", "hold_minutes")
    }
    day = None
    if state.text("day"):
        try:
            day = date.fromisoformat(state.text("day"))
        except ValueError:
            state.add(request, "day", "Enter a date")
    times = [t.strip() for t in state.text("times").replace("，", ",").split(",") if t.strip()]
    if not state.ok:
        return _ops_page(request, state, status=400)
    assert sku_id is not None and price is not None and day is not None
    data = flash.SlotsInput(
        sku_id=sku_id,
        title=state.text("title")[:200],
        price=price,
        stock=numbers["stock"] or 1,
        per_order_cap=numbers["per_order_cap"] or 1,
        per_member_cap=numbers["per_member_cap"] or 1,
        day=day,
        times=times,
        minutes=numbers["minutes"] or flash_rules.DEFAULT_MINUTES,
        hold_minutes=numbers["hold_minutes"] or flash_rules.DEFAULT_HOLD_MINUTES,
    )
    done = _save(request, state, lambda db: flash.create_slots(db, data), "/ops/flash", "sku_id")
    return done or _ops_page(request, state, status=400)
