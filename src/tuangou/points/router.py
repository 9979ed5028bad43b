from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.api.deps import IdemKey, Member, Operator, idempotent
from tuangou.core.db import unit_of_work
from tuangou.points import schemas
from tuangou.points import service as points

router = APIRouter(tags=["points"])
ENTRIES_PAGE = 20


def _entries(session: Session, user_id: int, cursor: int | None) -> dict[str, Any]:
    rows = points.entries(session, user_id, before=cursor, limit=ENTRIES_PAGE + 1)
    more = len(rows) > ENTRIES_PAGE
    rows = rows[:ENTRIES_PAGE]
    return schemas.EntriesOut(
        entries=[schemas.EntryOut.of(e) for e in rows],
        next_cursor=rows[-1].id if more and rows else None,
    ).model_dump()


@router.get("/me/points", response_model=schemas.PointsOut)
def my_points(who: Member) -> dict[str, Any]:
    """The caller's points: balance, experience and level (and the way to the next), the
    check-in streak, this month's check-in days, and what expires when."""
    with unit_of_work(readonly=True) as session:
        return schemas.PointsOut.of(points.summary(session, who.user_id)).model_dump()


@router.get("/me/points/entries", response_model=schemas.EntriesOut)
def my_entries(who: Member, cursor: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    """The caller's points entries, newest first, a page at a time."""
    with unit_of_work(readonly=True) as session:
        return _entries(session, who.user_id, cursor)


@router.post("/me/checkin", status_code=201, response_model=schemas.CheckinOut)
def checkin(request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Check in for today (the deployment's local day): the streak ladder's points plus the
    level's bonus. Refusal: ``already_checked_in``."""

    def work(session: Session) -> dict[str, Any]:
        done = points.checkin(session, who.user_id)
        return schemas.CheckinOut.of(done, points.balance_of(session, who.user_id)).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work, status_code=201)


@router.get("/levels", response_model=list[schemas.LevelOut])
def levels() -> list[dict[str, Any]]:
    """The member levels (会员等级), lowest first, with what each benefit gives."""
    with unit_of_work(readonly=True) as session:
        return [schemas.LevelOut.of(level).model_dump() for level in points.get_levels(session)]


# ---------------------------------------------------------------- operators


@router.get(
    "/admin/points/settings",
    tags=["operator: points"],
    response_model=schemas.PointsSettingsOut,
)
def get_settings(who: Operator) -> dict[str, Any]:
    with unit_of_work(readonly=True) as session:
        return schemas.PointsSettingsOut.of(points.get_settings(session)).model_dump()


@router.put(
    "/admin/points/settings",
    tags=["operator: points"],
    response_model=schemas.PointsSettingsOut,
)
def put_settings(
    body: schemas.PointsSettingsIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """The check-in ladder, the bargain-help points and daily cap, an invitee's first
    order's points, and how many years points last after the year they were earned."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.PointsSettingsOut.of(
            points.set_settings(session, body.settings())
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get("/admin/levels", tags=["operator: points"], response_model=list[schemas.LevelOut])
def admin_levels(who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [schemas.LevelOut.of(level).model_dump() for level in points.get_levels(session)]


@router.put("/admin/levels", tags=["operator: points"], response_model=list[schemas.LevelOut])
def put_levels(
    body: schemas.LevelsIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """Replace the levels: the first starts at 0, thresholds rise. Refusal:
    ``invalid_levels``."""

    def work(session: Session) -> list[dict[str, Any]]:
        saved = points.set_levels(session, [level.level() for level in body.levels])
        return [schemas.LevelOut.of(level).model_dump() for level in saved]

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.post(
    "/admin/points/adjust",
    status_code=201,
    tags=["operator: points"],
    response_model=schemas.AdjustOut,
)
def adjust(
    body: schemas.AdjustIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """Add (or, negative, take away) a member's points, with a note: an ``admin_adjust``
    award (no experience). Never below zero: ``not_enough_points``."""

    def work(session: Session) -> dict[str, Any]:
        accounts.get_user(session, body.member_id)
        points.award(
            session,
            user_id=body.member_id,
            reason=points.Reason.ADMIN_ADJUST,
            key=f"adjust:{secrets.token_hex(8)}",
            points=body.points,
            note=body.note,
            by_id=who.user_id,
        )
        return schemas.AdjustOut(
            member_id=body.member_id,
            points=body.points,
            balance=points.balance_of(session, body.member_id),
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.get(
    "/admin/points/members/{member_id}",
    tags=["operator: points"],
    response_model=schemas.MemberPointsOut,
)
def member_points(member_id: int, who: Operator) -> dict[str, Any]:
    with unit_of_work(readonly=True) as session:
        accounts.get_user(session, member_id)
        return schemas.MemberPointsOut(
            member_id=member_id,
            points=schemas.PointsOut.of(points.summary(session, member_id)),
            entries=[schemas.EntryOut.of(e) for e in points.entries(session, member_id)],
        ).model_dump()
