from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from tuangou.communities import rules
from tuangou.communities.models import (
    Community,
    CommunityMember,
    CommunityRulesVersion,
    Leader,
    LeaderApplication,
    PickupPoint,
    SubLeaderLink,
)
from tuangou.communities.service import (
    InvitationView,
    InvitePage,
    LeaderProfile,
    LinkView,
    MyInvitations,
    Nearby,
    NearbyCommunity,
    NearbyPoint,
    NearbyWave,
    Person,
    PickupPointInput,
    QueuedApplication,
    RulesState,
    current_rules_version,
)
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out

# ---------------------------------------------------------------- input


class PickupPointIn(In):
    name: str = Field(min_length=1, max_length=rules.NAME_MAX, examples=["幸福里 3 栋便利店"])
    address: str = Field(min_length=1, max_length=rules.ADDRESS_MAX, examples=["幸福里 3 栋 1 楼"])
    latitude: float = Field(ge=-90, le=90, examples=[31.2304])
    longitude: float = Field(ge=-180, le=180, examples=[121.4737])
    opening_hours: str = Field(default="", max_length=rules.HOURS_MAX, examples=["每天 9:00-21:00"])

    def data(self) -> PickupPointInput:
        return PickupPointInput(
            self.name, self.address, self.latitude, self.longitude, self.opening_hours
        )


class ApplicationIn(PickupPointIn):
    """A leader application: the first pickup point, and a note for the operator."""

    note: str = Field(default="", max_length=rules.NOTE_MAX)


class PickupPointPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=rules.NAME_MAX)
    address: str | None = Field(default=None, min_length=1, max_length=rules.ADDRESS_MAX)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: str | None = Field(default=None, max_length=rules.HOURS_MAX)
    active: bool | None = None


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class OptionalReasonIn(In):
    reason: str = Field(default="", max_length=rules.REASON_MAX)


class CommunityIn(In):
    name: str = Field(min_length=1, max_length=rules.NAME_MAX, examples=["幸福里业主团购群"])
    rules: str = Field(default="", max_length=rules.RULES_MAX, description="群规")


class CommunityPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=rules.NAME_MAX)
    rules: str | None = Field(default=None, max_length=rules.RULES_MAX)


class RulesIn(In):
    """The community's rules (群规): saving adds a version every member accepts again."""

    text: str = Field(min_length=1, max_length=rules.RULES_MAX, examples=["只发团购; 文明交流"])


class AcceptRulesIn(In):
    version: int = Field(ge=1, description="the version of the rules you read and accept")


class JoinIn(In):
    rules_version: int | None = Field(
        default=None,
        ge=1,
        description="the version of the community's rules you accept (needed when it has rules)",
    )


class AdminIn(In):
    user_id: int


class SubLeaderIn(In):
    """The leader to invite as your sub-leader (their leader number)."""

    leader_id: int


# ---------------------------------------------------------------- views


# ---------------------------------------------------------------- replies


class ProposedPointOut(Out):
    """The pickup point an application proposes."""

    name: str
    address: str
    latitude: float
    longitude: float
    opening_hours: str


class ApplicationOut(Out):
    """A leader application, with the decision and any reason."""

    id: int
    user_id: int
    status: str
    pickup_point: ProposedPointOut
    note: str
    reject_reason: str | None
    created_at: Iso
    decided_at: Iso | None
    decided_by: int | None

    @classmethod
    def of(cls, a: LeaderApplication) -> ApplicationOut:
        return cls.model_construct(
            id=a.id,
            user_id=a.user_id,
            status=a.status,
            pickup_point=ProposedPointOut.model_construct(
                name=a.name,
                address=a.address,
                latitude=a.latitude,
                longitude=a.longitude,
                opening_hours=a.opening_hours,
            ),
            note=a.note,
            reject_reason=a.reject_reason,
            created_at=clock.iso(a.created_at),
            decided_at=clock.iso(a.decided_at),
            decided_by=a.decided_by,
        )


class PersonOut(Out):
    """Someone as others see them: the phone number masked."""

    user_id: int
    nickname: str
    phone: str

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls.model_construct(user_id=p.user_id, nickname=p.nickname, phone=p.masked_phone)


