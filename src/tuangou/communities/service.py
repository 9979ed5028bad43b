"""Leaders, their pickup points and communities (社区团购's people and places).

* A member applies to become a leader; an operator approves (creating the leader and their
  first pickup point, exactly once, by compare-and-set on the application) or rejects with a
  reason. The applicant hears of it through the outbox.
* A leader invites another leader to become their sub-leader; nothing changes until the
  invitee accepts (or declines; the invitation expires after
  ``sub_leader_invitation_days``). At most two levels deep (:func:`rules.recruit_refusal`),
  checked again on acceptance with both leaders' rows locked in id order, so concurrent
  acceptances cannot build a third level. A sub-leader may leave, and an operator may end a
  link; ``sub_leader_links`` keeps every link with its start and end, and the upline's
  override is owed on sales paid while the link held (:func:`upline_at`).
* A leader creates communities; members join through the invite link (idempotent:
  ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (community, user) pair); the leader names
  admins. The leader is recorded as a member of their own community with the role ``leader``.
* Rules (群规) are versioned: each save appends a version (``community_rules_versions``) and
  bumps ``communities.rules_version`` (one UPDATE: concurrent saves take distinct numbers).
  A member accepts the current version on joining and again after each new version
  (``community_rules_acceptances``); :func:`require_rules_accepted` refuses until they do.

Services flush, never commit (ENGINEERING.md rule 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.communities import errors, rules
from tuangou.communities.models import (
    Community,
    CommunityMember,
    CommunityRulesAcceptance,
    CommunityRulesVersion,
    Leader,
    LeaderApplication,
    PickupPoint,
    SubLeaderInvitation,
    SubLeaderLink,
)
from tuangou.communities.rules import ApplicationStatus, InvitationStatus, LeaderStatus, LinkEnd
from tuangou.core import clock, outbox
from tuangou.core.config import get_settings
from tuangou.core.db import get_or_404, upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.geo import service as geo

# ---------------------------------------------------------------- helpers


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


def _text(value: str | None, *, field: str, max_len: int, required: bool = True) -> str:
    try:
        return rules.clean_text(value or "", field=field, max_len=max_len, required=required)
    except rules.RuleViolation as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc


def _coordinates(latitude: float, longitude: float) -> None:
    try:
        rules.check_coordinates(float(latitude), float(longitude))
    except rules.RuleViolation as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc


@dataclass(frozen=True)
class Person:
    """Who someone is, as other people may see them: never a full phone number."""

    user_id: int
    nickname: str
    masked_name: str
    masked_phone: str


def people(session: Session, user_ids: list[int]) -> dict[int, Person]:
    found: dict[int, Person] = {}
    for uid in dict.fromkeys(user_ids):
        user = accounts.get_user(session, uid)
        masked_name, masked_phone = accounts.masked(user)
        found[uid] = Person(
            user_id=uid,
            nickname=user.nickname,
            masked_name=masked_name,
            masked_phone=masked_phone,
        )
    return found


# ---------------------------------------------------------------- applications


@dataclass(frozen=True)
class PickupPointInput:
    name: str
    address: str
    latitude: float
    longitude: float
    opening_hours: str = ""


def _check_point(data: PickupPointInput) -> PickupPointInput:
    name = _text(data.name, field="name", max_len=rules.NAME_MAX)
    address = _text(data.address, field="address", max_len=rules.ADDRESS_MAX)
    hours = _text(
        data.opening_hours, field="opening_hours", max_len=rules.HOURS_MAX, required=False
    )
    _coordinates(data.latitude, data.longitude)
    return PickupPointInput(name, address, float(data.latitude), float(data.longitude), hours)


def find_leader_by_user(session: Session, user_id: int) -> Leader | None:
    return session.scalar(select(Leader).where(Leader.user_id == user_id))


def apply(
    session: Session, user_id: int, point: PickupPointInput, *, note: str = ""
) -> LeaderApplication:
    """A member applies to become a leader, proposing their first pickup point."""
    accounts.get_user(session, user_id)
    if find_leader_by_user(session, user_id) is not None:
        raise errors.AlreadyLeader()
    pending = session.scalar(
        select(LeaderApplication.id).where(
            LeaderApplication.user_id == user_id,
            LeaderApplication.status == ApplicationStatus.PENDING,
        )
    )
    if pending is not None:
        raise errors.ApplicationPending(application_id=pending)
    point = _check_point(point)
    application = LeaderApplication(
        user_id=user_id,
        status=ApplicationStatus.PENDING,
        name=point.name,
        address=point.address,
        latitude=point.latitude,
        longitude=point.longitude,
        opening_hours=point.opening_hours,
        note=_text(note, field="note", max_len=rules.NOTE_MAX, required=False),
        created_at=clock.now(),
    )
    session.add(application)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent twin won the unique pending index
        raise errors.ApplicationPending() from exc
    return application


def applications_of(session: Session, user_id: int) -> list[LeaderApplication]:
    """A member's own applications, newest first (to see the decision and its reason)."""
    return list(
        session.scalars(
            select(LeaderApplication)
            .where(LeaderApplication.user_id == user_id)
            .order_by(LeaderApplication.id.desc())
        )
    )


