from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import IdemKey, MaybeCaller, Member, Operator, idempotent, screen
from tuangou.communities import rules, schemas
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.geo import service as geo

router = APIRouter(tags=["communities"])

# ---------------------------------------------------------------- becoming a leader


@router.post("/leader/applications", status_code=201, tags=["leaders"])
def apply(body: schemas.ApplicationIn, who: Member) -> schemas.ApplicationOut:
    """Apply to become a leader, with your first pickup point (自提点)."""

    def work(session: Session) -> schemas.ApplicationOut:
        application = communities.apply(session, who.user_id, body.data(), note=body.note)
        return schemas.ApplicationOut.of(application)

    return run_in_transaction(work)


@router.get("/leader/applications", tags=["leaders"])
def my_applications(who: Member) -> list[schemas.ApplicationOut]:
    """Your applications, newest first, with the decision and any reason."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.ApplicationOut.of(a) for a in communities.applications_of(session, who.user_id)
        ]


@router.get("/leader/me", tags=["leaders"])
def me(who: Member) -> schemas.LeaderProfileOut:
    """Your leader profile: pickup points, communities with member counts, sub-leaders."""
    with unit_of_work(readonly=True) as session:
        return schemas.LeaderProfileOut.profile(communities.leader_profile(session, who.user_id))


@router.post("/leader/sub-leaders", status_code=201, tags=["leaders"])
def invite_sub_leader(body: schemas.SubLeaderIn, who: Member) -> schemas.InvitationOut:
    """Invite another approved leader to become your sub-leader (at most two levels).

    Nothing changes until they accept; inviting again while one is pending returns it."""

    def work(session: Session) -> schemas.InvitationOut:
        invitation = communities.invite_sub_leader(session, who.user_id, body.leader_id)
        return schemas.InvitationOut.of(communities.invitation_view(session, invitation))

    return run_in_transaction(work)


@router.get("/leader/sub-leader-invitations", tags=["leaders"])
def my_invitations(who: Member) -> schemas.MyInvitationsOut:
    """The sub-leader invitations you received and sent, newest first."""
    with unit_of_work(readonly=True) as session:
        return schemas.MyInvitationsOut.of(communities.my_invitations(session, who.user_id))


@router.post("/leader/sub-leader-invitations/{invitation_id}/accept", tags=["leaders"])
def accept_invitation(invitation_id: int, who: Member) -> schemas.AcceptedOut:
    """Accept: you become the inviter's sub-leader, and they earn an override on your sales
    from now on. Accepting again returns the same link."""

    def work(session: Session) -> schemas.AcceptedOut:
        invitation, link = communities.accept_invitation(session, who.user_id, invitation_id)
        return schemas.AcceptedOut.model_construct(
            invitation=schemas.InvitationOut.of(communities.invitation_view(session, invitation)),
            link=schemas.SubLeaderLinkOut.of(communities.link_view(session, link)),
        )

    return run_in_transaction(work)


@router.post("/leader/sub-leader-invitations/{invitation_id}/decline", tags=["leaders"])
def decline_invitation(invitation_id: int, who: Member) -> schemas.InvitationOut:
    def work(session: Session) -> schemas.InvitationOut:
        invitation = communities.decline_invitation(session, who.user_id, invitation_id)
        return schemas.InvitationOut.of(communities.invitation_view(session, invitation))

    return run_in_transaction(work)


@router.post("/leader/sub-leader-invitations/{invitation_id}/cancel", tags=["leaders"])
def cancel_invitation(invitation_id: int, who: Member) -> schemas.InvitationOut:
    """Take back an invitation you sent, while it is pending."""

    def work(session: Session) -> schemas.InvitationOut:
        invitation = communities.cancel_invitation(session, who.user_id, invitation_id)
        return schemas.InvitationOut.of(communities.invitation_view(session, invitation))

    return run_in_transaction(work)


@router.post("/leader/upline/leave", tags=["leaders"])
def leave_upline(who: Member) -> schemas.SubLeaderLinkOut:
    """Stop being a sub-leader: your leader earns no override on sales paid from now on
    (sales paid before keep theirs), and you may recruit sub-leaders of your own."""

    def work(session: Session) -> schemas.SubLeaderLinkOut:
        link = communities.leave_upline(session, who.user_id)
        return schemas.SubLeaderLinkOut.of(communities.link_view(session, link))

    return run_in_transaction(work)


# ---------------------------------------------------------------- pickup points


@router.post(
    "/leader/pickup-points",
    status_code=201,
    tags=["leaders"],
)
def add_pickup_point(body: schemas.PickupPointIn, who: Member) -> schemas.PickupPointOut:
    def work(session: Session) -> schemas.PickupPointOut:
        return schemas.PickupPointOut.of(
            communities.add_pickup_point(session, who.user_id, body.data())
        )

    return run_in_transaction(work)


@router.get("/leader/pickup-points", tags=["leaders"])
def my_pickup_points(who: Member) -> list[schemas.PickupPointOut]:
    with unit_of_work(readonly=True) as session:
        return [
            schemas.PickupPointOut.of(p) for p in communities.my_pickup_points(session, who.user_id)
        ]


@router.patch(
    "/leader/pickup-points/{pickup_point_id}",
    tags=["leaders"],
)
def update_pickup_point(
    pickup_point_id: int, body: schemas.PickupPointPatch, who: Member
) -> schemas.PickupPointOut:
    def work(session: Session) -> schemas.PickupPointOut:
        point = communities.update_pickup_point(
            session, who.user_id, pickup_point_id, **body.model_dump(exclude_none=True)
        )
        return schemas.PickupPointOut.of(point)

    return run_in_transaction(work)


# ---------------------------------------------------------------- communities (leader side)


@router.post(
    "/leader/communities",
    status_code=201,
    tags=["leaders"],
)
def create_community(body: schemas.CommunityIn, who: Member) -> schemas.CountedCommunityOut:
    def work(session: Session) -> schemas.CountedCommunityOut:
        c = communities.create_community(
            session, who.user_id, name=body.name, rules_text=body.rules
        )
        return schemas.CountedCommunityOut.counted(c, 1)

    return run_in_transaction(work)


@router.patch("/leader/communities/{community_id}", tags=["leaders"])
def update_community(
    community_id: int, body: schemas.CommunityPatch, who: Member
) -> schemas.CommunityOut:
    """Rename the community or edit its rules (群规): its leader or an admin."""

    def work(session: Session) -> schemas.CommunityOut:
        c = communities.update_community(
            session, who.user_id, community_id, name=body.name, rules_text=body.rules
        )
        return schemas.CommunityOut.of(c)

    return run_in_transaction(work)


@router.post(
    "/leader/communities/{community_id}/invite-code",
    tags=["leaders"],
)
def new_invite_code(community_id: int, who: Member) -> schemas.CommunityOut:
    """Replace the invite link; the old one stops working."""

    def work(session: Session) -> schemas.CommunityOut:
        return schemas.CommunityOut.of(
            communities.regenerate_invite(session, who.user_id, community_id)
        )

    return run_in_transaction(work)


@router.get(
    "/leader/communities/{community_id}/members",
    tags=["leaders"],
)
def community_members(
    community_id: int,
    who: Member,
    limit: int = Query(default=200, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> list[schemas.MemberOut]:
    """The members with masked phone numbers: the leader or an admin."""
    with unit_of_work(readonly=True) as session:
        rows = communities.members(session, who.user_id, community_id, limit=limit, offset=offset)
        return [schemas.MemberOut.member(m, p) for m, p in rows]


@router.post(
    "/leader/communities/{community_id}/admins",
    tags=["leaders"],
)
def name_admin(community_id: int, body: schemas.AdminIn, who: Member) -> schemas.MembershipOut:
    """Name a member an admin (the community's leader only)."""

    def work(session: Session) -> schemas.MembershipOut:
        m = communities.set_admin(session, who.user_id, community_id, body.user_id, admin=True)
        return schemas.MembershipOut.of(m)

    return run_in_transaction(work)


@router.delete(
    "/leader/communities/{community_id}/admins/{user_id}",
    tags=["leaders"],
)
def remove_admin(community_id: int, user_id: int, who: Member) -> schemas.MembershipOut:
    def work(session: Session) -> schemas.MembershipOut:
        m = communities.set_admin(session, who.user_id, community_id, user_id, admin=False)
        return schemas.MembershipOut.of(m)

    return run_in_transaction(work)


# ---------------------------------------------------------------- communities (member side)


@router.get("/communities/invite/{code}")
def invite(code: str) -> schemas.InviteOut:
    """What an invite link shows to anyone: name, the leader's masked name, members, rules."""
    with unit_of_work(readonly=True) as session:
        return schemas.InviteOut.of(communities.invite_page(session, code))


@router.post("/communities/invite/{code}/join")
def join(
    code: str, who: Member, request: Request, body: schemas.JoinIn | None = None
) -> schemas.JoinedOut:
    """Join through the invite link; joining again changes nothing and returns the membership.
    A community with rules (群规) is joined by accepting their current version
    (``rules_version``, from the invite page), else 403 ``rules_not_accepted`` naming it.
    The risk engine may refuse it (``risk_refused``)."""
    rules_version = body.rules_version if body is not None else None
    with unit_of_work(readonly=True) as session:
        community = communities.community_by_invite(session, code)
        inviter = communities.get_leader(session, community.leader_id).user_id
    screen(
        request, type="invite", actor=who.user_id, target=f"community:{community.id}", other=inviter
    )

    def work(session: Session) -> schemas.JoinedOut:
        m, new = communities.join_by_invite(session, code, who.user_id, rules_version=rules_version)
        return schemas.JoinedOut.joined(m, new)

    return run_in_transaction(work)


@router.get("/communities")
def my_communities(who: Member) -> list[schemas.MyCommunityOut]:
    """The communities you belong to, with your role and their member counts."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.MyCommunityOut.mine(c, role, n)
            for c, role, n in communities.my_communities(session, who.user_id)
        ]


@router.post("/communities/{community_id}/leave")
def leave(community_id: int, who: Member) -> schemas.LeftCommunityOut:
    def work(session: Session) -> schemas.LeftCommunityOut:
        communities.leave_community(session, community_id, who.user_id)
        return schemas.LeftCommunityOut(left=True, community_id=community_id)

    return run_in_transaction(work)


# ---------------------------------------------------------------- rules (群规)


@router.get("/communities/{community_id}/rules")
def community_rules(community_id: int, who: Member) -> schemas.RulesOut:
    """The community's current rules and whether you accepted them (its members)."""
    with unit_of_work(readonly=True) as session:
        return schemas.RulesOut.of(communities.rules_state(session, community_id, who.user_id))


@router.post("/communities/{community_id}/rules/accept", response_model=schemas.RulesOut)
def accept_rules(
    community_id: int,
    body: schemas.AcceptRulesIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
) -> JSONResponse:
    """Accept the current version of the rules; another version is 409
    ``rules_version_stale`` naming the current one."""

    def work(session: Session) -> dict[str, Any]:
        state = communities.accept_rules(session, community_id, who.user_id, body.version)
        return schemas.RulesOut.of(state).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.put(
    "/leader/communities/{community_id}/rules",
    response_model=schemas.RulesVersionOut,
    tags=["leaders"],
)
def save_rules(
    community_id: int, body: schemas.RulesIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Save the rules (its leader): a new version, which every member accepts again."""

    def work(session: Session) -> dict[str, Any]:
        c = communities.save_rules(session, who.user_id, community_id, body.text)
        row = communities.rules_version_row(session, c.id, c.rules_version)
        assert row is not None
        return schemas.RulesVersionOut.of(row).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get("/leader/communities/{community_id}/rules", tags=["leaders"])
def rules_history(community_id: int, who: Member) -> list[schemas.RulesVersionOut]:
    """Every version of the rules, newest first (its leader and admins)."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.RulesVersionOut.of(v)
            for v in communities.rules_history(session, who.user_id, community_id)
        ]


# ---------------------------------------------------------------- operator


@router.get(
    "/admin/leader-applications",
    tags=["operator: leaders"],
)
def application_queue(
    who: Operator,
    status: str = Query(default="pending", pattern="^(pending|approved|rejected|all)$"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.QueuedApplicationOut]:
    """Leader applications, oldest first, each with its age in seconds."""
    with unit_of_work(readonly=True) as session:
        queue = communities.application_queue(
            session, status=None if status == "all" else status, limit=limit
        )
        return [schemas.QueuedApplicationOut.queued(q) for q in queue]


@router.post(
    "/admin/leader-applications/{application_id}/approve",
    tags=["operator: leaders"],
)
def approve(application_id: int, who: Operator) -> schemas.ApprovalOut:
    """Approve: creates the leader and their first pickup point, once."""

    def work(session: Session) -> schemas.ApprovalOut:
        decision = communities.approve_application(session, application_id, operator_id=who.user_id)
        return schemas.ApprovalOut.model_construct(
            application=schemas.ApplicationOut.of(decision.application),
            leader=schemas.LeaderOut.of(decision.leader),
            pickup_point=schemas.PickupPointOut.of(decision.pickup_point),
        )

    return run_in_transaction(work)


@router.post(
    "/admin/leader-applications/{application_id}/reject",
    tags=["operator: leaders"],
)
def reject(application_id: int, body: schemas.ReasonIn, who: Operator) -> schemas.ApplicationOut:
    """Reject with a reason the applicant will read."""

    def work(session: Session) -> schemas.ApplicationOut:
        a = communities.reject_application(
            session, application_id, operator_id=who.user_id, reason=body.reason
        )
        return schemas.ApplicationOut.of(a)

    return run_in_transaction(work)


@router.get("/admin/leaders", tags=["operator: leaders"])
def leaders(
    who: Operator,
    status: str | None = Query(default=None, pattern="^(active|paused)$"),
) -> list[schemas.LeaderOut]:
    with unit_of_work(readonly=True) as session:
        return [schemas.LeaderOut.of(x) for x in communities.list_leaders(session, status=status)]


@router.post("/admin/leaders/{leader_id}/pause", tags=["operator: leaders"])
def pause(leader_id: int, body: schemas.ReasonIn, who: Operator) -> schemas.LeaderOut:
    """Pause a leader (they cannot publish new waves); the reason is shown to them."""

    def work(session: Session) -> schemas.LeaderOut:
        return schemas.LeaderOut.of(
            communities.set_leader_status(session, leader_id, "paused", body.reason)
        )

    return run_in_transaction(work)


@router.post(
    "/admin/leaders/{leader_id}/resume",
    tags=["operator: leaders"],
)
def resume(
    leader_id: int, who: Operator, body: schemas.OptionalReasonIn | None = None
) -> schemas.LeaderOut:
    reason = body.reason if body else ""

    def work(session: Session) -> schemas.LeaderOut:
        return schemas.LeaderOut.of(
            communities.set_leader_status(session, leader_id, "active", reason)
        )

    return run_in_transaction(work)


@router.get("/admin/sub-leader-links", tags=["operator: leaders"])
def sub_leader_links(
    who: Operator,
    state: str = Query(default="current", pattern="^(current|ended|all)$"),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.SubLeaderLinkOut]:
    """Sub-leader links, newest first: the current ones, the ended ones (history), or all."""
    current = {"current": True, "ended": False, "all": None}[state]
    with unit_of_work(readonly=True) as session:
        links = communities.list_links(session, current=current, limit=limit)
        return [schemas.SubLeaderLinkOut.of(v) for v in links]


@router.post("/admin/sub-leader-links/{link_id}/end", tags=["operator: leaders"])
def end_sub_leader_link(
    link_id: int, body: schemas.ReasonIn, who: Operator
) -> schemas.SubLeaderLinkOut:
    """End a sub-leader link, with a reason both leaders read; the override stops for sales
    paid from now on. Ending an ended link changes nothing."""

    def work(session: Session) -> schemas.SubLeaderLinkOut:
        link = communities.end_link(session, link_id, operator_id=who.user_id, reason=body.reason)
        return schemas.SubLeaderLinkOut.of(communities.link_view(session, link))

    return run_in_transaction(work)


@router.get("/admin/sub-leader-invitations", tags=["operator: leaders"])
def sub_leader_invitations(
    who: Operator,
    status: str = Query(
        default="pending", pattern="^(pending|accepted|declined|cancelled|expired|all)$"
    ),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.InvitationOut]:
    """Sub-leader invitations, newest first, by their status as it is now."""
    with unit_of_work(readonly=True) as session:
        views = communities.list_invitations(
            session, status=None if status == "all" else status, limit=limit
        )
        return [schemas.InvitationOut.of(v) for v in views]


# ---------------------------------------------------------------- nearby (附近)


@router.get("/nearby", tags=["nearby"])
def nearby(
    who: MaybeCaller,
    lat: float = Query(description="latitude of the centre, in degrees"),
    lng: float = Query(description="longitude of the centre, in degrees"),
    radius: float = Query(
        default=geo.RADIUS_DEFAULT_M,
        description=f"metres, {geo.RADIUS_MIN_M} to {geo.RADIUS_MAX_M}",
    ),
    coord: str = Query(
        default=geo.GCJ02,
        description="the centre's system: gcj02 (as stored and shown) or wgs84 (a GPS or a "
        "browser's geolocation; converted to GCJ-02 inside mainland China)",
    ),
) -> schemas.NearbyOut:
    """Pickup points within ``radius`` metres, nearest first, with the straight-line
    distance, the walking time (× 1.3 for the streets, at 80 m a minute), the opening hours,
    a map link, the leader's communities and their waves open there. Coordinates are GCJ-02.

    Public: anyone learns what a community's invite page shows (its name, the leader's
    masked name, its member count) and how many of its waves are open at the point; the
    titles and links of those waves only their community's members, its leader and
    operators. Bad coordinates: ``bad_coordinates``; a radius out of range:
    ``radius_out_of_range`` (422)."""
    centre = geo.centre(lat, lng, radius_m=radius, coord=coord)
    with unit_of_work(readonly=True) as session:
        found = communities.nearby(
            session,
            centre,
            user_id=who.user_id if who is not None else None,
            operator=who is not None and who.role == "operator",
        )
        return schemas.NearbyOut.of(
            found, lambda p: rules.map_link(p.latitude, p.longitude, p.name)
        )