class QueuedApplicationOut(ApplicationOut):
    """An application in the operator's queue, with who applied and how long ago."""

    applicant: PersonOut
    age_seconds: int

    @classmethod
    def queued(cls, q: QueuedApplication) -> QueuedApplicationOut:
        return cls.model_construct(
            **dict(ApplicationOut.of(q.application)),
            applicant=PersonOut.of(q.applicant),
            age_seconds=q.age_seconds,
        )


class PickupPointOut(Out):
    id: int
    leader_id: int
    name: str
    address: str
    latitude: float
    longitude: float
    opening_hours: str
    active: bool

    @classmethod
    def of(cls, p: PickupPoint) -> PickupPointOut:
        return cls.model_construct(
            id=p.id,
            leader_id=p.leader_id,
            name=p.name,
            address=p.address,
            latitude=p.latitude,
            longitude=p.longitude,
            opening_hours=p.opening_hours,
            active=p.active,
        )


class LeaderOut(Out):
    id: int
    user_id: int
    status: str
    paused_reason: str | None
    paused_at: Iso | None
    parent_leader_id: int | None
    created_at: Iso

    @classmethod
    def of(cls, leader: Leader) -> LeaderOut:
        return cls.model_construct(
            id=leader.id,
            user_id=leader.user_id,
            status=leader.status,
            paused_reason=leader.paused_reason,
            paused_at=clock.iso(leader.paused_at),
            parent_leader_id=leader.parent_leader_id,
            created_at=clock.iso(leader.created_at),
        )


class CommunityOut(Out):
    id: int
    leader_id: int
    name: str
    rules: str
    rules_version: int = Field(description="the current version of the rules; 0: no rules")
    invite_code: str
    invite_path: str
    created_at: Iso

    @classmethod
    def of(cls, c: Community) -> CommunityOut:
        return cls.model_construct(
            id=c.id,
            leader_id=c.leader_id,
            name=c.name,
            rules=c.rules,
            rules_version=current_rules_version(c),
            invite_code=c.invite_code,
            invite_path=f"/join/{c.invite_code}",
            created_at=clock.iso(c.created_at),
        )


class CountedCommunityOut(CommunityOut):
    member_count: int

    @classmethod
    def counted(cls, c: Community, member_count: int) -> CountedCommunityOut:
        return cls.model_construct(**dict(CommunityOut.of(c)), member_count=member_count)


class MyCommunityOut(CountedCommunityOut):
    """A community you belong to, with your role in it."""

    role: str

    @classmethod
    def mine(cls, c: Community, role: str, member_count: int) -> MyCommunityOut:
        return cls.model_construct(**dict(CommunityOut.of(c)), member_count=member_count, role=role)


class MembershipOut(Out):
    community_id: int
    user_id: int
    role: str
    joined_at: Iso

    @classmethod
    def of(cls, m: CommunityMember) -> MembershipOut:
        return cls.model_construct(
            community_id=m.community_id,
            user_id=m.user_id,
            role=m.role,
            joined_at=clock.iso(m.joined_at),
        )


class JoinedOut(MembershipOut):
    new: bool = Field(description="false when you were a member already")

    @classmethod
    def joined(cls, m: CommunityMember, new: bool) -> JoinedOut:
        return cls.model_construct(**dict(MembershipOut.of(m)), new=new)


class LeftCommunityOut(Out):
    left: bool
    community_id: int


class MemberOut(PersonOut):
    """A member of a community, as its leader and admins see them."""

    role: str
    joined_at: Iso

    @classmethod
    def member(cls, m: CommunityMember, p: Person) -> MemberOut:
        return cls.model_construct(
            **dict(PersonOut.of(p)), role=m.role, joined_at=clock.iso(m.joined_at)
        )


class InviteOut(Out):
    """What an invite link shows to anyone: name, the leader's masked name, members, rules."""

    community_id: int
    name: str
    leader_name: str
    member_count: int
    rules: str
    rules_version: int = Field(description="the version to accept on joining; 0: no rules")

    @classmethod
    def of(cls, page: InvitePage) -> InviteOut:
        c = page.community
        return cls.model_construct(
            community_id=c.id,
            name=c.name,
            leader_name=page.leader_name,
            member_count=page.member_count,
            rules=c.rules,
            rules_version=page.rules_version,
        )


