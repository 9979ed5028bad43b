from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import IdemKey, Member, Operator, idempotent
from tuangou.core.db import unit_of_work
from tuangou.coupons import schemas
from tuangou.coupons import service as coupons

router = APIRouter(tags=["coupons"])


def _stored(value: datetime | None) -> datetime | None:
    """A time from a request, as stored: naive UTC (a naive one is taken as UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def data_of(body: schemas.CouponIn) -> coupons.CouponData:
    return coupons.CouponData(
        name=body.name,
        form=body.form,
        amount=body.amount,
        percent_bps=body.percent_bps,
        cap=body.cap,
        min_spend=body.min_spend,
        points_price=body.points_price,
        kinds=tuple(body.kinds),
        valid_from=_stored(body.valid_from),
        valid_until=_stored(body.valid_until),
        valid_days=body.valid_days,
        stock=body.stock,
        per_member_limit=body.per_member_limit,
        active=body.active,
    )


@router.get("/coupons", response_model=list[schemas.CouponOut])
def on_offer() -> list[dict[str, Any]]:
    """The coupon centre (领券中心): the coupons on offer now, what each costs in points."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.CouponOut.of(c).model_dump() for c in coupons.catalogue(session, on_offer=True)
        ]


@router.post("/coupons/{coupon_id}/buy", status_code=201, response_model=schemas.MemberCouponOut)
def buy(
    coupon_id: int, body: schemas.BuyIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Buy a coupon with points, once per ``key``. Refusals: ``coupon_sold_out``,
    ``coupon_limit_reached``, ``coupon_paused``, ``coupon_expired``, ``not_enough_points``."""

    def work(session: Session) -> dict[str, Any]:
        bought = coupons.buy(session, user_id=who.user_id, coupon_id=coupon_id, key=body.key)
        return schemas.MemberCouponOut.of(bought).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.get("/me/coupons", response_model=list[schemas.MemberCouponOut])
def mine(who: Member) -> list[dict[str, Any]]:
    """我的优惠券: the caller's coupons (available, used, expired) and when each expires."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.MemberCouponOut.of(m).model_dump() for m in coupons.mine(session, who.user_id)
        ]


@router.get("/me/coupons/quote", response_model=schemas.QuoteOut)
def quote(
    who: Member,
    kind: Annotated[schemas.KindName, Query()],
    amount: Annotated[int, Query(ge=1, le=2**31 - 1)],
    coupon_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """What the caller would pay for an order of ``kind`` at ``amount`` fen (before
    discounts): the level discount first, then the coupon. Nothing is taken."""
    with unit_of_work(readonly=True) as session:
        q = coupons.quote(
            session, user_id=who.user_id, kind=kind, list_amount=amount, coupon_id=coupon_id
        )
        return schemas.QuoteOut.model_construct(
            list_amount=q.list_amount,
            level_name=q.level_name,
            level_bps=q.level_bps,
            level_discount=q.level_discount,
            coupon_discount=q.coupon_discount,
            to_pay=q.to_pay,
        ).model_dump()


# ---------------------------------------------------------------- operators


@router.get("/admin/coupons", tags=["operator: coupons"], response_model=list[schemas.CouponOut])
def catalogue(who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [schemas.CouponOut.of(c).model_dump() for c in coupons.catalogue(session)]


@router.post(
    "/admin/coupons",
    tags=["operator: coupons"],
    status_code=201,
    response_model=schemas.CouponOut,
)
def create(body: schemas.CouponIn, who: Operator) -> dict[str, Any]:
    with unit_of_work() as session:
        return schemas.CouponOut.of(coupons.create(session, data_of(body))).model_dump()


@router.put(
    "/admin/coupons/{coupon_id}", tags=["operator: coupons"], response_model=schemas.CouponOut
)
def edit(coupon_id: int, body: schemas.CouponIn, who: Operator) -> dict[str, Any]:
    with unit_of_work() as session:
        return schemas.CouponOut.of(coupons.edit(session, coupon_id, data_of(body))).model_dump()


@router.put(
    "/admin/coupons/{coupon_id}/status",
    tags=["operator: coupons"],
    response_model=schemas.CouponOut,
)
def set_status(coupon_id: int, body: schemas.CouponStatusIn, who: Operator) -> dict[str, Any]:
    """Pause a coupon (no more sales; coupons already bought still apply) or resume it."""
    with unit_of_work() as session:
        return schemas.CouponOut.of(
            coupons.set_active(session, coupon_id, body.active)
        ).model_dump()
