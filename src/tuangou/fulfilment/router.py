from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.api.deps import Caller, IdemKey, Operator, SupplierStaff, idempotent
from tuangou.core.db import unit_of_work
from tuangou.fulfilment import errors, rules, schemas
from tuangou.fulfilment import service as fulfilment
from tuangou.orders.schemas import OrderOut

router = APIRouter(tags=["wave fulfilment"])


# ---------------------------------------------------------------- suppliers


@router.post(
    "/supplier/waves/{wave_id}/shipments", tags=["supplier"], response_model=schemas.ShipmentsOut
)
def ship(
    wave_id: int, body: schemas.ShipIn, request: Request, who: SupplierStaff, key: IdemKey = None
) -> JSONResponse:
    """Mark a settled wave's goods sent to some pickup points (``null``: to all of them)."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id

    def work(session: Session) -> dict[str, Any]:
        done = fulfilment.ship(
            session,
            wave_id=wave_id,
            supplier_id=supplier_id,
            user_id=who.user_id,
            pickup_point_ids=body.pickup_point_ids,
            carrier=body.carrier,
            tracking_no=body.tracking_no,
        )
        return schemas.ShipmentsOut.model_construct(
            wave_id=wave_id, shipments=[schemas.ShippedOut.of(s) for s in done]
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get(
    "/supplier/waves/{wave_id}/shipments",
    tags=["supplier"],
    response_model=list[schemas.ShipmentOut],
)
def shipments(wave_id: int, who: Caller) -> list[dict[str, Any]]:
    """Where the wave's goods are, per pickup point: shipped, received, or refunded."""
    limit = fulfilment.require_operator_or_supplier(who.role, who.supplier_id)
    with unit_of_work(readonly=True) as session:
        return fulfilment.shipments(session, wave_id=wave_id, supplier_id=limit)


@router.get(
    "/supplier/waves/{wave_id}/manifests/{pickup_point_id}",
    tags=["supplier"],
    response_model=schemas.ManifestOut,
)
def manifest(wave_id: int, pickup_point_id: int, who: Caller) -> dict[str, Any]:
    """The delivery manifest of one pickup point: each order's 跟团号, masked name, items and
    remark, and the totals to unload there."""
    limit = fulfilment.require_operator_or_supplier(who.role, who.supplier_id)
    with unit_of_work(readonly=True) as session:
        return fulfilment.manifest(
            session, wave_id=wave_id, pickup_point_id=pickup_point_id, supplier_id=limit
        )


@router.get(
    "/supplier/waves/{wave_id}/tracking",
    tags=["supplier"],
    response_model=list[schemas.TrackingOut],
)
def wave_tracking(wave_id: int, who: Caller) -> list[dict[str, Any]]:
    """Delivery tracking of each pickup point of the wave (已发货 → 运输中 → 已到达)."""
    limit = fulfilment.require_operator_or_supplier(who.role, who.supplier_id)
    with unit_of_work(readonly=True) as session:
        return fulfilment.wave_tracking(session, wave_id=wave_id, supplier_id=limit)


def _tracking_of(session: Session, wave_id: int, point_id: int, limit: int | None) -> Any:
    rows = fulfilment.wave_tracking(session, wave_id=wave_id, supplier_id=limit)
    return next(r for r in rows if r["pickup_point_id"] == point_id)


@router.put(
    "/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking",
    tags=["supplier"],
    response_model=schemas.TrackingOut,
)
def set_tracking_number(
    wave_id: int,
    pickup_point_id: int,
    body: schemas.TrackingNumberIn,
    request: Request,
    who: SupplierStaff,
    key: IdemKey = None,
) -> JSONResponse:
    """Name or correct the carrier and tracking number of goods shipped to a pickup point,
    until they arrived."""
    assert who.supplier_id is not None  # staff of one supplier: never an operator's reach
    limit: int = who.supplier_id

    def work(session: Session) -> dict[str, Any]:
        fulfilment.set_tracking_number(
            session,
            wave_id=wave_id,
            pickup_point_id=pickup_point_id,
            supplier_id=limit,
            carrier=body.carrier,
            tracking_no=body.tracking_no,
        )
        return dict(_tracking_of(session, wave_id, pickup_point_id, limit))

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.post(
    "/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps",
    tags=["supplier"],
    response_model=schemas.TrackingOut,
)
def move_tracking(
    wave_id: int,
    pickup_point_id: int,
    body: schemas.TrackingStepIn,
    request: Request,
    who: SupplierStaff,
    key: IdemKey = None,
) -> JSONResponse:
    """Move the shipment by hand to a later step (运输中, 已到达): forward only, 409
    ``tracking_step_not_forward`` otherwise; 409 ``shipment_not_shipped`` before shipping."""
    assert who.supplier_id is not None  # staff of one supplier: never an operator's reach
    return _move(wave_id, pickup_point_id, body, request, who, key, who.supplier_id)


