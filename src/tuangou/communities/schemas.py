from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tuangou.communities import rules
from tuangou.communities.models import (
    Community,
    CommunityMember,
    Leader,
    LeaderApplication,
    PickupPoint,
)
from tuangou.communities.service import (
    InvitePage,
    LeaderProfile,
    Person,
    PickupPointInput,
    QueuedApplication,
)
from tuangou.core import clock

# ---------------------------------------------------------------- input


class PickupPointIn(BaseModel):
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


class PickupPointPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=rules.NAME_MAX)
    address: str | None = Field(default=None, min_length=1, max_length=rules.ADDRESS_MAX)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: str | None = Field(default=None, max_length=rules.HOURS_MAX)
    active: bool | None = None


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class OptionalReasonIn(BaseModel):
    reason: str = Field(default="", max_length=rules.REASON_MAX)


class CommunityIn(BaseModel):
    name: str = Field(min_length=1, max_length=rules.NAME_MAX, examples=["幸福里业主团购群"])
    rules: str = Field(default="", max_length=rules.RULES_MAX, description="群规")


class CommunityPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=rules.NAME_MAX)
    rules: str | None = Field(default=None, max_length=rules.RULES_MAX)


class AdminIn(BaseModel):
    user_id: int


class SubLeaderIn(BaseModel):
    leader_id: int


# ---------------------------------------------------------------- views


def application_view(a: LeaderApplication) -> dict[str, Any]:
    return {
        "id": a.id,
        "user_id": a.user_id,
        "status": a.status,
        "pickup_point": {
            "name": a.name,
            "address": a.address,
            "latitude": a.latitude,
            "longitude": a.longitude,
            "opening_hours": a.opening_hours,
        },
        "note": a.note,
        "reject_reason": a.reject_reason,
        "created_at": clock.iso(a.created_at),
        "decided_at": clock.iso(a.decided_at),
        "decided_by": a.decided_by,
    }


def person_view(p: Person) -> dict[str, Any]:
    return {"user_id": p.user_id, "nickname": p.nickname, "phone": p.masked_phone}


def queued_view(q: QueuedApplication) -> dict[str, Any]:
    return {
        **application_view(q.application),
        "applicant": person_view(q.applicant),
        "age_seconds": q.age_seconds,
    }


def pickup_point_view(p: PickupPoint) -> dict[str, Any]:
    return {
        "id": p.id,
        "leader_id": p.leader_id,
        "name": p.name,
        "address": p.address,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "opening_hours": p.opening_hours,
        "active": p.active,
    }


def leader_view(leader: Leader) -> dict[str, Any]:
    return {
        "id": leader.id,
        "user_id": leader.user_id,
        "status": leader.status,
        "paused_reason": leader.paused_reason,
        "paused_at": clock.iso(leader.paused_at),
        "parent_leader_id": leader.parent_leader_id,
        "created_at": clock.iso(leader.created_at),
    }


def community_view(c: Community, *, member_count: int | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": c.id,
        "leader_id": c.leader_id,
        "name": c.name,
        "rules": c.rules,
        "invite_code": c.invite_code,
        "invite_path": f"/join/{c.invite_code}",
        "created_at": clock.iso(c.created_at),
    }
    if member_count is not None:
        view["member_count"] = member_count
    return view


def membership_view(m: CommunityMember) -> dict[str, Any]:
    return {
        "community_id": m.community_id,
        "user_id": m.user_id,
        "role": m.role,
        "joined_at": clock.iso(m.joined_at),
    }


def member_view(m: CommunityMember, p: Person) -> dict[str, Any]:
    return {**person_view(p), "role": m.role, "joined_at": clock.iso(m.joined_at)}


def invite_view(page: InvitePage) -> dict[str, Any]:
    c = page.community
    return {
        "community_id": c.id,
        "name": c.name,
        "leader_name": page.leader_name,
        "member_count": page.member_count,
        "rules": c.rules,
    }


def profile_view(p: LeaderProfile) -> dict[str, Any]:
    return {
        **leader_view(p.leader),
        "nickname": p.person.nickname,
        "parent": {"leader_id": p.parent[0].id, "name": p.parent[1].masked_name}
        if p.parent
        else None,
        "pickup_points": [pickup_point_view(x) for x in p.pickup_points],
        "communities": [
            community_view(c, member_count=p.member_counts.get(c.id, 0)) for c in p.communities
        ],
        "sub_leaders": [
            {"leader_id": s.id, "name": who.masked_name, "status": s.status}
            for s, who in p.sub_leaders
        ],
    }
