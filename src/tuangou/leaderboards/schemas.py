from __future__ import annotations

from typing import Any

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.leaderboards import rules


class StandingOut(Out):
    rank: int
    member_id: int
    member: str = Field(description="the member's masked name")
    score: int
    likes: int = Field(description="likes received on their verified reviews")
    helps: int = Field(description="helps given on neighbours' bargains")
    invites: int = Field(description="invitees whose first order completed")
    events: int = Field(description="community events attended")
    reached_at: Iso = Field(description="when they reached this score (ties: earlier first)")

    @classmethod
    def of(cls, s: Any, name: str) -> StandingOut:
        return cls(
            rank=s.rank,
            member_id=s.user_id,
            member=name,
            score=s.score,
            likes=s.counts.get(rules.ActionKind.REVIEW_LIKED, 0),
            helps=s.counts.get(rules.ActionKind.HELP, 0),
            invites=s.counts.get(rules.ActionKind.INVITE, 0),
            events=s.counts.get(rules.ActionKind.EVENT, 0),
            reached_at=clock.iso(s.reached_at),
        )


class WeightsOut(Out):
    review_liked: int
    help: int
    invite: int
    event: int


class BoardOut(Out):
    """A community's board of a week (Monday to Sunday) or a month, in the deployment's
    time zone; a final board (closed more than a day ago) changes no more."""

    community_id: int
    period: str = Field(description="week | month")
    start: str = Field(description="its first local day (YYYY-MM-DD)")
    end: str = Field(description="the first local day after it (YYYY-MM-DD)")
    final: bool
    weights: WeightsOut
    standings: list[StandingOut]
    me: StandingOut | None = Field(description="the caller's place, when they are on it")

    @classmethod
    def of(cls, board: Any, names: dict[int, str], viewer_id: int | None) -> BoardOut:
        mine = board.rank_of(viewer_id)
        return cls(
            community_id=board.community_id,
            period=str(board.period),
            start=board.start.isoformat(),
            end=board.end.isoformat(),
            final=board.final,
            weights=WeightsOut(**{str(k): v for k, v in rules.WEIGHTS.items()}),
            standings=[StandingOut.of(s, names.get(s.user_id, "")) for s in board.standings],
            me=StandingOut.of(mine, names.get(mine.user_id, "")) if mine else None,
        )


class AwardIn(In):
    month: str = Field(max_length=7, description="YYYY-MM: a month closed more than a day ago")
    members: list[int] = Field(max_length=20, description="member ids among the month's top N")
    points: int = Field(description="points each, at most the operator's P")


class AwardOut(Out):
    community_id: int
    month: str
    members: list[int]
    points: int
    awarded_at: Iso

    @classmethod
    def of(cls, row: Any, members: list[int]) -> AwardOut:
        return cls(
            community_id=row.community_id,
            month=row.month,
            members=members,
            points=row.points,
            awarded_at=clock.iso(row.created_at),
        )


class AwardSettingsIn(In):
    members: int = Field(description="up to N members a month")
    points: int = Field(description="up to P points each")


class AwardSettingsOut(Out):
    members: int
    points: int