class RulesVersionOut(Out):
    community_id: int
    version: int
    text: str
    author_id: int
    created_at: Iso

    @classmethod
    def of(cls, v: CommunityRulesVersion) -> RulesVersionOut:
        return cls.model_construct(
            community_id=v.community_id,
            version=v.version,
            text=v.text,
            author_id=v.author_id,
            created_at=clock.iso(v.created_at),
        )


class RulesOut(Out):
    """A community's current rules, and whether you accepted them."""

    community_id: int
    version: int = Field(description="0: the community has no rules")
    text: str
    created_at: Iso | None
    accepted_version: int | None = Field(description="the newest version you accepted")
    needs_acceptance: bool = Field(description="true until you accept the current version")

    @classmethod
    def of(cls, state: RulesState) -> RulesOut:
        return cls.model_construct(
            community_id=state.community.id,
            version=state.version,
            text=state.current.text if state.current else "",
            created_at=clock.iso(state.current.created_at) if state.current else None,
            accepted_version=state.accepted_version,
            needs_acceptance=state.needs_acceptance,
        )


class ParentLeaderOut(Out):
    leader_id: int
    name: str


class SubLeaderOut(ParentLeaderOut):
    status: str


class LeaderProfileOut(LeaderOut):
    """Your leader profile: pickup points, communities with member counts, sub-leaders."""

    nickname: str
    parent: ParentLeaderOut | None
    pickup_points: list[PickupPointOut]
    communities: list[CountedCommunityOut]
    sub_leaders: list[SubLeaderOut]

    @classmethod
    def profile(cls, p: LeaderProfile) -> LeaderProfileOut:
        return cls.model_construct(
            **dict(LeaderOut.of(p.leader)),
            nickname=p.person.nickname,
            parent=ParentLeaderOut.model_construct(
                leader_id=p.parent[0].id, name=p.parent[1].masked_name
            )
            if p.parent
            else None,
            pickup_points=[PickupPointOut.of(x) for x in p.pickup_points],
            communities=[
                CountedCommunityOut.counted(c, p.member_counts.get(c.id, 0)) for c in p.communities
            ],
            sub_leaders=[
                SubLeaderOut.model_construct(leader_id=s.id, name=who.masked_name, status=s.status)
                for s, who in p.sub_leaders
            ],
        )


class ApprovalOut(Out):
    """An approved application, the leader it made and their first pickup point."""

    application: ApplicationOut
    leader: LeaderOut
    pickup_point: PickupPointOut


class CreditPartOut(Out):
    """One part of a leader's credit score."""

    name: str
    label: str
    label_en: str
    weight: int
    value: float
    observed: float | None
    sample: int
    points: int


class CreditOut(Out):
    """A leader's credit score (团长信用) and its parts."""

    leader_id: int
    score: int
    threshold: int
    below_threshold: bool
    leader_status: str
    paused_reason: str | None
    window_days: int
    parts: list[CreditPartOut]


class InvitationOut(Out):
    """A sub-leader invitation; ``status`` as it is now (a pending one past ``expires_at`` is
    ``expired``)."""

    id: int
    inviter_leader_id: int
    inviter_name: str
    invitee_leader_id: int
    invitee_name: str
    status: str
    created_at: Iso
    expires_at: Iso
    decided_at: Iso | None

    @classmethod
    def of(cls, v: InvitationView) -> InvitationOut:
        i = v.invitation
        return cls.model_construct(
            id=i.id,
            inviter_leader_id=i.inviter_leader_id,
            inviter_name=v.inviter.masked_name,
            invitee_leader_id=i.invitee_leader_id,
            invitee_name=v.invitee.masked_name,
            status=v.status,
            created_at=clock.iso(i.created_at),
            expires_at=clock.iso(i.expires_at),
            decided_at=clock.iso(i.decided_at),
        )


class MyInvitationsOut(Out):
    """The sub-leader invitations you received and sent, newest first."""

    received: list[InvitationOut]
    sent: list[InvitationOut]

    @classmethod
    def of(cls, mine: MyInvitations) -> MyInvitationsOut:
        return cls.model_construct(
            received=[InvitationOut.of(v) for v in mine.received],
            sent=[InvitationOut.of(v) for v in mine.sent],
        )


