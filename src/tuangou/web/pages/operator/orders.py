"""Orders, manual refunds, and the after-sale queue."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.accounts import rules as account_rules
from tuangou.accounts import service as accounts
from tuangou.aftersales import service as aftersales
from tuangou.analytics import service as analytics
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import read, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.pools import service as pools
from tuangou.web import i18n, once, responses
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import (
    ORDER_KINDS,
    ORDER_STATUSES,
    _ctx,
    _decide,
    _done,
    _refused,
    age_text,
)
from tuangou.web.session import Form, PageOperator, current
from tuangou.web.templating import render

router = APIRouter(prefix="/ops")
NOTE_MAX = 500  # a refund's reason, as the API takes it


@router.get("/orders")
def order_list(
    request: Request,
    who: PageOperator,
    status: str = "",
    kind: str = "",
    community: str = "",
    product: str = "",
    q: str = "",
    page: int = 1,
) -> Response:
    status = status if status in ORDER_STATUSES else ""
    kind = kind if kind in ORDER_KINDS else ""
    community_id = int(community) if community.isdigit() else None
    product_id = int(product) if product.isdigit() else None
    q = q.strip()[:64]
    page = max(1, page)
    per_page = 50

    def load(session: Session) -> tuple[list[analytics.DeskOrder], Any]:
        found = analytics.find_orders(
            session,
            status=status or None,
            kind=kind or None,
            community_id=community_id,
            product_id=product_id,
            search=q,
            limit=per_page + 1,
            offset=(page - 1) * per_page,
        )
        return found, analytics.order_filters(session)

    found, (community_choices, product_choices) = read(load)
    filters = {
        "status": status,
        "kind": kind,
        "community": community_id or "",
        "product": product_id or "",
        "q": q,
    }
    return render(
        request,
        "operator/orders.html",
        _ctx(
            request,
            orders=found[:per_page],
            more=len(found) > per_page,
            communities=community_choices,
            products=product_choices,
            filters=filters,
            filtered=any(filters.values()),
            query=lambda **change: urlencode({**filters, **change}),
            mask_phone=account_rules.mask_phone,
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
    state.at_most(request, "note", NOTE_MAX)
    # Money leaves for good: the operator ticks that they mean it (no script needed).
    if state.get("confirm") != "yes":
        state.add(request, "confirm", "Tick the box to confirm the refund")
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
    return _done(f"/ops/orders/{order_id}", "refunded")


# ---------------------------------------------------------------- after-sales


def _aftersales_page(
    request: Request, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    me = current(request)
    viewer = aftersales.Viewer(user_id=me.user_id if me else 0, role=me.role if me else "")

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
                # Nobody decides a case they filed: another operator does.
                "decidable": aftersales.can_decide(session, c, viewer),
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
        message="accepted",
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
        message="rejected",
    )
