from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, IdemKey, Member, Operator, idempotent
from tuangou.core.db import unit_of_work
from tuangou.leaderboards import schemas
from tuangou.leaderboards import service as boards

router = APIRouter(tags=["leaderboards"])


@router.get("/communities/{community_id}/leaderboard", response_model=schemas.BoardOut)
def leaderboard(
    community_id: int,
    who: Caller,
    period: Annotated[str, Query(max_length=8)] = "week",
    at: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    """The community's most helpful neighbours of a week (``at=YYYY-MM-DD``, any day of it)
    or a month (``at=YYYY-MM``), the current one by default: likes received on verified
    reviews, helps given, invites that converted, events attended; members the risk engine
    holds are left out. For its members, its leader and operators."""
    with unit_of_work(readonly=True) as session:
        boards.require_visible(session, community_id, who.user_id, operator=who.role == "operator")
        p, start = boards.parse_period(period, at)
        found = boards.board(session, community_id, p, start)
        names = boards.people(session, [s.user_id for s in found.standings])
        return schemas.BoardOut.of(found, names, who.user_id).model_dump()


@router.post(
    "/leader/communities/{community_id}/leaderboard/award",
    status_code=201,
    tags=["leaders"],
    response_model=schemas.AwardOut,
)
def award(
    community_id: int,
    body: schemas.AwardIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
) -> JSONResponse:
    """The leader awards the past month's top members points, once per community and month
    (``board_already_awarded``): up to N members and P points each (operator settings), the
    month closed more than a day ago (``board_month_not_closed``). Each member is told."""

    def work(session: Session) -> dict[str, Any]:
        row = boards.award(
            session,
            user_id=who.user_id,
            community_id=community_id,
            month=body.month,
            members=body.members,
            points_each=body.points,
        )
        return schemas.AwardOut.of(row, boards.awarded_members(row)).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.get(
    "/admin/leaderboard/settings",
    tags=["operator: leaderboards"],
    response_model=schemas.AwardSettingsOut,
)
def get_settings(who: Operator) -> dict[str, Any]:
    with unit_of_work(readonly=True) as session:
        s = boards.get_settings(session)
        return schemas.AwardSettingsOut(members=s.members, points=s.points).model_dump()


@router.put(
    "/admin/leaderboard/settings",
    tags=["operator: leaderboards"],
    response_model=schemas.AwardSettingsOut,
)
def put_settings(
    body: schemas.AwardSettingsIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """How many of a month's top members a leader may award (N, default 3), and how many
    points each at most (P, default 100). Refusal: ``invalid_board_settings``."""

    def work(session: Session) -> dict[str, Any]:
        s = boards.set_settings(
            session, boards.AwardSettings(members=body.members, points=body.points)
        )
        return schemas.AwardSettingsOut(members=s.members, points=s.points).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)
