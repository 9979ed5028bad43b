from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tuangou.api.deps import Member, Operator
from tuangou.communities import schemas
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work

router = APIRouter(tags=["communities"])

# ---------------------------------------------------------------- becoming a leader


@router.post("/leader/applications", status_code=201, tags=["leaders"])
def apply(body: schemas.ApplicationIn, who: Member) -> dict[str, Any]:
    """Apply to become a leader, with your first pickup point (自提点)."""

    def work(session: Session) -> dict[str, Any]:
        application = communities.apply(session, who.user_id, body.data(), note=body.note)
        return schemas.application_view(application)

    return run_in_transaction(work)


@router.get("/leader/applications", tags=["leaders"])
def my_applications(who: Member) -> list[dict[str, Any]]:
    """Your applications, newest first, with the decision and any reason."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.application_view(a) for a in communities.applications_of(session, who.user_id)
        ]


@router.get("/leader/me", tags=["leaders"])
def me(who: Member) -> dict[str, Any]:
    """Your leader profile: pickup points, communities with member counts, sub-leaders."""
    with unit_of_work(readonly=True) as session:
        return schemas.profile_view(communities.leader_profile(session, who.user_id))


@router.post("/leader/sub-leaders", tags=["leaders"])
def recruit(body: schemas.SubLeaderIn, who: Member) -> dict[str, Any]:
    """Take another approved leader as your sub-leader (at most two levels)."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.leader_view(
            communities.recruit_sub_leader(session, who.user_id, body.leader_id)
        )

    return run_in_transaction(work)


# ---------------------------------------------------------------- pickup points


@router.post("/leader/pickup-points", status_code=201, tags=["leaders"])
def add_pickup_point(body: schemas.PickupPointIn, who: Member) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        return schemas.pickup_point_view(
            communities.add_pickup_point(session, who.user_id, body.data())
        )

    return run_in_transaction(work)


@router.get("/leader/pickup-points", tags=["leaders"])
def my_pickup_points(who: Member) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [
            schemas.pickup_point_view(p) for p in communities.my_pickup_points(session, who.user_id)
        ]