def list_applications(
    session: Session, *, status: str | None = ApplicationStatus.PENDING, limit: int = 200
) -> list[LeaderApplication]:
    """The operator's queue: oldest first."""
    if status is not None and status not in rules.APPLICATION_STATUSES:
        raise InvalidInput("unknown application status", field="status")
    query = (
        select(LeaderApplication)
        .order_by(LeaderApplication.created_at, LeaderApplication.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(LeaderApplication.status == status)
    return list(session.scalars(query))


def get_application(session: Session, application_id: int) -> LeaderApplication:
    return get_or_404(session, LeaderApplication, application_id, errors.ApplicationNotFound)


def _decide(
    session: Session,
    application: LeaderApplication,
    status: ApplicationStatus,
    operator_id: int,
    **values: Any,
) -> None:
    """Compare-and-set pending → ``status``: exactly one decision wins, never the applicant's."""
    if application.user_id == operator_id:
        raise errors.OwnApplication()
    if application.status != ApplicationStatus.PENDING:
        raise errors.ApplicationDecided(status=application.status)
    moved = _rowcount(
        session.execute(
            update(LeaderApplication)
            .where(
                LeaderApplication.id == application.id,
                LeaderApplication.status == ApplicationStatus.PENDING,
            )
            .values(status=status, decided_at=clock.now(), decided_by=operator_id, **values)
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(application)
    if moved != 1:
        raise errors.ApplicationDecided(status=application.status)


@dataclass(frozen=True)
class Approval:
    application: LeaderApplication
    leader: Leader
    pickup_point: PickupPoint


def approve_application(session: Session, application_id: int, *, operator_id: int) -> Approval:
    """Approve: the leader and their first pickup point are created once, with the decision."""
    application = get_application(session, application_id)
    _decide(session, application, ApplicationStatus.APPROVED, operator_id)
    if find_leader_by_user(session, application.user_id) is not None:
        raise errors.AlreadyLeader("the applicant is already a leader; reject this application")
    now = clock.now()
    leader = Leader(
        user_id=application.user_id,
        application_id=application.id,
        status=LeaderStatus.ACTIVE,
        created_at=now,
    )
    session.add(leader)
    try:
        session.flush()
    except IntegrityError as exc:
        raise errors.AlreadyLeader() from exc
    point = PickupPoint(
        leader_id=leader.id,
        name=application.name,
        address=application.address,
        latitude=application.latitude,
        longitude=application.longitude,
        geohash=geo.geohash(application.latitude, application.longitude),
        opening_hours=application.opening_hours,
        active=True,
        created_at=now,
    )
    session.add(point)
    session.flush()
    outbox.emit(
        session,
        "leader.approved",
        {
            "user_ids": [application.user_id],
            "application_id": application.id,
            "leader_id": leader.id,
            "pickup_point_id": point.id,
            "pickup_point": point.name,
        },
    )
    return Approval(application, leader, point)


def reject_application(
    session: Session, application_id: int, *, operator_id: int, reason: str
) -> LeaderApplication:
    reason = _text(reason, field="reason", max_len=rules.REASON_MAX)
    application = get_application(session, application_id)
    _decide(session, application, ApplicationStatus.REJECTED, operator_id, reject_reason=reason)
    outbox.emit(
        session,
        "leader.rejected",
        {"user_ids": [application.user_id], "application_id": application.id, "reason": reason},
    )
    return application


# ---------------------------------------------------------------- leaders


def get_leader(session: Session, leader_id: int) -> Leader:
    return get_or_404(session, Leader, leader_id, errors.LeaderNotFound)


def get_leader_by_user(session: Session, user_id: int) -> Leader:
    """The caller's leader record; :class:`errors.NotALeader` (403) if they are not one."""
    leader = find_leader_by_user(session, user_id)
    if leader is None:
        raise errors.NotALeader()
    return leader


def require_publishing_leader(session: Session, user_id: int) -> Leader:
    """A leader who may publish now: not a leader → ``not_a_leader``; paused → ``leader_paused``."""
    leader = get_leader_by_user(session, user_id)
    if leader.status == LeaderStatus.PAUSED:
        raise errors.LeaderPaused(reason=leader.paused_reason)
    return leader


def list_leaders(session: Session, *, status: str | None = None, limit: int = 200) -> list[Leader]:
    query = select(Leader).order_by(Leader.id).limit(limit)
    if status is not None:
        if status not in rules.LEADER_STATUSES:
            raise InvalidInput("unknown leader status", field="status")
        query = query.where(Leader.status == status)
    return list(session.scalars(query))


def set_leader_status(session: Session, leader_id: int, status: str, reason: str) -> Leader:
    """Pause (reason required) or resume a leader; the leader is told. Same status: a no-op."""
    if status not in rules.LEADER_STATUSES:
        raise InvalidInput("a leader is active or paused", field="status")
    reason = _text(
        reason, field="reason", max_len=rules.REASON_MAX, required=status == LeaderStatus.PAUSED
    )
    leader = get_leader(session, leader_id)
    paused = status == LeaderStatus.PAUSED
    moved = _rowcount(
        session.execute(
            update(Leader)
            .where(Leader.id == leader_id, Leader.status != status)
            .values(
                status=status,
                paused_reason=reason if paused else None,
                paused_at=clock.now() if paused else None,
            )
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(leader)
    if moved:
        outbox.emit(
            session,
            "leader.paused" if paused else "leader.resumed",
            {"user_ids": [leader.user_id], "leader_id": leader.id, "reason": reason},
        )
    return leader


def sub_leaders(session: Session, leader_id: int) -> list[Leader]:
    return list(
        session.scalars(
            select(Leader).where(Leader.parent_leader_id == leader_id).order_by(Leader.id)
        )
    )


def upline(session: Session, leader_id: int) -> list[int]:
    """The leaders above ``leader_id``: ``[parent]`` or ``[]`` (never deeper)."""
    leader = get_leader(session, leader_id)
    return [leader.parent_leader_id] if leader.parent_leader_id is not None else []


def upline_at(session: Session, leader_id: int, when: datetime) -> list[int]:
    """The leader above ``leader_id`` at ``when`` (``[parent]`` or ``[]``), from the history
    of their links: a link holds from its acceptance (included) to its end (excluded)."""
    links = session.execute(
        select(SubLeaderLink.parent_leader_id, SubLeaderLink.started_at, SubLeaderLink.ended_at)
        .where(SubLeaderLink.leader_id == leader_id)
        .order_by(SubLeaderLink.id)
    )
    parent = rules.linked_at([(p, s, e) for p, s, e in links], when)
    return [] if parent is None else [parent]


def _lock_leaders(session: Session, *leader_ids: int) -> dict[int, Leader]:
    """Lock the leaders' rows in id order: every change of a parent or of sub-leaders locks
    the rows it changes this way, so the checks made under these locks cannot go stale."""
    return {
        leader.id: leader
        for leader in session.scalars(
            select(Leader)
            .where(Leader.id.in_(set(leader_ids)))
            .order_by(Leader.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


def _check_link(session: Session, parent: Leader, sub: Leader) -> None:
    """Refuse to make ``sub`` a sub-leader of ``parent`` (rows locked by the caller)."""
    if parent.id == sub.id:
        raise errors.SelfRecruit()
    if sub.parent_leader_id == parent.id:
        raise errors.AlreadyYourSubLeader()
    has_subs = (
        session.scalar(select(Leader.id).where(Leader.parent_leader_id == sub.id).limit(1))
        is not None
    )
    refusal = rules.recruit_refusal(
        parent.id,
        sub.id,
        recruiter_parent=parent.parent_leader_id,
        recruit_parent=sub.parent_leader_id,
        recruit_has_subs=has_subs,
    )
    if refusal == "self":
        raise errors.SelfRecruit()
    if refusal == "third_level":
        raise errors.ThirdLevelRefused()


def _invitation(session: Session, invitation_id: int) -> SubLeaderInvitation:
    return get_or_404(session, SubLeaderInvitation, invitation_id, errors.InvitationNotFound)


def _own_invitation(
    session: Session, user_id: int, invitation_id: int, *, side: str
) -> tuple[Leader, SubLeaderInvitation]:
    """The caller's leader and an invitation they sent (``side="inviter"``) or received
    (``"invitee"``); anyone else's is not found (404), never 403."""
    leader = get_leader_by_user(session, user_id)
    invitation = _invitation(session, invitation_id)
    owner = invitation.inviter_leader_id if side == "inviter" else invitation.invitee_leader_id
    if owner != leader.id:
        raise errors.InvitationNotFound()
    return leader, invitation


def invitation_status(invitation: SubLeaderInvitation) -> str:
    return rules.invitation_status(invitation.status, invitation.expires_at, clock.now())


def _move_invitation(
    session: Session, invitation: SubLeaderInvitation, status: str, now: datetime
) -> bool:
    """Compare-and-set pending → ``status``; whether this call moved it."""
    moved = _rowcount(
        session.execute(
            update(SubLeaderInvitation)
            .where(
                SubLeaderInvitation.id == invitation.id,
                SubLeaderInvitation.status == InvitationStatus.PENDING,
            )
            .values(status=status, decided_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(invitation)
    return moved == 1


def invite_sub_leader(
    session: Session, inviter_user_id: int, invitee_leader_id: int
) -> SubLeaderInvitation:
    """The caller (a leader) invites another approved leader to become their sub-leader.

    Nothing changes until the invitee accepts. Inviting again while an invitation to the same
    leader is pending returns that invitation. A paused leader recruits nobody
    (``leader_paused``), as they publish nothing.
    """
    inviter = require_publishing_leader(session, inviter_user_id)
    get_leader(session, invitee_leader_id)
    if inviter.id == invitee_leader_id:
        raise errors.SelfRecruit()
    locked = _lock_leaders(session, inviter.id, invitee_leader_id)
    inviter, invitee = locked[inviter.id], locked[invitee_leader_id]
    _check_link(session, inviter, invitee)
    now = clock.now()
    pending = session.scalar(
        select(SubLeaderInvitation).where(
            SubLeaderInvitation.inviter_leader_id == inviter.id,
            SubLeaderInvitation.invitee_leader_id == invitee.id,
            SubLeaderInvitation.status == InvitationStatus.PENDING,
        )
    )
    if pending is not None:
        if invitation_status(pending) == InvitationStatus.PENDING:
            return pending
        _move_invitation(session, pending, InvitationStatus.EXPIRED, pending.expires_at)
    invitation = SubLeaderInvitation(
        inviter_leader_id=inviter.id,
        invitee_leader_id=invitee.id,
        status=InvitationStatus.PENDING,
        created_at=now,
        expires_at=now + timedelta(days=get_settings().sub_leader_invitation_days),
    )
    session.add(invitation)
    session.flush()
    names = accounts.masked_names(session, [inviter.user_id])
    outbox.emit(
        session,
        "leader.invited",
        {
            "user_ids": [invitee.user_id],
            "invitation_id": invitation.id,
            "leader_id": invitee.id,
            "parent_leader_id": inviter.id,
            "recruiter": names.get(inviter.user_id, ""),
            "days": get_settings().sub_leader_invitation_days,
        },
    )
    return invitation


def current_link(session: Session, leader_id: int) -> SubLeaderLink | None:
    return session.scalar(
        select(SubLeaderLink).where(
            SubLeaderLink.leader_id == leader_id, SubLeaderLink.ended_at.is_(None)
        )
    )


def _link_of_invitation(session: Session, invitation_id: int) -> SubLeaderLink:
    link = session.scalar(select(SubLeaderLink).where(SubLeaderLink.invitation_id == invitation_id))
    assert link is not None
    return link


def accept_invitation(
    session: Session, user_id: int, invitation_id: int
) -> tuple[SubLeaderInvitation, SubLeaderLink]:
    """The invitee accepts: they become the inviter's sub-leader from now on. Accepting again
    returns the same link."""
    invitee, invitation = _own_invitation(session, user_id, invitation_id, side="invitee")
    locked = _lock_leaders(session, invitation.inviter_leader_id, invitee.id)
    inviter, invitee = locked[invitation.inviter_leader_id], locked[invitee.id]
    session.refresh(invitation)
    if invitation.status == InvitationStatus.ACCEPTED:
        return invitation, _link_of_invitation(session, invitation.id)
    status = invitation_status(invitation)
    if status == InvitationStatus.EXPIRED:
        raise errors.InvitationExpired(expires_at=clock.iso(invitation.expires_at))
    if status != InvitationStatus.PENDING:
        raise errors.InvitationAnswered(status=status)
    _check_link(session, inviter, invitee)
    now = clock.now()
    if not _move_invitation(session, invitation, InvitationStatus.ACCEPTED, now):
        if invitation.status == InvitationStatus.ACCEPTED:  # a twin won: the same link
            return invitation, _link_of_invitation(session, invitation.id)
        raise errors.InvitationAnswered(status=invitation.status)
    invitee.parent_leader_id = inviter.id
    link = SubLeaderLink(
        parent_leader_id=inviter.id,
        leader_id=invitee.id,
        invitation_id=invitation.id,
        started_at=now,
    )
    session.add(link)
    session.flush()
    names = accounts.masked_names(session, [invitee.user_id])
    outbox.emit(
        session,
        "leader.invitation_accepted",
        {
            "user_ids": [inviter.user_id],
            "invitation_id": invitation.id,
            "leader_id": invitee.id,
            "sub_leader": names.get(invitee.user_id, ""),
        },
    )
    return invitation, link


def decline_invitation(session: Session, user_id: int, invitation_id: int) -> SubLeaderInvitation:
    """The invitee declines; declining again changes nothing."""
    _, invitation = _own_invitation(session, user_id, invitation_id, side="invitee")
    return _close_invitation(session, invitation, InvitationStatus.DECLINED)


def cancel_invitation(session: Session, user_id: int, invitation_id: int) -> SubLeaderInvitation:
    """The inviter takes back a pending invitation; cancelling again changes nothing."""
    _, invitation = _own_invitation(session, user_id, invitation_id, side="inviter")
    return _close_invitation(session, invitation, InvitationStatus.CANCELLED)


def _close_invitation(
    session: Session, invitation: SubLeaderInvitation, status: InvitationStatus
) -> SubLeaderInvitation:
    if invitation.status == status:
        return invitation
    current = invitation_status(invitation)
    if current == InvitationStatus.EXPIRED and status == InvitationStatus.DECLINED:
        raise errors.InvitationExpired(expires_at=clock.iso(invitation.expires_at))
    if invitation.status != InvitationStatus.PENDING:
        raise errors.InvitationAnswered(status=current)
    if not _move_invitation(session, invitation, status, clock.now()):
        if invitation.status == status:
            return invitation
        raise errors.InvitationAnswered(status=invitation_status(invitation))
    if status == InvitationStatus.DECLINED:
        inviter = get_leader(session, invitation.inviter_leader_id)
        invitee = get_leader(session, invitation.invitee_leader_id)
        names = accounts.masked_names(session, [invitee.user_id])
        outbox.emit(
            session,
            "leader.invitation_declined",
            {
                "user_ids": [inviter.user_id],
                "invitation_id": invitation.id,
                "leader_id": invitee.id,
                "sub_leader": names.get(invitee.user_id, ""),
            },
        )
    return invitation


def _end_link(
    session: Session,
    sub: Leader,
    link: SubLeaderLink | None,
    *,
    reason: LinkEnd,
    by: int,
    note: str | None,
) -> SubLeaderLink:
    """End the current link of ``sub`` (rows locked by the caller): the override stops for
    sales paid from now on."""
    now = clock.now()
    if link is None:  # a parent set before links were recorded: record it as it ends
        assert sub.parent_leader_id is not None
        link = SubLeaderLink(
            parent_leader_id=sub.parent_leader_id, leader_id=sub.id, started_at=sub.created_at
        )
        session.add(link)
    link.ended_at = now
    link.end_reason = reason
    link.ended_by = by
    link.end_note = note
    sub.parent_leader_id = None
    session.flush()
    return link


def leave_upline(session: Session, user_id: int) -> SubLeaderLink:
    """A sub-leader leaves their leader: from now on their sales earn that leader no override
    (sales paid before keep theirs), and they may recruit sub-leaders of their own."""
    leader = get_leader_by_user(session, user_id)
    if leader.parent_leader_id is None:
        raise errors.NotASubLeader()
    locked = _lock_leaders(session, leader.id, leader.parent_leader_id)
    leader = locked[leader.id]
    parent_id = leader.parent_leader_id
    if parent_id is None:
        raise errors.NotASubLeader()
    link = _end_link(
        session,
        leader,
        current_link(session, leader.id),
        reason=LinkEnd.LEFT,
        by=user_id,
        note=None,
    )
    parent = get_leader(session, parent_id)
    names = accounts.masked_names(session, [leader.user_id])
    outbox.emit(
        session,
        "leader.sub_leader_left",
        {
            "user_ids": [parent.user_id],
            "leader_id": leader.id,
            "link_id": link.id,
            "sub_leader": names.get(leader.user_id, ""),
        },
    )
    return link


def get_link(session: Session, link_id: int) -> SubLeaderLink:
    return get_or_404(session, SubLeaderLink, link_id, errors.SubLeaderLinkNotFound)


def end_link(session: Session, link_id: int, *, operator_id: int, reason: str) -> SubLeaderLink:
    """An operator ends a sub-leader link, with a reason both leaders read. Ending an
    ended link changes nothing."""
    reason = _text(reason, field="reason", max_len=rules.REASON_MAX)
    link = get_link(session, link_id)
    if link.ended_at is not None:
        return link
    locked = _lock_leaders(session, link.leader_id, link.parent_leader_id)
    session.refresh(link)
    if link.ended_at is not None:
        return link
    sub, parent = locked[link.leader_id], locked[link.parent_leader_id]
    _end_link(session, sub, link, reason=LinkEnd.ENDED_BY_OPERATOR, by=operator_id, note=reason)
    outbox.emit(
        session,
        "leader.link_ended",
        {
            "user_ids": [sub.user_id, parent.user_id],
            "link_id": link.id,
            "leader_id": sub.id,
            "parent_leader_id": parent.id,
            "reason": reason,
        },
    )
    return link


@dataclass(frozen=True)
class InvitationView:
    invitation: SubLeaderInvitation
    status: str  # as it is now: a pending one past its expiry is "expired"
    inviter: Person
    invitee: Person


@dataclass(frozen=True)
class LinkView:
    link: SubLeaderLink
    parent: Person
    sub: Person


def _leader_people(session: Session, leader_ids: list[int]) -> dict[int, Person]:
    users: dict[int, int] = {
        int(lid): int(uid)
        for lid, uid in session.execute(
            select(Leader.id, Leader.user_id).where(Leader.id.in_(set(leader_ids)))
        )
    }
    who = people(session, list(users.values()))
    return {lid: who[uid] for lid, uid in users.items()}


def _invitation_views(
    session: Session, invitations: list[SubLeaderInvitation]
) -> list[InvitationView]:
    who = _leader_people(
        session, [x for i in invitations for x in (i.inviter_leader_id, i.invitee_leader_id)]
    )
    return [
        InvitationView(i, invitation_status(i), who[i.inviter_leader_id], who[i.invitee_leader_id])
        for i in invitations
    ]


def _link_views(session: Session, links: list[SubLeaderLink]) -> list[LinkView]:
    who = _leader_people(session, [x for k in links for x in (k.parent_leader_id, k.leader_id)])
    return [LinkView(k, who[k.parent_leader_id], who[k.leader_id]) for k in links]


def invitation_view(session: Session, invitation: SubLeaderInvitation) -> InvitationView:
    return _invitation_views(session, [invitation])[0]


def link_view(session: Session, link: SubLeaderLink) -> LinkView:
    return _link_views(session, [link])[0]


@dataclass(frozen=True)
class MyInvitations:
    received: list[InvitationView]
    sent: list[InvitationView]


def my_invitations(session: Session, user_id: int, *, limit: int = 50) -> MyInvitations:
    """The sub-leader invitations a leader received and sent, newest first."""
    leader = get_leader_by_user(session, user_id)

    def of(column: Any) -> list[SubLeaderInvitation]:
        return list(
            session.scalars(
                select(SubLeaderInvitation)
                .where(column == leader.id)
                .order_by(SubLeaderInvitation.id.desc())
                .limit(limit)
            )
        )

    return MyInvitations(
        received=_invitation_views(session, of(SubLeaderInvitation.invitee_leader_id)),
        sent=_invitation_views(session, of(SubLeaderInvitation.inviter_leader_id)),
    )


def list_invitations(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[InvitationView]:
    """The operator's view of invitations, newest first; ``status`` as it is now."""
    if status is not None and status not in rules.INVITATION_STATUSES:
        raise InvalidInput("unknown invitation status", field="status")
    query = select(SubLeaderInvitation).order_by(SubLeaderInvitation.id.desc())
    now = clock.now()
    if status == InvitationStatus.PENDING:
        query = query.where(
            SubLeaderInvitation.status == status, SubLeaderInvitation.expires_at > now
        )
    elif status == InvitationStatus.EXPIRED:
        query = query.where(
            (SubLeaderInvitation.status == status)
            | (
                (SubLeaderInvitation.status == InvitationStatus.PENDING)
                & (SubLeaderInvitation.expires_at <= now)
            )
        )
    elif status is not None:
        query = query.where(SubLeaderInvitation.status == status)
    return _invitation_views(session, list(session.scalars(query.limit(limit))))


def list_links(
    session: Session, *, current: bool | None = None, limit: int = 200
) -> list[LinkView]:
    """The operator's view of sub-leader links: current ones (``current=True``), ended ones
    (``False``, the history) or all, newest first."""
    query = select(SubLeaderLink).order_by(SubLeaderLink.id.desc()).limit(limit)
    if current is True:
        query = query.where(SubLeaderLink.ended_at.is_(None))
    elif current is False:
        query = query.where(SubLeaderLink.ended_at.is_not(None))
    return _link_views(session, list(session.scalars(query)))


# ---------------------------------------------------------------- pickup points


def get_pickup_point(session: Session, pickup_point_id: int) -> PickupPoint:
    return get_or_404(session, PickupPoint, pickup_point_id, errors.PickupPointNotFound)


def require_own_pickup_point(session: Session, leader_id: int, pickup_point_id: int) -> PickupPoint:
    """A pickup point of this leader; another leader's is answered as a missing one (404)."""
    point = get_pickup_point(session, pickup_point_id)
    if point.leader_id != leader_id:
        raise errors.NotYourPickupPoint()
    return point


def my_pickup_points(session: Session, user_id: int) -> list[PickupPoint]:
    return pickup_points_of(session, get_leader_by_user(session, user_id).id)


def pickup_points_of(
    session: Session, leader_id: int, *, active_only: bool = False
) -> list[PickupPoint]:
    query = select(PickupPoint).where(PickupPoint.leader_id == leader_id).order_by(PickupPoint.id)
    if active_only:
        query = query.where(PickupPoint.active.is_(True))
    return list(session.scalars(query))


def add_pickup_point(session: Session, user_id: int, data: PickupPointInput) -> PickupPoint:
    leader = get_leader_by_user(session, user_id)
    data = _check_point(data)
    point = PickupPoint(
        leader_id=leader.id,
        name=data.name,
        address=data.address,
        latitude=data.latitude,
        longitude=data.longitude,
        geohash=geo.geohash(data.latitude, data.longitude),
        opening_hours=data.opening_hours,
        active=True,
        created_at=clock.now(),
    )
    session.add(point)
    session.flush()
    return point


def update_pickup_point(
    session: Session,
    user_id: int,
    pickup_point_id: int,
    *,
    name: str | None = None,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    opening_hours: str | None = None,
    active: bool | None = None,
) -> PickupPoint:
    leader = get_leader_by_user(session, user_id)
    point = require_own_pickup_point(session, leader.id, pickup_point_id)
    data = _check_point(
        PickupPointInput(
            name=point.name if name is None else name,
            address=point.address if address is None else address,
            latitude=point.latitude if latitude is None else latitude,
            longitude=point.longitude if longitude is None else longitude,
            opening_hours=point.opening_hours if opening_hours is None else opening_hours,
        )
    )
    point.name, point.address = data.name, data.address
    point.latitude, point.longitude = data.latitude, data.longitude
    point.geohash = geo.geohash(data.latitude, data.longitude)
    point.opening_hours = data.opening_hours
    if active is not None:
        point.active = active
    session.flush()
    return point


# ---------------------------------------------------------------- communities


def get_community(session: Session, community_id: int) -> Community:
    return get_or_404(session, Community, community_id, errors.CommunityNotFound)


def community_by_invite(session: Session, code: str) -> Community:
    if not rules.valid_invite_code(code):
        raise errors.InviteNotFound()
    community = session.scalar(select(Community).where(Community.invite_code == code))
    if community is None:
        raise errors.InviteNotFound()
    return community


def membership(session: Session, community_id: int, user_id: int) -> CommunityMember | None:
    return session.scalar(
        select(CommunityMember).where(
            CommunityMember.community_id == community_id, CommunityMember.user_id == user_id
        )
    )


def is_member(session: Session, community_id: int, user_id: int) -> bool:
    """Whether the user belongs to the community (its leader does)."""
    return membership(session, community_id, user_id) is not None


def communities_of(session: Session, user_id: int) -> list[Community]:
    """The communities the user belongs to (including those they lead), in joining order."""
    return list(
        session.scalars(
            select(Community)
            .join(CommunityMember, CommunityMember.community_id == Community.id)
            .where(CommunityMember.user_id == user_id)
            .order_by(CommunityMember.joined_at, CommunityMember.id)
        )
    )


def my_communities(session: Session, user_id: int) -> list[tuple[Community, str, int]]:
    """(community, the user's role, member count) for each community the user belongs to."""
    rows = [
        (community, str(role))
        for community, role in session.execute(
            select(Community, CommunityMember.role)
            .join(CommunityMember, CommunityMember.community_id == Community.id)
            .where(CommunityMember.user_id == user_id)
            .order_by(CommunityMember.joined_at, CommunityMember.id)
        )
    ]
    counts = member_counts(session, [c.id for c, _ in rows])
    return [(c, role, counts[c.id]) for c, role in rows]


def communities_led_by(session: Session, leader_id: int) -> list[Community]:
    return list(
        session.scalars(
            select(Community).where(Community.leader_id == leader_id).order_by(Community.id)
        )
    )


def member_counts(session: Session, community_ids: list[int]) -> dict[int, int]:
    """Members per community (the leader included)."""
    if not community_ids:
        return {}
    rows = session.execute(
        select(CommunityMember.community_id, func.count())
        .where(CommunityMember.community_id.in_(set(community_ids)))
        .group_by(CommunityMember.community_id)
    )
    counts = {cid: 0 for cid in community_ids}
    counts.update({int(cid): int(n) for cid, n in rows})
    return counts


def create_community(
    session: Session, user_id: int, *, name: str, rules_text: str = ""
) -> Community:
    leader = get_leader_by_user(session, user_id)
    community = Community(
        leader_id=leader.id,
        name=_text(name, field="name", max_len=rules.NAME_MAX),
        rules="",
        rules_version=0,
        invite_code=_fresh_invite_code(session),
        created_at=clock.now(),
    )
    text = _text(rules_text, field="rules", max_len=rules.RULES_MAX, required=False)
    session.add(community)
    session.flush()
    session.add(
        CommunityMember(
            community_id=community.id, user_id=user_id, role="leader", joined_at=clock.now()
        )
    )
    session.flush()
    if text:
        _new_rules_version(session, community, user_id, text)
    return community


def _fresh_invite_code(session: Session) -> str:
    # 72 random bits: a clash is all but impossible; the unique index is the backstop.
    for _ in range(5):
        code = rules.new_invite_code()
        if session.scalar(select(Community.id).where(Community.invite_code == code)) is None:
            return code
    raise RuntimeError("could not draw an unused invite code")


def assert_can_manage(session: Session, user_id: int, community_id: int) -> Community:
    """The community, if the user is its leader or one of its admins; else 403 for its
    members, and 404 for others (as if there were none: ids reveal nothing)."""
    community = get_community(session, community_id)
    m = membership(session, community_id, user_id)
    if m is not None and m.role in rules.MANAGER_ROLES:
        return community
    if get_leader(session, community.leader_id).user_id == user_id:
        return community
    if m is None:
        raise errors.CommunityNotFound()
    raise errors.NotCommunityManager()


def require_community_leader(session: Session, user_id: int, community_id: int) -> Community:
    """The community, for its own leader; its members get 403, anyone else the 404 of a
    missing community (ids reveal nothing)."""
    community = get_community(session, community_id)
    if get_leader(session, community.leader_id).user_id != user_id:
        if not is_member(session, community_id, user_id):
            raise errors.CommunityNotFound()  # not in it: as if there were none
        raise errors.NotCommunityLeader()
    return community


def update_community(
    session: Session,
    user_id: int,
    community_id: int,
    *,
    name: str | None = None,
    rules_text: str | None = None,
) -> Community:
    """The leader or an admin renames the community or edits its rules (群规)."""
    community = assert_can_manage(session, user_id, community_id)
    if name is not None:
        community.name = _text(name, field="name", max_len=rules.NAME_MAX)
    if rules_text is not None:
        text = _text(rules_text, field="rules", max_len=rules.RULES_MAX, required=False)
        if text != community.rules:
            _new_rules_version(session, community, user_id, text)
    session.flush()
    return community


def regenerate_invite(session: Session, user_id: int, community_id: int) -> Community:
    """A new invite link (the old one stops working), e.g. after it leaked."""
    community = require_community_leader(session, user_id, community_id)
    community.invite_code = _fresh_invite_code(session)
    session.flush()
    return community


def join_by_invite(
    session: Session, code: str, user_id: int, *, rules_version: int | None = None
) -> tuple[CommunityMember, bool]:
    """Join through the invite link; joining again is a no-op. Returns (membership, new).

    A community with rules is joined only by accepting their current version
    (``rules_version``), recorded with the membership; else ``rules_not_accepted``."""
    community = community_by_invite(session, code)
    accounts.get_user(session, user_id)
    existing = membership(session, community.id, user_id)
    current = current_rules_version(community)
    if existing is not None:
        if current and rules_version == current:
            _record_acceptance(session, community.id, user_id, current)
        return existing, False
    if current:
        if rules_version != current:
            raise errors.RulesNotAccepted(
                f"accept version {current} of the community's rules to join", version=current
            )
        _record_acceptance(session, community.id, user_id, current)
    inserted = _rowcount(
        session.execute(
            _insert(session)(CommunityMember)
            .values(
                community_id=community.id, user_id=user_id, role="member", joined_at=clock.now()
            )
            .on_conflict_do_nothing(index_elements=["community_id", "user_id"])
        )
    )
    found = membership(session, community.id, user_id)
    assert found is not None
    return found, inserted == 1


def leave_community(session: Session, community_id: int, user_id: int) -> None:
    get_community(session, community_id)
    m = membership(session, community_id, user_id)
    if m is None:
        raise errors.NotAMember()
    if m.role == "leader":
        raise errors.LeaderCannotLeave()
    session.delete(m)
    session.flush()


def members(
    session: Session, user_id: int, community_id: int, *, limit: int = 200, offset: int = 0
) -> list[tuple[CommunityMember, Person]]:
    """The members as a manager sees them: nickname, masked phone, role, joined at."""
    assert_can_manage(session, user_id, community_id)
    rows = list(
        session.scalars(
            select(CommunityMember)
            .where(CommunityMember.community_id == community_id)
            .order_by(CommunityMember.joined_at, CommunityMember.id)
            .limit(limit)
            .offset(offset)
        )
    )
    who = people(session, [m.user_id for m in rows])
    return [(m, who[m.user_id]) for m in rows]


def set_admin(
    session: Session, user_id: int, community_id: int, member_user_id: int, *, admin: bool
) -> CommunityMember:
    """The community's leader names (``admin=True``) or removes an admin; they must be a member."""
    require_community_leader(session, user_id, community_id)
    m = membership(session, community_id, member_user_id)
    if m is None:
        raise errors.NotAMember()
    if m.role == "leader":
        raise InvalidInput("the leader already manages this community", field="user_id")
    m.role = "admin" if admin else "member"
    session.flush()
    return m


# ---------------------------------------------------------------- rules (群规)


def current_rules_version(community: Community) -> int:
    """The version a member must have accepted: 0 when the community has no rules (never
    written, or cleared by saving an empty text)."""
    return community.rules_version if community.rules_version and community.rules else 0


def _new_rules_version(session: Session, community: Community, user_id: int, text: str) -> int:
    """Append a version: the counter is bumped by one UPDATE (a row lock on PostgreSQL, the
    write lock on SQLite), so concurrent saves get distinct, consecutive numbers."""
    session.execute(
        update(Community)
        .where(Community.id == community.id)
        .values(rules_version=Community.rules_version + 1, rules=text)
        .execution_options(synchronize_session=False)
    )
    session.refresh(community, ["rules_version", "rules"])
    version = community.rules_version
    session.add(
        CommunityRulesVersion(
            community_id=community.id,
            version=version,
            text=text,
            author_id=user_id,
            created_at=clock.now(),
        )
    )
    session.flush()
    if text:  # the author accepts what they wrote
        _record_acceptance(session, community.id, user_id, version)
    return version


def _record_acceptance(session: Session, community_id: int, user_id: int, version: int) -> bool:
    """Record the acceptance once (a repeat changes nothing). True when it is new."""
    return (
        _rowcount(
            session.execute(
                _insert(session)(CommunityRulesAcceptance)
                .values(
                    community_id=community_id,
                    user_id=user_id,
                    version=version,
                    accepted_at=clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["community_id", "user_id", "version"])
            )
        )
        == 1
    )


def _assert_may_see_rules(session: Session, community: Community, user_id: int | None) -> None:
    """The rules of a community are for its members (the invite page shows them to anyone
    who holds the link); others get 404, as if there were none."""
    if user_id is None or not is_member(session, community.id, user_id):
        raise errors.CommunityNotFound()


@dataclass
class RulesState:
    community: Community
    current: CommunityRulesVersion | None
    accepted_version: int | None  # the newest version the user accepted (None: none)

    @property
    def version(self) -> int:
        return current_rules_version(self.community)

    @property
    def needs_acceptance(self) -> bool:
        return self.version > 0 and self.accepted_version != self.version


def rules_version_row(
    session: Session, community_id: int, version: int
) -> CommunityRulesVersion | None:
    return session.scalar(
        select(CommunityRulesVersion).where(
            CommunityRulesVersion.community_id == community_id,
            CommunityRulesVersion.version == version,
        )
    )


def accepted_version(session: Session, community_id: int, user_id: int) -> int | None:
    found = session.scalar(
        select(func.max(CommunityRulesAcceptance.version)).where(
            CommunityRulesAcceptance.community_id == community_id,
            CommunityRulesAcceptance.user_id == user_id,
        )
    )
    return int(found) if found is not None else None


def rules_state(session: Session, community_id: int, user_id: int) -> RulesState:
    """A member's view of the rules: the current version and whether they accepted it."""
    community = get_community(session, community_id)
    _assert_may_see_rules(session, community, user_id)
    version = current_rules_version(community)
    return RulesState(
        community=community,
        current=rules_version_row(session, community_id, version) if version else None,
        accepted_version=accepted_version(session, community_id, user_id),
    )


def rules_history(
    session: Session, user_id: int, community_id: int, *, limit: int = 100
) -> list[CommunityRulesVersion]:
    """Every version, newest first: the community's leader and admins."""
    assert_can_manage(session, user_id, community_id)
    return list(
        session.scalars(
            select(CommunityRulesVersion)
            .where(CommunityRulesVersion.community_id == community_id)
            .order_by(CommunityRulesVersion.version.desc())
            .limit(limit)
        )
    )


def save_rules(session: Session, user_id: int, community_id: int, text: str) -> Community:
    """The community's leader saves the rules (1–5000 characters): a new version, which every
    member must accept again before they post."""
    community = require_community_leader(session, user_id, community_id)
    text = _text(text, field="text", max_len=rules.RULES_MAX)
    _new_rules_version(session, community, user_id, text)
    return community


def accept_rules(session: Session, community_id: int, user_id: int, version: int) -> RulesState:
    """A member accepts the current version of the rules (again: no change). An older or
    unknown version is refused with ``rules_version_stale``, naming the current one."""
    community = get_community(session, community_id)
    _assert_may_see_rules(session, community, user_id)
    current = current_rules_version(community)
    if current == 0:
        raise errors.RulesNotFound()
    if version != current:
        raise errors.RulesVersionStale(
            f"the current rules are version {current}; read and accept them", version=current
        )
    _record_acceptance(session, community_id, user_id, current)
    return rules_state(session, community_id, user_id)


def require_rules_accepted(session: Session, *, community_id: int, user_id: int) -> None:
    """Refuse (403 ``rules_not_accepted``, naming the version) a member who has not accepted
    the community's current rules. The community's leader is never asked."""
    community = get_community(session, community_id)
    version = current_rules_version(community)
    if version == 0:
        return
    if get_leader(session, community.leader_id).user_id == user_id:
        return
    found = session.scalar(
        select(CommunityRulesAcceptance.id).where(
            CommunityRulesAcceptance.community_id == community_id,
            CommunityRulesAcceptance.user_id == user_id,
            CommunityRulesAcceptance.version == version,
        )
    )
    if found is None:
        raise errors.RulesNotAccepted(
            f"accept version {version} of the community's rules first", version=version
        )


def is_community_leader(session: Session, community_id: int, user_id: int) -> bool:
    community = get_community(session, community_id)
    return get_leader(session, community.leader_id).user_id == user_id


def is_manager(session: Session, community_id: int, user_id: int) -> bool:
    """The community's leader or one of its admins (分层管理)."""
    m = membership(session, community_id, user_id)
    if m is not None and m.role in rules.MANAGER_ROLES:
        return True
    return is_community_leader(session, community_id, user_id)


def managed_community_ids(session: Session, user_id: int) -> list[int]:
    """The communities the user leads or is an admin of."""
    led: set[int] = set()
    leader = session.scalar(select(Leader).where(Leader.user_id == user_id))
    if leader is not None:
        led = {c.id for c in communities_led_by(session, leader.id)}
    admin = session.scalars(
        select(CommunityMember.community_id).where(
            CommunityMember.user_id == user_id,
            CommunityMember.role.in_(rules.MANAGER_ROLES),
        )
    )
    return sorted(led | set(admin))


def assert_community_leader(session: Session, user_id: int, community_id: int) -> Community:
    """The community, if the user is its leader (403 for its members, 404 for others)."""
    return require_community_leader(session, user_id, community_id)


# ---------------------------------------------------------------- the leader's own view


@dataclass
class LeaderProfile:
    leader: Leader
    person: Person
    pickup_points: list[PickupPoint]
    communities: list[Community]
    member_counts: dict[int, int]
    parent: tuple[Leader, Person] | None
    sub_leaders: list[tuple[Leader, Person]]
    parent_since: datetime | None = None
    invitations: MyInvitations | None = None


def leader_profile(session: Session, user_id: int) -> LeaderProfile:
    leader = get_leader_by_user(session, user_id)
    communities = communities_led_by(session, leader.id)
    subs = sub_leaders(session, leader.id)
    parent = get_leader(session, leader.parent_leader_id) if leader.parent_leader_id else None
    related = [leader, *subs, *([parent] if parent else [])]
    who = people(session, [x.user_id for x in related])
    return LeaderProfile(
        leader=leader,
        person=who[leader.user_id],
        pickup_points=pickup_points_of(session, leader.id),
        communities=communities,
        member_counts=member_counts(session, [c.id for c in communities]),
        parent=(parent, who[parent.user_id]) if parent else None,
        sub_leaders=[(s, who[s.user_id]) for s in subs],
        parent_since=link.started_at if (link := current_link(session, leader.id)) else None,
        invitations=my_invitations(session, user_id),
    )


@dataclass
class InvitePage:
    community: Community
    leader_name: str
    member_count: int

    @property
    def rules_version(self) -> int:
        return current_rules_version(self.community)


def invite_page(session: Session, code: str) -> InvitePage:
    """What an invite link shows to anyone: name, the leader's masked name, members, rules."""
    community = community_by_invite(session, code)
    leader = get_leader(session, community.leader_id)
    return InvitePage(
        community=community,
        leader_name=accounts.masked_names(session, [leader.user_id]).get(leader.user_id, ""),
        member_count=member_counts(session, [community.id])[community.id],
    )


@dataclass
class QueuedApplication:
    application: LeaderApplication
    applicant: Person
    age_seconds: int


def application_queue(
    session: Session, *, status: str | None = ApplicationStatus.PENDING, limit: int = 200
) -> list[QueuedApplication]:
    """The operator's queue of applications, oldest first, each with its age."""
    apps = list_applications(session, status=status, limit=limit)
    who = people(session, [a.user_id for a in apps])
    now = clock.now()
    return [
        QueuedApplication(a, who[a.user_id], max(0, int((now - a.created_at).total_seconds())))
        for a in apps
    ]


# ---------------------------------------------------------------- nearby (附近)


NEARBY_LIMIT = 50  # the most pickup points one query answers with, nearest first


@dataclass(frozen=True)
class NearbyWave:
    """An open wave listed at a pickup point, as the caller may see it: its ``listing_id``
    and ``title`` only for those who may see the listing (its community's members, its
    leader, operators); anyone else learns only that the community has a wave open there."""

    community_id: int
    listing_id: int | None
    title: str | None
    cutoff_at: datetime | None


# (session, pickup point ids, viewer's user id, operator) → open waves per pickup point id.
OpenWaves = Callable[[Session, list[int], int | None, bool], dict[int, list[NearbyWave]]]
_open_waves: dict[str, OpenWaves] = {}


def register_open_waves(name: str, fn: OpenWaves) -> None:
    """The waves open at pickup points (``pools``, connected by wiring): this domain knows
    where the points are, not what is sold there."""
    _open_waves[name] = fn


@dataclass(frozen=True)
class NearbyCommunity:
    """A community whose leader keeps the point: what its invite page shows anyone (name,
    the leader's masked name, member count), whether the caller is in it, and its open
    waves at this point (their count for anyone; titles for whom may see them)."""

    community_id: int
    name: str
    leader_name: str
    member_count: int
    member: bool
    open_waves: int
    waves: list[NearbyWave]


@dataclass(frozen=True)
class NearbyPoint:
    point: PickupPoint
    distance_m: float
    walking_minutes: int
    communities: list[NearbyCommunity]


@dataclass(frozen=True)
class Nearby:
    centre: geo.Centre
    points: list[NearbyPoint]


def _prefilter(cells: list[str]) -> Any:
    ranges = []
    for cell in cells:
        low, high = geo.prefix_bounds(cell)
        if high is None:
            ranges.append(PickupPoint.geohash >= low)
        else:
            ranges.append(and_(PickupPoint.geohash >= low, PickupPoint.geohash < high))
    return or_(*ranges)


def points_near(
    session: Session, centre: geo.Centre, *, limit: int = NEARBY_LIMIT
) -> list[tuple[int, float]]:
    """The active pickup points within the radius, nearest first (ties by id), as (id,
    distance in metres). The geohash cells covering the circle fetch the candidates by an
    indexed range per cell (``ix_pickup_points_geohash``); the exact haversine distance
    then filters and sorts."""
    cells = geo.covering_cells(centre.latitude, centre.longitude, centre.radius_m)
    rows = session.execute(
        select(PickupPoint.id, PickupPoint.latitude, PickupPoint.longitude).where(
            _prefilter(cells), PickupPoint.active.is_(True)
        )
    )
    found = []
    for point_id, lat, lng in rows:
        d = geo.distance_m(centre.latitude, centre.longitude, lat, lng)
        if d <= centre.radius_m:
            found.append((point_id, d))
    found.sort(key=lambda pair: (pair[1], pair[0]))
    return found[:limit]


def nearby(
    session: Session,
    centre: geo.Centre,
    *,
    user_id: int | None,
    operator: bool = False,
    limit: int = NEARBY_LIMIT,
) -> Nearby:
    """Pickup points around ``centre`` (GCJ-02; see ``geo.service.centre``), nearest first,
    each with its distance, walking time, its leader's communities and their open waves."""
    near = points_near(session, centre, limit=limit)
    ids = [point_id for point_id, _ in near]
    points = {p.id: p for p in session.scalars(select(PickupPoint).where(PickupPoint.id.in_(ids)))}
    waves: dict[int, list[NearbyWave]] = {}
    for fn in _open_waves.values():
        for point_id, found in fn(session, ids, user_id, operator).items():
            waves.setdefault(point_id, []).extend(found)
    leader_ids = sorted({p.leader_id for p in points.values()})
    led: dict[int, list[Community]] = {}
    if leader_ids:
        for community in session.scalars(
            select(Community).where(Community.leader_id.in_(leader_ids)).order_by(Community.id)
        ):
            led.setdefault(community.leader_id, []).append(community)
    leaders = {
        leader.id: leader.user_id
        for leader in session.scalars(select(Leader).where(Leader.id.in_(leader_ids)))
    }
    names = accounts.masked_names(session, list(leaders.values()))
    community_ids = [c.id for cs in led.values() for c in cs]
    counts = member_counts(session, community_ids) if community_ids else {}
    mine: set[int] = set()
    if user_id is not None and community_ids:
        mine = set(
            session.scalars(
                select(CommunityMember.community_id).where(
                    CommunityMember.user_id == user_id,
                    CommunityMember.community_id.in_(community_ids),
                )
            )
        )
    answer = []
    for point_id, distance in near:
        point = points[point_id]
        at_point = waves.get(point_id, [])
        groups = []
        for community in led.get(point.leader_id, []):
            open_here = [w for w in at_point if w.community_id == community.id]
            groups.append(
                NearbyCommunity(
                    community_id=community.id,
                    name=community.name,
                    leader_name=names.get(leaders.get(point.leader_id, 0), ""),
                    member_count=counts.get(community.id, 0),
                    member=community.id in mine,
                    open_waves=len(open_here),
                    waves=[w for w in open_here if w.listing_id is not None],
                )
            )
        answer.append(
            NearbyPoint(
                point=point,
                distance_m=distance,
                walking_minutes=geo.walking_minutes(distance),
                communities=groups,
            )
        )
    return Nearby(centre=centre, points=answer)