def _move(
    wave_id: int,
    pickup_point_id: int,
    body: schemas.TrackingStepIn,
    request: Request,
    who: Any,
    key: str | None,
    limit: int | None,
) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        fulfilment.move_tracking(
            session,
            wave_id=wave_id,
            pickup_point_id=pickup_point_id,
            supplier_id=limit,
            user_id=who.user_id,
            to=body.status,
            note=body.note,
        )
        return dict(_tracking_of(session, wave_id, pickup_point_id, limit))

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


# ---------------------------------------------------------------- leaders


@router.post(
    "/leader/waves/{wave_id}/pickup-points/{pickup_point_id}/receive",
    tags=["leaders"],
    response_model=schemas.ReceivedOut,
)
def receive(
    wave_id: int, pickup_point_id: int, request: Request, who: Caller, key: IdemKey = None
) -> JSONResponse:
    """Confirm the wave's goods arrived at your pickup point: each member gets a pickup code."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.ReceivedOut.of(
            fulfilment.receive(
                session, user_id=who.user_id, wave_id=wave_id, pickup_point_id=pickup_point_id
            )
        ).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)


@router.post("/leader/pickups/verify", tags=["leaders"], response_model=schemas.VerifiedOut)
def verify(body: schemas.VerifyIn, request: Request, who: Caller, key: IdemKey = None) -> Any:
    """Verify a member's pickup code at the counter (核销): 200 ``valid`` completes the order;
    409 ``pickup_code_used`` (with when), 409 ``wrong_pickup_point``, 404 ``pickup_code_unknown``.
    """

    def work(session: Session) -> dict[str, Any]:
        return schemas.VerifiedOut.of(
            fulfilment.verify(
                session,
                user_id=who.user_id,
                pickup_point_id=body.pickup_point_id,
                code=body.code,
                wave_id=body.wave_id,
            )
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.post(
    "/leader/pickup-points/{pickup_point_id}/scan",
    tags=["leaders"],
    response_model=schemas.ScannedOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/jpeg", "image/png", "image/webp")
            },
        }
    },
)
async def scan(
    pickup_point_id: int,
    request: Request,
    who: Caller,
    key: IdemKey = None,
    wave_id: int | None = None,
) -> JSONResponse:
    """Verify a pickup code from a picture of the member's QR (raw body: one JPEG, PNG or
    WebP camera frame, ≤ 2 MB), decoded on the server: then exactly as ``verify``. 422
    ``pickup_scan_unreadable`` when no QR could be read, ``pickup_scan_invalid`` for a body
    that is no such picture."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > rules.SCAN_MAX_BYTES:
        raise errors.PickupScanInvalid(field="image")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > rules.SCAN_MAX_BYTES:
            raise errors.PickupScanInvalid(field="image")
    image = bytes(data)

    def work(session: Session) -> dict[str, Any]:
        code, verified = fulfilment.verify_scan(
            session,
            user_id=who.user_id,
            pickup_point_id=pickup_point_id,
            image=image,
            wave_id=wave_id,
        )
        return schemas.ScannedOut.read(code, verified).model_dump()

    body = {
        "pickup_point_id": pickup_point_id,
        "wave_id": wave_id,
        "image_sha256": hashlib.sha256(image).hexdigest(),
    }
    reply: JSONResponse = await run_in_threadpool(
        lambda: idempotent(request, who=who, key=key, body=body, work=work)
    )
    return reply


