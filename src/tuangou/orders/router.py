from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, IdemKey, Member, Operator, SupplierStaff, idempotent
from tuangou.api.responses import next_page
from tuangou.core.db import unit_of_work
from tuangou.core.paging import MAX_CURSOR
from tuangou.core.schemas import BIGGEST
from tuangou.orders import rules, schemas
from tuangou.orders import service as orders
from tuangou.orders.schemas import OrderOut
from tuangou.payments import service as payments
from tuangou.payments.schemas import PaymentOut, StartedPaymentOut
from tuangou.teams import service as teams

router = APIRouter(tags=["orders"])
# A page of a list: at most 200 rows.
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=BIGGEST, deprecated=True)]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR, description="the X-Next-Cursor of the page before"),
]


def _naive_utc(moment: datetime | None) -> datetime | None:
    """A filter's instant as the database keeps it: naive UTC (a naive one is taken as UTC)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def language(request: Request | None) -> str:
    """The language of a reply's words (``display_label``): English for an Accept-Language
    that starts with en, else Chinese (as the inbox's replies)."""
    accept = request.headers.get("accept-language", "") if request is not None else ""
    return "en" if accept.strip().lower().startswith("en") else "zh-CN"


def state_facts(session: Session, found: list[Any]) -> dict[int, dict[str, Any]]:
    """What each order's kind adds (a team order's team), and what the state a member reads
    on it comes from (:func:`rules.display_status`): its team's status, and for an unpaid
    order whether the gateway has charged it already (支付确认中)."""
    facts = orders.facts(session, found)
    for o in found:
        known = facts[o.id]
        team_id = known.get("team_id")
        if o.kind == "team" and team_id is not None:
            known["team_status"] = str(teams.get_team(session, team_id).status)
        if o.status == rules.OrderStatus.PENDING_PAYMENT:
            known["confirming"] = payments.in_flight(session, o.id) is not None
    return facts


def full_view(
    session: Session, order: Any, lang: str = "zh-CN", viewer_id: int | None = None
) -> OrderOut:
    """An order as a reply; a ``viewer_id`` other than its buyer's sees the phone masked."""
    return OrderOut.of(
        order,
        facts=state_facts(session, [order])[order.id],
        refunds=orders.refunds_of(session, order.id),
        payments=[PaymentOut.of(p) for p in payments.payments_of(session, order.id)],
        lang=lang,
        full_phone=viewer_id is None or viewer_id == order.user_id,
    )


def view(
    session: Session, order: Any, lang: str = "zh-CN", viewer_id: int | None = None
) -> OrderOut:
    return views(session, [order], lang, viewer_id)[0]


def views(
    session: Session, found: list[Any], lang: str = "zh-CN", viewer_id: int | None = None
) -> list[OrderOut]:
    """Orders as replies, with what their kinds add (a team order's team) and the state a
    member reads on each, in ``lang``; a ``viewer_id`` other than the buyer's sees the
    address's phone masked."""
    facts = state_facts(session, found)
    return [
        OrderOut.of(
            o,
            facts=facts[o.id],
            lang=lang,
            full_phone=viewer_id is None or viewer_id == o.user_id,
        )
        for o in found
    ]


@router.get("/orders")
def my_orders(
    request: Request,
    response: Response,
    who: Member,
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = 0,
) -> list[OrderOut]:
    """Your orders, newest first. Page with ``cursor`` (the ``X-Next-Cursor`` header of the
    page before; ``Link: rel="next"`` holds the whole URL); ``offset`` is kept for old
    clients and costs more the deeper it goes."""
    with unit_of_work(readonly=True) as session:
        if offset:
            found = orders.list_for_user(session, who.user_id, limit=limit, offset=offset)
        else:
            found, after = orders.page_for_user(session, who.user_id, cursor=cursor, limit=limit)
            next_page(request, response, after)
        return views(session, found, language(request))


@router.get("/orders/{order_id}")
def get_order(order_id: int, request: Request, who: Caller) -> OrderOut:
    """An order: its buyer's, any supplier's staff for that supplier's, any operator's."""
    with unit_of_work(readonly=True) as session:
        order = orders.get(session, order_id)
        if who.role == "operator":
            pass
        elif who.role == "supplier":
            if order.supplier_id != who.supplier_id:
                raise orders.errors.NotYourOrder()
        elif order.user_id != who.user_id:
            raise orders.errors.NotYourOrder()
        return full_view(session, order, language(request), viewer_id=who.user_id)


@router.post("/orders/{order_id}/payments", status_code=201, response_model=StartedPaymentOut)
def pay_again(order_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """A new payment attempt for an unpaid order (after a decline, say)."""

    def work(session: Session) -> dict[str, Any]:
        started = payments.start_for_user(session, user_id=who.user_id, order_id=order_id)
        return StartedPaymentOut.model_construct(
            payment=PaymentOut.of(started.payment), pay_url=started.pay_url
        ).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work, status_code=201)


@router.post("/orders/{order_id}/cancel")
def cancel(order_id: int, request: Request, who: Member) -> OrderOut:
    with unit_of_work() as session:
        return view(
            session,
            orders.cancel(session, user_id=who.user_id, order_id=order_id),
            language(request),
        )


@router.post("/orders/{order_id}/confirm-receipt")
def confirm_receipt(order_id: int, request: Request, who: Member) -> OrderOut:
    """The member got the goods: the money leaves escrow for the supplier."""
    with unit_of_work() as session:
        return view(
            session,
            orders.confirm_receipt(session, user_id=who.user_id, order_id=order_id),
            language(request),
        )


@router.get("/supplier/orders", tags=["supplier"])
def supplier_orders(
    request: Request,
    response: Response,
    who: SupplierStaff,
    status: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = 0,
) -> list[OrderOut]:
    assert who.supplier_id is not None
    with unit_of_work(readonly=True) as session:
        if offset:
            found = orders.list_all(
                session, supplier_id=who.supplier_id, status=status, limit=limit, offset=offset
            )
        else:
            where = orders.OrderFilter(status=status, supplier_id=who.supplier_id)
            found, after = orders.page_all(session, where, cursor=cursor, limit=limit)
            next_page(request, response, after)
        return views(session, found, language(request), viewer_id=who.user_id)


@router.post("/supplier/orders/{order_id}/ship", tags=["supplier"])
def ship(order_id: int, body: schemas.ShipIn, request: Request, who: SupplierStaff) -> OrderOut:
    assert who.supplier_id is not None
    with unit_of_work() as session:
        return view(
            session,
            orders.ship(
                session,
                supplier_id=who.supplier_id,
                order_id=order_id,
                carrier=body.carrier,
                tracking_no=body.tracking_no,
            ),
            language(request),
            viewer_id=who.user_id,
        )


@router.get("/admin/orders", tags=["operator: orders"])
def all_orders(
    request: Request,
    response: Response,
    who: Operator,
    status: str | None = None,
    kind: str | None = Query(default=None, max_length=16),
    campaign_id: int | None = None,
    team_id: int | None = None,
    supplier_id: int | None = None,
    user_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = 0,
) -> list[OrderOut]:
    """Every order, newest first, filtered by status, kind, campaign, team, supplier, buyer
    and creation time (``created_from`` ≤ t < ``created_to``), paged by ``cursor``."""
    with unit_of_work(readonly=True) as session:
        order_ids = None if team_id is None else teams.order_ids_of_team(session, team_id)
        if offset:
            found = orders.list_all(
                session,
                status=status,
                campaign_id=campaign_id,
                order_ids=order_ids,
                limit=limit,
                offset=offset,
            )
        else:
            where = orders.OrderFilter(
                status=status,
                kind=kind,
                campaign_id=campaign_id,
                supplier_id=supplier_id,
                user_id=user_id,
                order_ids=order_ids,
                created_from=_naive_utc(created_from),
                created_to=_naive_utc(created_to),
            )
            found, after = orders.page_all(session, where, cursor=cursor, limit=limit)
            next_page(request, response, after)
        return views(session, found, language(request), viewer_id=who.user_id)


@router.post(
    "/admin/orders/{order_id}/refund",
    tags=["operator: orders"],
    status_code=201,
    response_model=schemas.RefundedOrderOut,
)
def refund(
    order_id: int, body: schemas.RefundIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        row = orders.manual_refund(session, order_id=order_id, amount=body.amount, note=body.note)
        return schemas.RefundedOrderOut.model_construct(
            refund=schemas.RefundOut.of(row),
            order=full_view(session, orders.get(session, order_id), language(request)),
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)