class SubLeaderLinkOut(Out):
    """A sub-leader link: current while ``ended_at`` is null. The upline earns an override on
    the sub-leader's sales paid from ``started_at`` up to ``ended_at``."""

    id: int
    parent_leader_id: int
    parent_name: str
    leader_id: int
    leader_name: str
    invitation_id: int | None
    started_at: Iso
    ended_at: Iso | None
    end_reason: str | None
    end_note: str | None
    current: bool

    @classmethod
    def of(cls, v: LinkView) -> SubLeaderLinkOut:
        return cls.link(v.link, parent_name=v.parent.masked_name, leader_name=v.sub.masked_name)

    @classmethod
    def link(cls, k: SubLeaderLink, *, parent_name: str, leader_name: str) -> SubLeaderLinkOut:
        return cls.model_construct(
            id=k.id,
            parent_leader_id=k.parent_leader_id,
            parent_name=parent_name,
            leader_id=k.leader_id,
            leader_name=leader_name,
            invitation_id=k.invitation_id,
            started_at=clock.iso(k.started_at),
            ended_at=clock.iso(k.ended_at),
            end_reason=k.end_reason,
            end_note=k.end_note,
            current=k.ended_at is None,
        )


class AcceptedOut(Out):
    """An accepted invitation and the link it made."""

    invitation: InvitationOut
    link: SubLeaderLinkOut


# ---------------------------------------------------------------- nearby (附近)


class NearbyWaveOut(Out):
    """An open wave you may see at this point (its page: ``/w/{listing_id}``)."""

    listing_id: int
    title: str
    cutoff_at: Iso

    @classmethod
    def of(cls, w: NearbyWave) -> NearbyWaveOut:
        assert w.listing_id is not None and w.title is not None and w.cutoff_at is not None
        return cls.model_construct(
            listing_id=w.listing_id, title=w.title, cutoff_at=clock.iso(w.cutoff_at)
        )


class NearbyCommunityOut(Out):
    """A community of the point's leader: what its invite page shows anyone. ``open_waves``
    counts its waves open at this point; ``waves`` lists those you may see (you are in the
    community). To join, ask the leader at the point for the invite link."""

    community_id: int
    name: str
    leader_name: str = Field(description="the leader's masked name")
    member_count: int
    member: bool = Field(description="you are in this community")
    open_waves: int
    waves: list[NearbyWaveOut]

    @classmethod
    def of(cls, c: NearbyCommunity) -> NearbyCommunityOut:
        return cls.model_construct(
            community_id=c.community_id,
            name=c.name,
            leader_name=c.leader_name,
            member_count=c.member_count,
            member=c.member,
            open_waves=c.open_waves,
            waves=[NearbyWaveOut.of(w) for w in c.waves],
        )


class NearbyPointOut(Out):
    """A pickup point near you: GCJ-02 coordinates, the straight-line distance (m), the
    walking time (the distance × 1.3 for the streets, at 80 m a minute)."""

    id: int
    name: str
    address: str
    latitude: float
    longitude: float
    opening_hours: str
    distance_m: int
    walking_minutes: int
    map_url: str
    communities: list[NearbyCommunityOut]

    @classmethod
    def of(cls, n: NearbyPoint, map_url: str) -> NearbyPointOut:
        p = n.point
        return cls.model_construct(
            id=p.id,
            name=p.name,
            address=p.address,
            latitude=p.latitude,
            longitude=p.longitude,
            opening_hours=p.opening_hours,
            distance_m=round(n.distance_m),
            walking_minutes=n.walking_minutes,
            map_url=map_url,
            communities=[NearbyCommunityOut.of(c) for c in n.communities],
        )


class NearbyOut(Out):
    """Pickup points within ``radius_m`` of the centre, nearest first (at most 50). The
    centre is in GCJ-02 (converted from WGS-84 when asked with ``coord=wgs84``)."""

    latitude: float
    longitude: float
    radius_m: int
    points: list[NearbyPointOut]

    @classmethod
    def of(cls, n: Nearby, map_url: Callable[[PickupPoint], str]) -> NearbyOut:
        return cls.model_construct(
            latitude=n.centre.latitude,
            longitude=n.centre.longitude,
            radius_m=round(n.centre.radius_m),
            points=[NearbyPointOut.of(p, map_url(p.point)) for p in n.points],
        )
