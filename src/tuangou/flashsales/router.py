"""Flash sales over HTTP: the members' slots and purchase, the operator's slots.

A purchase is the hot path of a sale. What this process knows without the database
(:func:`service.refusal_from_memory`: a slot seen sold out, not started, over) is answered by
the API's gate (``api.gate.RefusalGate``; the route is registered here with
``core.soldout.gate_route``), in front of the routing, once the caller's token shows a member
(the same check as the route's); anything else reaches the route, which asks the memory again
and runs the purchase through group commit, once per ``Idempotency-Key``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.api.deps import Caller, IdemKey, Member, Operator, idempotent_grouped, screen
from tuangou.api.errors import problem
from tuangou.catalog import service as catalog
from tuangou.core import soldout
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.flashsales import schemas
from tuangou.flashsales import service as flash
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut

router = APIRouter(tags=["flash sales"])
_BUY = r"^/api/flash/([0-9]{1,10})/buy$"


def _refusal(match: re.Match[str], _body: dict[str, Any]) -> DomainError | None:
    return flash.refusal_from_memory(int(match.group(1)))


# The API's gate (``api.gate.RefusalGate``) answers a purchase this process can refuse from
# memory before the routing.
soldout.gate_route("POST", _BUY, _refusal)


def views(session: Session, slots: list[Any], *, operator: bool = False) -> list[dict[str, Any]]:
    """Slots as replies, each SKU's product read once."""
    products: dict[int, tuple[dict[str, Any], int]] = {}
    found = []
    for slot in slots:
        if slot.sku_id not in products:
            products[slot.sku_id] = (
                catalog.sku_summary(session, slot.sku_id),
                catalog.get_sku(session, slot.sku_id).price,
            )
        product, price = products[slot.sku_id]
        found.append(
            schemas.slot_view(slot, product=product, original_price=price, operator=operator)
        )
    return found


@router.post("/flash/{slot_id}/buy", status_code=201, response_model=schemas.PurchaseOut)
async def buy(
    slot_id: int, body: schemas.BuyIn, request: Request, who: Member, key: IdemKey = None
) -> Response:
    """Buy in a flash slot: the order (held for the slot's ``hold_minutes``) and its payment.
    Refusals: ``sold_out``, ``limit_reached`` (per order or per member), ``not_started``,
    ``over``; a sold-out slot is refused from memory, without touching the database. The
    risk engine may refuse the purchase (``risk_refused``)."""
    # A keyed request may retry one that succeeded: only the idempotent path can replay it.
    refused = flash.refusal_from_memory(slot_id) if key is None else None
    if refused is not None:
        return problem(
            refused.status, refused.code, refused.title, refused.detail, instance=request.url.path
        )
    # After the sold-out answer from memory (which stays free of database work), and in a
    # transaction of its own: the slot's lock is not held while the engine judges.
    await run_in_threadpool(
        lambda: screen(request, type="order", actor=who.user_id, target=f"flash:{slot_id}")
    )
    address = body.address.model_dump() if body.address else None

    def work(session: Session) -> dict[str, Any]:
        bought = flash.buy(
            session,
            user_id=who.user_id,
            slot_id=slot_id,
            quantity=body.quantity,
            address=address,
            address_id=body.address_id,
            coupon_id=body.coupon_id,
        )
        return schemas.PurchaseOut.model_construct(
            slot_id=bought.slot.id,
            order=OrderOut.of(bought.order),
            payment=PaymentOut.of(bought.started.payment),
            pay_url=bought.started.pay_url,
        ).model_dump()

    return await idempotent_grouped(
        request, who=who, key=key, body=body.model_dump(), work=work, status_code=201
    )


@router.get("/flash", response_model=list[schemas.SlotOut])
def slots(who: Caller) -> list[dict[str, Any]]:
    """Today's flash slots (those over included) and the next week's, by start."""
    with unit_of_work(readonly=True) as session:
        return views(session, flash.slots_for_members(session))


@router.get("/flash/{slot_id}", response_model=schemas.SlotOut)
def slot(slot_id: int, who: Caller) -> dict[str, Any]:
    with unit_of_work(readonly=True) as session:
        return views(session, [flash.get_slot(session, slot_id)])[0]


@router.post(
    "/admin/flash",
    status_code=201,
    tags=["operator: flash sales"],
    response_model=list[schemas.SlotAdminOut],
)
def create_slots(body: schemas.SlotsIn, who: Operator) -> list[dict[str, Any]]:
    """Slots of a SKU on a day (e.g. 10:00, 14:00, 20:00), each allocating its stock."""

    def work(session: Session) -> list[dict[str, Any]]:
        made = flash.create_slots(session, flash.SlotsInput(**body.model_dump()))
        return views(session, made, operator=True)

    return run_in_transaction(work)


@router.get(
    "/admin/flash", tags=["operator: flash sales"], response_model=list[schemas.SlotAdminOut]
)
def all_slots(who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return views(session, flash.all_slots(session), operator=True)
