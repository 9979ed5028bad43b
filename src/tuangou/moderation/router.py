from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.accounts.service import Principal
from tuangou.api.deps import Caller, IdemKey, Member, Operator, idempotent
from tuangou.communities import service as communities
from tuangou.core.db import unit_of_work
from tuangou.core.errors import Forbidden
from tuangou.moderation import schemas
from tuangou.moderation import service as moderation
from tuangou.moderation.models import ModerationLogEntry

router = APIRouter(tags=["moderation"])


def _moderator(who: Principal) -> bool:
    """Whether the caller acts as an operator; a supplier's staff never moderates."""
    if who.role == "operator":
        return True
    if who.role != "member":
        raise Forbidden("only a community's leader or an operator moderates")
    return False


def _entries(session: Session, entries: list[ModerationLogEntry]) -> list[schemas.LogEntryOut]:
    people = communities.people(session, [e.actor_id for e in entries if e.actor_id is not None])
    return [schemas.LogEntryOut.of(e, people) for e in entries]


# ---------------------------------------------------------------- members


@router.post("/reports", status_code=201, response_model=schemas.ReportedOut)
def report(
    body: schemas.ReportIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Report a post, reply or review (``kind``, ``id``) with a reason: once per member and
    target. Reports from ``moderation_report_threshold`` members hide it until review."""

    def work(session: Session) -> dict[str, Any]:
        done = moderation.report(
            session,
            user_id=who.user_id,
            kind=body.kind,
            target_id=body.id,
            reason=body.reason,
            note=body.note,
        )
        return schemas.ReportedOut.of(done).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.get("/communities/{community_id}/me")
def my_state(community_id: int, who: Member) -> schemas.MyCommunityStateOut:
    """Your standing in a community: the rules to accept, and until when you are muted."""
    with unit_of_work(readonly=True) as session:
        return schemas.MyCommunityStateOut.of(
            moderation.my_state(session, community_id, who.user_id)
        )


# ---------------------------------------------------------------- moderators


def _decision(
    request: Request,
    who: Principal,
    key: str | None,
    body: Any,
    run: Any,
) -> JSONResponse:
    operator = _moderator(who)

    def work(session: Session) -> dict[str, Any]:
        return schemas.CaseOut.of(run(session, operator)).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.post("/moderation/{kind}/{target_id}/hide", response_model=schemas.CaseOut)
def hide(
    kind: str,
    target_id: int,
    body: schemas.DecisionIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    """Hide content with a reason (its community's leader, or an operator); its author is told."""
    return _decision(
        request,
        who,
        key,
        body,
        lambda s, op: moderation.hide(
            s, actor_id=who.user_id, operator=op, kind=kind, target_id=target_id, reason=body.reason
        ),
    )


@router.post("/moderation/{kind}/{target_id}/restore", response_model=schemas.CaseOut)
def restore(
    kind: str,
    target_id: int,
    body: schemas.DecisionIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    """Restore hidden or reported content with a reason; a hidden one's author is told."""
    return _decision(
        request,
        who,
        key,
        body,
        lambda s, op: moderation.restore(
            s, actor_id=who.user_id, operator=op, kind=kind, target_id=target_id, reason=body.reason
        ),
    )


@router.post("/moderation/{kind}/{target_id}/approve", response_model=schemas.CaseOut)
def approve(
    kind: str,
    target_id: int,
    body: schemas.ApproveIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    """Publish content the text filter held for review."""
    return _decision(
        request,
        who,
        key,
        body,
        lambda s, op: moderation.approve(
            s, actor_id=who.user_id, operator=op, kind=kind, target_id=target_id, reason=body.reason
        ),
    )


@router.get("/leader/moderation/queue", tags=["leaders"])
def leader_queue(
    who: Member,
    community_id: int | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.QueueItemOut]:
    """Reported and held content of your communities awaiting a decision, oldest first."""
    with unit_of_work(readonly=True) as session:
        items = moderation.queue(
            session, actor_id=who.user_id, operator=False, community_id=community_id, limit=limit
        )
        return [schemas.QueueItemOut.item(i) for i in items]


@router.post(
    "/leader/communities/{community_id}/mutes",
    status_code=201,
    response_model=schemas.MuteOut,
    tags=["leaders"],
)
def mute(
    community_id: int,
    body: schemas.MuteIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    """Mute a member of the community for 1h, 1d or 7d with a reason (its leader, or an
    operator); they cannot post or reply there until then."""
    operator = _moderator(who)

    def work(session: Session) -> dict[str, Any]:
        row = moderation.mute(
            session,
            actor_id=who.user_id,
            operator=operator,
            community_id=community_id,
            user_id=body.user_id,
            period=body.period,
            reason=body.reason,
        )
        return schemas.MuteOut.of(row).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.delete(
    "/leader/communities/{community_id}/mutes/{user_id}",
    response_model=schemas.UnmutedOut,
    tags=["leaders"],
)
def unmute(
    community_id: int, user_id: int, request: Request, who: Caller, key: IdemKey = None
) -> JSONResponse:
    """Lift a member's mute early."""
    operator = _moderator(who)

    def work(session: Session) -> dict[str, Any]:
        moderation.unmute(
            session,
            actor_id=who.user_id,
            operator=operator,
            community_id=community_id,
            user_id=user_id,
        )
        return schemas.UnmutedOut(
            community_id=community_id, user_id=user_id, unmuted=True
        ).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work)


@router.get("/leader/moderation/log", tags=["leaders"])
def leader_log(
    who: Member,
    community_id: int | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.LogEntryOut]:
    """The moderation log of your communities, newest first (``before``: the next page)."""
    with unit_of_work(readonly=True) as session:
        entries = moderation.leader_log(
            session,
            who.user_id,
            community_id=community_id,
            action=action,
            before=before,
            limit=limit,
        )
        return _entries(session, entries)


# ---------------------------------------------------------------- operators


@router.get("/ops/moderation/log", tags=["operator: moderation"])
def ops_log(
    who: Operator,
    community_id: int | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.LogEntryOut]:
    """Every moderation action, newest first; filtered by community and action."""
    with unit_of_work(readonly=True) as session:
        entries = moderation.log_entries(
            session, community_id=community_id, action=action, before=before, limit=limit
        )
        return _entries(session, entries)


@router.get("/ops/moderation/queue", tags=["operator: moderation"])
def ops_queue(
    who: Operator,
    community_id: int | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.QueueItemOut]:
    """Everything awaiting a decision, oldest first."""
    with unit_of_work(readonly=True) as session:
        items = moderation.queue(
            session, actor_id=who.user_id, operator=True, community_id=community_id, limit=limit
        )
        return [schemas.QueueItemOut.item(i) for i in items]