@router.patch("/leader/pickup-points/{pickup_point_id}", tags=["leaders"])
def update_pickup_point(
    pickup_point_id: int, body: schemas.PickupPointPatch, who: Member
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        point = communities.update_pickup_point(
            session, who.user_id, pickup_point_id, **body.model_dump(exclude_none=True)
        )
        return schemas.pickup_point_view(point)

    return run_in_transaction(work)


# ---------------------------------------------------------------- communities (leader side)


@router.post("/leader/communities", status_code=201, tags=["leaders"])
def create_community(body: schemas.CommunityIn, who: Member) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        c = communities.create_community(
            session, who.user_id, name=body.name, rules_text=body.rules
        )
        return schemas.community_view(c, member_count=1)

    return run_in_transaction(work)


@router.patch("/leader/communities/{community_id}", tags=["leaders"])
def update_community(
    community_id: int, body: schemas.CommunityPatch, who: Member
) -> dict[str, Any]:
    """Rename the community or edit its rules (群规): its leader or an admin."""

    def work(session: Session) -> dict[str, Any]:
        c = communities.update_community(
            session, who.user_id, community_id, name=body.name, rules_text=body.rules
        )
        return schemas.community_view(c)

    return run_in_transaction(work)


@router.post("/leader/communities/{community_id}/invite-code", tags=["leaders"])
def new_invite_code(community_id: int, who: Member) -> dict[str, Any]:
    """Replace the invite link; the old one stops working."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.community_view(
            communities.regenerate_invite(session, who.user_id, community_id)
        )

    return run_in_transaction(work)


@router.get("/leader/communities/{community_id}/members", tags=["leaders"])
def community_members(
    community_id: int,
    who: Member,
    limit: int = Query(default=200, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> list[dict[str, Any]]:
    """The members with masked phone numbers: the leader or an admin."""
    with unit_of_work(readonly=True) as session:
        rows = communities.members(session, who.user_id, community_id, limit=limit, offset=offset)
        return [schemas.member_view(m, p) for m, p in rows]


@router.post("/leader/communities/{community_id}/admins", tags=["leaders"])
def name_admin(community_id: int, body: schemas.AdminIn, who: Member) -> dict[str, Any]:
    """Name a member an admin (the community's leader only)."""

    def work(session: Session) -> dict[str, Any]:
        m = communities.set_admin(session, who.user_id, community_id, body.user_id, admin=True)
        return schemas.membership_view(m)

    return run_in_transaction(work)


@router.delete("/leader/communities/{community_id}/admins/{user_id}", tags=["leaders"])
def remove_admin(community_id: int, user_id: int, who: Member) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        m = communities.set_admin(session, who.user_id, community_id, user_id, admin=False)
        return schemas.membership_view(m)

    return run_in_transaction(work)


# ---------------------------------------------------------------- communities (member side)


@router.get("/communities/invite/{code}")
def invite(code: str) -> dict[str, Any]:
    """What an invite link shows to anyone: name, the leader's masked name, members, rules."""
    with unit_of_work(readonly=True) as session:
        return schemas.invite_view(communities.invite_page(session, code))


@router.post("/communities/invite/{code}/join")
def join(code: str, who: Member) -> dict[str, Any]:
    """Join through the invite link; joining again changes nothing and returns the membership."""

    def work(session: Session) -> dict[str, Any]:
        m, new = communities.join_by_invite(session, code, who.user_id)
        return {**schemas.membership_view(m), "new": new}

    return run_in_transaction(work)


@router.get("/communities")
def my_communities(who: Member) -> list[dict[str, Any]]:
    """The communities you belong to, with your role and their member counts."""
    with unit_of_work(readonly=True) as session:
        return [
            {**schemas.community_view(c, member_count=n), "role": role}
            for c, role, n in communities.my_communities(session, who.user_id)
        ]


@router.post("/communities/{community_id}/leave")
def leave(community_id: int, who: Member) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        communities.leave_community(session, community_id, who.user_id)
        return {"left": True, "community_id": community_id}

    return run_in_transaction(work)


# ---------------------------------------------------------------- operator


@router.get("/admin/leader-applications", tags=["operator: leaders"])
def application_queue(
    who: Operator,
    status: str = Query(default="pending", pattern="^(pending|approved|rejected|all)$"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Leader applications, oldest first, each with its age in seconds."""
    with unit_of_work(readonly=True) as session:
        queue = communities.application_queue(
            session, status=None if status == "all" else status, limit=limit
        )
        return [schemas.queued_view(q) for q in queue]


@router.post("/admin/leader-applications/{application_id}/approve", tags=["operator: leaders"])
def approve(application_id: int, who: Operator) -> dict[str, Any]:
    """Approve: creates the leader and their first pickup point, once."""

    def work(session: Session) -> dict[str, Any]:
        decision = communities.approve_application(session, application_id, operator_id=who.user_id)
        return {
            "application": schemas.application_view(decision.application),
            "leader": schemas.leader_view(decision.leader),
            "pickup_point": schemas.pickup_point_view(decision.pickup_point),
        }

    return run_in_transaction(work)


@router.post("/admin/leader-applications/{application_id}/reject", tags=["operator: leaders"])
def reject(application_id: int, body: schemas.ReasonIn, who: Operator) -> dict[str, Any]:
    """Reject with a reason the applicant will read."""

    def work(session: Session) -> dict[str, Any]:
        a = communities.reject_application(
            session, application_id, operator_id=who.user_id, reason=body.reason
        )
        return schemas.application_view(a)

    return run_in_transaction(work)


@router.get("/admin/leaders", tags=["operator: leaders"])
def leaders(
    who: Operator,
    status: str | None = Query(default=None, pattern="^(active|paused)$"),
) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [schemas.leader_view(x) for x in communities.list_leaders(session, status=status)]


@router.post("/admin/leaders/{leader_id}/pause", tags=["operator: leaders"])
def pause(leader_id: int, body: schemas.ReasonIn, who: Operator) -> dict[str, Any]:
    """Pause a leader (they cannot publish new waves); the reason is shown to them."""

    def work(session: Session) -> dict[str, Any]:
        return schemas.leader_view(
            communities.set_leader_status(
                session, leader_id, communities.LeaderStatus.PAUSED, body.reason
            )
        )

    return run_in_transaction(work)


@router.post("/admin/leaders/{leader_id}/resume", tags=["operator: leaders"])
def resume(
    leader_id: int, who: Operator, body: schemas.OptionalReasonIn | None = None
) -> dict[str, Any]:
    reason = body.reason if body else ""

    def work(session: Session) -> dict[str, Any]:
        return schemas.leader_view(
            communities.set_leader_status(
                session, leader_id, communities.LeaderStatus.ACTIVE, reason
            )
        )

    return run_in_transaction(work)
