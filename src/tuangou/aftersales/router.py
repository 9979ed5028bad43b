"""After-sales over HTTP.

Photos first, then the report: ``POST /api/uploads`` takes one photo as the raw request body
(``Content-Type: image/jpeg``, ``image/png`` or ``image/webp``, at most 5 MB) and returns its
id; ``POST /api/aftersales`` then names the order, the lines and quantities, and 1–6 photo
ids. One photo per request keeps a retry on a weak connection small.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.aftersales import errors, rules, schemas
from tuangou.aftersales import service as aftersales
from tuangou.aftersales.models import AfterSaleCase
from tuangou.api.deps import Caller, IdemKey, Member, Operator, idempotent
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.schemas import file_responses
from tuangou.pools import service as pools

router = APIRouter(tags=["after-sales"])


def _status(status: str) -> str | None:
    return None if status == "all" else status


def _viewer(who: Any) -> aftersales.Viewer:
    return aftersales.Viewer(user_id=who.user_id, role=who.role)


def _detail(session: Session, case: AfterSaleCase, viewer: aftersales.Viewer) -> schemas.CaseReply:
    titles: dict[int, str] = {}
    if case.order_kind == "wave":
        info = pools.info_of(session, case.order_id)
        titles = {i.id: i.title for i in pools.items_of(session, info.wave_id)}
    deciding = aftersales.can_decide(session, case, viewer)
    detail = schemas.CaseDetailOut.detail(
        case,
        lines=aftersales.lines_of(session, case.id),
        photos=aftersales.photos_of(session, case.id),
        titles=titles,
        can_decide=deciding,
    )
    if not deciding:
        return detail
    person = communities.people(session, [case.user_id])[case.user_id]
    return schemas.DecidingCaseDetailOut.model_construct(
        **dict(detail),
        member=schemas.ReporterOut.model_construct(
            nickname=person.nickname, phone=person.masked_phone
        ),
    )


# ---------------------------------------------------------------- members


@router.post("/uploads", status_code=201)
async def upload(request: Request, who: Member) -> schemas.PhotoOut:
    """Upload one photo (raw body; JPEG, PNG or WebP, ≤ 5 MB); attach it by id to a report."""
    declared = request.headers.get("content-type", "")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > rules.MAX_PHOTO_BYTES:
        raise errors.PhotoInvalid("a photo may be at most 5 MB", field="photo")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > rules.MAX_PHOTO_BYTES:
            raise errors.PhotoInvalid("a photo may be at most 5 MB", field="photo")

    def work(session: Session) -> schemas.PhotoOut:
        photo = aftersales.upload_photo(
            session, user_id=who.user_id, content_type=declared, data=bytes(data)
        )
        return schemas.PhotoOut.of(photo)

    result: schemas.PhotoOut = await run_in_threadpool(run_in_transaction, work)
    return result


@router.post("/aftersales", status_code=201, response_model=schemas.CaseReply)
def report(
    body: schemas.CaseIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Report a missing, damaged or wrong item on your order, with 1–6 uploaded photos."""
    viewer = _viewer(who)

    def work(session: Session) -> dict[str, Any]:
        case = aftersales.report(
            session,
            user_id=who.user_id,
            order_id=body.order_id,
            kind=body.kind,
            description=body.description,
            lines=body.quantities(),
            photo_ids=body.photo_ids,
            amount=body.amount,
        )
        return _detail(session, case, viewer).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )


@router.get("/aftersales")
def my_cases(who: Caller) -> list[schemas.CaseOut]:
    """Your after-sale cases, newest first."""
    with unit_of_work(readonly=True) as session:
        return [schemas.CaseOut.of(c) for c in aftersales.cases_of_member(session, who.user_id)]