@router.get(
    "/leader/pickup-points/{pickup_point_id}/lookup",
    tags=["leaders"],
    response_model=schemas.PickupLookupOut,
)
def lookup(
    pickup_point_id: int,
    who: Caller,
    phone_tail: str = Query(max_length=8, description="the last 4 digits of the phone"),
    name: str = Query(default="", max_length=rules.LOOKUP_NAME_MAX),
) -> dict[str, Any]:
    """For a member who lost their code: the orders waiting here whose member's phone ends in
    ``phone_tail`` and whose name contains ``name``; hand one over with ``hand-over``."""
    with unit_of_work(readonly=True) as session:
        rows = fulfilment.lookup(
            session,
            user_id=who.user_id,
            pickup_point_id=pickup_point_id,
            phone_tail=phone_tail,
            name=name,
        )
    return {
        "pickup_point_id": pickup_point_id,
        "phone_tail": phone_tail,
        "name": name,
        "rows": rows,
    }


@router.post("/leader/pickups/hand-over", tags=["leaders"], response_model=schemas.VerifiedOut)
def hand_over(body: schemas.HandOverIn, request: Request, who: Caller, key: IdemKey = None) -> Any:
    """Hand over an order chosen from a lookup (the member lost their code): verified as its
    code would be, recorded as handed over by lookup. 404 ``pickup_not_found`` for an order
    not waiting at this pickup point."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.VerifiedOut.of(
            fulfilment.hand_over_found(
                session,
                user_id=who.user_id,
                pickup_point_id=body.pickup_point_id,
                order_id=body.order_id,
            )
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get(
    "/leader/pickup-points/{pickup_point_id}/pickups",
    tags=["leaders"],
    response_model=schemas.PickupListOut,
)
def pickup_list(pickup_point_id: int, who: Caller, wave_id: int | None = None) -> dict[str, Any]:
    """The counter's list: collected and still uncollected (masked names, last 4 phone digits)."""
    with unit_of_work(readonly=True) as session:
        return fulfilment.pickup_list(
            session, user_id=who.user_id, pickup_point_id=pickup_point_id, wave_id=wave_id
        )


# ---------------------------------------------------------------- members


@router.get("/wave-orders/{order_id}/pickup", response_model=schemas.MemberPickupOut)
def my_pickup(order_id: int, who: Caller) -> dict[str, Any]:
    """Your pickup code, and where and when to collect (your own order only)."""
    with unit_of_work(readonly=True) as session:
        return fulfilment.member_pickup(session, user_id=who.user_id, order_id=order_id)


@router.get("/wave-orders/{order_id}/tracking", response_model=schemas.OrderTrackingOut)
def my_tracking(order_id: int, who: Caller) -> dict[str, Any]:
    """Where your order's goods are on their way to the pickup point (your own order only)."""
    with unit_of_work(readonly=True) as session:
        return fulfilment.order_tracking(session, user_id=who.user_id, order_id=order_id)


# ---------------------------------------------------------------- operators


@router.post(
    "/admin/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps",
    tags=["operator: waves"],
    response_model=schemas.TrackingOut,
)
def move_tracking_for_supplier(
    wave_id: int,
    pickup_point_id: int,
    body: schemas.TrackingStepIn,
    request: Request,
    who: Operator,
    key: IdemKey = None,
) -> JSONResponse:
    """Move a shipment by hand on the supplier's behalf (the goods were seen, the supplier
    is out of reach): as the supplier's own route, forward only."""
    return _move(wave_id, pickup_point_id, body, request, who, key, None)


@router.post(
    "/admin/waves/{wave_id}/pickup-points/{pickup_point_id}/refund-undelivered",
    tags=["operator: waves"],
    response_model=schemas.RefundedUndeliveredOut,
)
def refund_undelivered(
    wave_id: int, pickup_point_id: int, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """The goods never reached this pickup point: refund its members in full from escrow.
    Allowed only after the wave's delivery deadline (delivery date + grace days)."""

    def work(session: Session) -> dict[str, Any]:
        refunded = fulfilment.refund_undelivered(
            session, wave_id=wave_id, pickup_point_id=pickup_point_id, operator_id=who.user_id
        )
        return schemas.RefundedUndeliveredOut.model_construct(
            wave_id=wave_id,
            pickup_point_id=pickup_point_id,
            refunded=[OrderOut.of(o) for o in refunded],
        ).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)