@router.get("/aftersales/{case_id}")
def case_detail(case_id: int, who: Caller) -> schemas.CaseReply:
    """A case with its lines and photos: for the member, the community's leader, operators."""
    viewer = _viewer(who)
    with unit_of_work(readonly=True) as session:
        case = aftersales.get_case(session, case_id)
        aftersales.assert_can_view(session, case, viewer)
        return _detail(session, case, viewer)


@router.get(
    "/aftersales/{case_id}/photos/{n}",
    response_class=Response,
    responses=file_responses("image/jpeg", "image/png", "image/webp", description="The photo"),
)
def case_photo(case_id: int, n: int, who: Caller) -> Response:
    """The n-th photo (1–6) of a case: for the member, the community's leader, operators."""
    with unit_of_work(readonly=True) as session:
        data, content_type = aftersales.photo(session, _viewer(who), case_id, n)
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="case-{case_id}-{n}"',
        },
    )


@router.post("/wave-orders/{order_id}/rating", status_code=201)
def rate(order_id: int, body: schemas.RatingIn, who: Member) -> schemas.RatingOut:
    """Rate the pickup of your completed wave order, 1–5 stars (once)."""

    def work(session: Session) -> schemas.RatingOut:
        rating = aftersales.rate_pickup(
            session, user_id=who.user_id, order_id=order_id, stars=body.stars, comment=body.comment
        )
        return schemas.RatingOut.of(rating)

    result: schemas.RatingOut = run_in_transaction(work)
    return result


@router.get("/wave-orders/{order_id}/rating")
def rating(order_id: int, who: Caller) -> schemas.RatingOut | None:
    """The member's rating of the pickup (for the member, the order's leader, operators)."""
    from tuangou.orders import service as orders

    with unit_of_work(readonly=True) as session:
        order = orders.get(session, order_id)
        if order.user_id != who.user_id and who.role != "operator":
            listing = pools.get_listing(session, pools.info_of(session, order_id).listing_id)
            leader = communities.find_leader_by_user(session, who.user_id)
            if leader is None or leader.id != listing.leader_id:
                raise orders.errors.NotYourOrder()
        found = aftersales.rating_of(session, order_id)
        return schemas.RatingOut.of(found) if found is not None else None


# ---------------------------------------------------------------- deciding


@router.post("/aftersales/{case_id}/accept", response_model=schemas.CaseReply)
def accept(
    case_id: int,
    request: Request,
    who: Caller,
    body: schemas.AcceptIn | None = None,
    key: IdemKey = None,
) -> JSONResponse:
    """Accept: refund the amount (default: what was asked) through the ledger, once."""
    body = body or schemas.AcceptIn()
    viewer = _viewer(who)

    def work(session: Session) -> dict[str, Any]:
        case = aftersales.accept(session, case_id=case_id, viewer=viewer, amount=body.amount)
        return _detail(session, case, viewer).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.post("/aftersales/{case_id}/reject", response_model=schemas.CaseReply)
def reject(
    case_id: int, body: schemas.RejectIn, request: Request, who: Caller, key: IdemKey = None
) -> JSONResponse:
    """Reject with a reason the member will read."""
    viewer = _viewer(who)

    def work(session: Session) -> dict[str, Any]:
        case = aftersales.reject(session, case_id=case_id, viewer=viewer, reason=body.reason)
        return _detail(session, case, viewer).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get("/leader/aftersales", tags=["leaders"])
def leader_cases(who: Caller, status: str = "open") -> list[schemas.CaseOut]:
    """The after-sale cases of your communities, oldest first (``status``: open, accepted,
    rejected or all)."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.CaseOut.of(c, can_decide=True)
            for c in aftersales.cases_of_leader(session, who.user_id, status=_status(status))
        ]


@router.get("/admin/aftersales", tags=["operator: after-sales"])
def queue(who: Operator, status: str = "open") -> list[schemas.CaseOut]:
    """The after-sale queue, oldest first, each case with its age (``status``: open,
    accepted, rejected or all)."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.CaseOut.of(c, can_decide=True)
            for c in aftersales.queue(session, status=_status(status))
        ]
