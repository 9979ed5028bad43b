"""Leaderboards (排行榜): the most helpful neighbours of a community, per week and month.

Scored actions reach the board once each (``board_actions``, unique per community, kind and
reference), fed by the composition root:

* a like received on one's verified review (``review.liked``), in the review's community
  (reviews of a wave's order; other reviews belong to no community and score nowhere);
* a counted help given on a bargain (``bargains.register_on_helped``), and an invitee's
  first completed order (``order.completed``, the inviter from referral): neither belongs
  to a community, so each is attributed to **every community the helper (the inviter)
  belongs to when it happens**;
* an event attended (``event.attended``), in the event's community.

A confirmed fraud ring's actions are voided (:func:`void_members`, a hook of the risk
engine's confirmation); members the risk engine holds (flagged or blocked, asked through
:func:`register_hold_check`) are left out of every board that is not frozen yet.

A period's board is final one grace day after it closes: the worker then freezes it
(``board_freezes``, ``board_standings``) and it never changes again. Until then it is
computed from the rows, and an action recorded after the grace day never counts in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.db import upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.events import service as events
from tuangou.leaderboards import errors, rules
from tuangou.leaderboards.models import BoardAction, BoardAward, BoardFreeze, BoardStanding
from tuangou.leaderboards.rules import ActionKind, Period, Standing, Tally
from tuangou.points import service as points
from tuangou.referral import service as referral

__all__ = [
    "ActionKind",
    "AwardSettings",
    "Board",
    "Period",
    "Standing",
    "award",
    "award_of",
    "board",
    "freeze",
    "freeze_due",
    "get_settings",
    "on_bargain_help",
    "on_event_attended",
    "on_order_completed",
    "on_review_liked",
    "record",
    "register_hold_check",
    "set_settings",
    "void_members",
]

AWARDED = "leaderboard.awarded"  # the outbox's topic: members got the leader's award
SETTINGS_KEY = "leaderboard_settings"

# ---------------------------------------------------------------- the risk engine's holds

HoldCheck = Callable[[Session, Sequence[int]], set[int]]
_hold_checks: list[HoldCheck] = []


def register_hold_check(fn: HoldCheck | None) -> None:
    """Which of these members the risk engine holds (registered by the composition root);
    ``None`` clears them (tests)."""
    if fn is None:
        _hold_checks.clear()
    elif fn not in _hold_checks:
        _hold_checks.append(fn)


def held(session: Session, user_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for check in list(_hold_checks):
        found |= check(session, list(user_ids))
    return found


# ---------------------------------------------------------------- recording actions


def record(
    session: Session,
    *,
    community_ids: Iterable[int],
    user_id: int,
    kind: ActionKind,
    ref: str,
    at: datetime,
    by_user_id: int | None = None,
    recorded_at: datetime | None = None,
) -> int:
    """One action of ``user_id`` into each community's board, once (the unique key):
    returns how many rows were new. ``recorded_at`` is now, but for the demo's history."""
    rows = [
        {
            "community_id": cid,
            "user_id": user_id,
            "by_user_id": by_user_id,
            "kind": str(kind),
            "ref": ref,
            "at": at,
            "recorded_at": recorded_at or clock.now(),
        }
        for cid in dict.fromkeys(community_ids)
    ]
    if not rows:
        return 0
    result = session.execute(
        upsert_insert(session)(BoardAction)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["community_id", "kind", "ref"])
    )
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


def _communities_of(session: Session, user_id: int) -> list[int]:
    return [c.id for c in communities.communities_of(session, user_id)]


def on_review_liked(
    session: Session,
    *,
    review_id: int,
    liker_id: int,
    author_id: int,
    community_id: int | None,
    at: datetime,
) -> int:
    """A like received on a verified review of a community's wave scores its author there."""
    if community_id is None or liker_id == author_id:
        return 0
    return record(
        session,
        community_ids=[community_id],
        user_id=author_id,
        kind=ActionKind.REVIEW_LIKED,
        ref=f"like:{review_id}:{liker_id}",
        at=at,
        by_user_id=liker_id,
    )


def on_bargain_help(session: Session, *, helper_id: int, help_id: int, at: datetime) -> int:
    """A counted help scores its helper in every community they belong to now."""
    return record(
        session,
        community_ids=_communities_of(session, helper_id),
        user_id=helper_id,
        kind=ActionKind.HELP,
        ref=f"help:{help_id}",
        at=at,
    )


def on_order_completed(session: Session, *, user_id: int, at: datetime) -> int:
    """An invitee's first completed order scores their inviter (while the binding holds) in
    every community the inviter belongs to now; later orders of the invitee change nothing
    (the reference is the invitee)."""
    inviter = referral.inviter_of(session, user_id)
    if inviter is None or inviter == user_id:
        return 0
    return record(
        session,
        community_ids=_communities_of(session, inviter),
        user_id=inviter,
        kind=ActionKind.INVITE,
        ref=f"invitee:{user_id}",
        at=at,
        by_user_id=user_id,
    )


def on_event_attended(session: Session, *, user_id: int, event_id: int, at: datetime) -> int:
    """An event attended scores its attendee in the event's community."""
    event = events.get_event(session, event_id)
    return record(
        session,
        community_ids=[event.community_id],
        user_id=user_id,
        kind=ActionKind.EVENT,
        ref=f"event:{event_id}",
        at=at,
    )


def has_actions(session: Session, community_id: int) -> bool:
    found = session.scalar(
        select(BoardAction.id).where(BoardAction.community_id == community_id).limit(1)
    )
    return found is not None


def void_members(session: Session, member_ids: Sequence[int], reason: str) -> int:
    """A fraud ring the risk engine confirmed: its members' helps, and the likes and invites
    they gave others, count no more (each voided once, by compare-and-set; the rows stay)."""
    ids = sorted(set(member_ids))
    if not ids:
        return 0
    result = session.execute(
        update(BoardAction)
        .where(
            BoardAction.voided_at.is_(None),
            or_(
                and_(BoardAction.kind == ActionKind.HELP, BoardAction.user_id.in_(ids)),
                BoardAction.by_user_id.in_(ids),
            ),
        )
        .values(voided_at=clock.now(), void_reason=(reason or "risk")[:200])
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- periods and boards


def bounds(period: Period, start: date) -> tuple[datetime, datetime]:
    """The stored (UTC) instants a period spans: its first local midnight and the next."""
    return clock.local_midnight(start), clock.local_midnight(rules.period_end(period, start))


def is_final(period: Period, start: date, now: datetime | None = None) -> bool:
    """Whether the period closed more than the grace day ago."""
    return (now or clock.now()) >= bounds(period, start)[1] + rules.GRACE


def parse_period(period: str, at: str | None) -> tuple[Period, date]:
    try:
        p = Period(period)
    except ValueError:
        raise errors.InvalidPeriod("period is week or month", field="period") from None
    try:
        start = rules.parse_at(p, at, clock.local_date(clock.now()))
    except rules.RuleViolation as exc:
        raise errors.InvalidPeriod(str(exc), field="at") from None
    return p, start


def tallies(session: Session, community_id: int, period: Period, start: date) -> list[Tally]:
    """Each member's counted actions in the period (not voided, recorded before the period's
    grace day ended), and the instant of their last one."""
    lo, hi = bounds(period, start)
    found: dict[int, tuple[dict[str, int], datetime]] = {}
    for uid, kind, n, last in session.execute(
        select(BoardAction.user_id, BoardAction.kind, func.count(), func.max(BoardAction.at))
        .where(
            BoardAction.community_id == community_id,
            BoardAction.at >= lo,
            BoardAction.at < hi,
            BoardAction.recorded_at < hi + rules.GRACE,
            BoardAction.voided_at.is_(None),
        )
        .group_by(BoardAction.user_id, BoardAction.kind)
    ):
        counts, reached = found.get(int(uid), ({}, last))
        counts[str(kind)] = int(n)
        found[int(uid)] = (counts, max(reached, last))
    return [Tally(uid, counts, reached) for uid, (counts, reached) in found.items()]


@dataclass(frozen=True)
class Board:
    community_id: int
    period: Period
    start: date
    end: date  # the first local day after it
    final: bool  # closed more than the grace day ago: it changes no more
    frozen: bool  # read from the stored standings
    standings: list[Standing]

    def rank_of(self, user_id: int | None) -> Standing | None:
        return next((s for s in self.standings if s.user_id == user_id), None)


def _frozen(session: Session, community_id: int, period: Period, start: date) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(BoardFreeze)
            .where(
                BoardFreeze.community_id == community_id,
                BoardFreeze.period == period,
                BoardFreeze.start == start,
            )
        )
        or 0
    ) > 0


def _stored(session: Session, community_id: int, period: Period, start: date) -> list[Standing]:
    rows = session.scalars(
        select(BoardStanding)
        .where(
            BoardStanding.community_id == community_id,
            BoardStanding.period == period,
            BoardStanding.start == start,
        )
        .order_by(BoardStanding.rank)
    )
    return [
        Standing(
            r.rank,
            r.user_id,
            r.score,
            {
                k: n
                for k, n in (
                    (ActionKind.REVIEW_LIKED, r.likes),
                    (ActionKind.HELP, r.helps),
                    (ActionKind.INVITE, r.invites),
                    (ActionKind.EVENT, r.events),
                )
                if n
            },
            r.reached_at,
        )
        for r in rows
    ]


def _live(session: Session, community_id: int, period: Period, start: date) -> list[Standing]:
    found = tallies(session, community_id, period, start)
    return rules.rank(found, held=held(session, [t.user_id for t in found]))


def board(session: Session, community_id: int, period: Period, start: date) -> Board:
    """A community's board of a period: the frozen standings of a final period, else the
    standings computed now (held members left out)."""
    frozen = _frozen(session, community_id, period, start)
    standings = (
        _stored(session, community_id, period, start)
        if frozen
        else _live(session, community_id, period, start)
    )
    return Board(
        community_id,
        period,
        start,
        rules.period_end(period, start),
        frozen or is_final(period, start),
        frozen,
        standings,
    )


def freeze(session: Session, community_id: int, period: Period, start: date) -> bool:
    """Store a final period's board, once (the freeze's primary key): False when it was
    frozen already or is not final yet."""
    if not is_final(period, start):
        return False
    inserted = session.execute(
        upsert_insert(session)(BoardFreeze)
        .values(community_id=community_id, period=str(period), start=start, frozen_at=clock.now())
        .on_conflict_do_nothing(index_elements=["community_id", "period", "start"])
    ).rowcount  # type: ignore[attr-defined]
    if not inserted:
        return False
    rows = [
        {
            "community_id": community_id,
            "period": str(period),
            "start": start,
            "user_id": s.user_id,
            "rank": s.rank,
            "score": s.score,
            "likes": s.counts.get(ActionKind.REVIEW_LIKED, 0),
            "helps": s.counts.get(ActionKind.HELP, 0),
            "invites": s.counts.get(ActionKind.INVITE, 0),
            "events": s.counts.get(ActionKind.EVENT, 0),
            "reached_at": s.reached_at,
        }
        for s in _live(session, community_id, period, start)
    ]
    if rows:
        session.execute(upsert_insert(session)(BoardStanding).values(rows))
    return True


def freeze_due(session: Session, *, limit: int = 200) -> list[tuple[int, Period, date]]:
    """The boards to freeze now: of the last two final weeks and months, each community
    with actions in them that is not frozen yet."""
    today = clock.local_date(clock.now())
    due: list[tuple[int, Period, date]] = []
    for period in Period:
        start = rules.previous(period, rules.period_start(period, today))
        for _ in range(2):
            if is_final(period, start):
                lo, hi = bounds(period, start)
                frozen = select(BoardFreeze.community_id).where(
                    BoardFreeze.period == period, BoardFreeze.start == start
                )
                for cid in session.scalars(
                    select(BoardAction.community_id)
                    .where(
                        BoardAction.at >= lo,
                        BoardAction.at < hi,
                        BoardAction.community_id.not_in(frozen),
                    )
                    .distinct()
                    .order_by(BoardAction.community_id)
                    .limit(limit)
                ):
                    due.append((int(cid), period, start))
            start = rules.previous(period, start)
    return due


# ---------------------------------------------------------------- the leader's award


@dataclass(frozen=True)
class AwardSettings:
    members: int = rules.DEFAULT_AWARD_MEMBERS  # up to N members a month
    points: int = rules.DEFAULT_AWARD_POINTS  # up to P points each


def _read(session: Session, name: str) -> Any:
    value = session.scalar(select(InstanceSetting.value).where(InstanceSetting.name == name))
    return json.loads(value) if value else None


def get_settings(session: Session) -> AwardSettings:
    stored = _read(session, SETTINGS_KEY) or {}
    return AwardSettings(
        members=int(stored.get("members", rules.DEFAULT_AWARD_MEMBERS)),
        points=int(stored.get("points", rules.DEFAULT_AWARD_POINTS)),
    )


def set_settings(session: Session, settings: AwardSettings) -> AwardSettings:
    try:
        rules.check_award_settings(settings.members, settings.points)
    except rules.RuleViolation as exc:
        raise errors.InvalidSettings(str(exc)) from None
    value = json.dumps({"members": settings.members, "points": settings.points})
    session.execute(
        upsert_insert(session)(InstanceSetting)
        .values(name=SETTINGS_KEY, value=value)
        .on_conflict_do_update(index_elements=["name"], set_={"value": value})
    )
    return get_settings(session)


def require_leader(session: Session, user_id: int, community_id: int) -> Any:
    """The community, for its own leader (see ``communities.require_community_leader``)."""
    return communities.require_community_leader(session, user_id, community_id)


def require_visible(session: Session, community_id: int, user_id: int, *, operator: bool) -> Any:
    """A community's board is for its members, its leader and operators; anyone else gets
    the 404 of a missing community."""
    community = communities.get_community(session, community_id)
    if operator or communities.is_member(session, community_id, user_id):
        return community
    if communities.get_leader(session, community.leader_id).user_id != user_id:
        raise community_errors.CommunityNotFound()
    return community


def last_month(today: date | None = None) -> date:
    day = today or clock.local_date(clock.now())
    return rules.previous(Period.MONTH, rules.period_start(Period.MONTH, day))


def award_of(session: Session, community_id: int, month: date) -> BoardAward | None:
    return session.scalar(
        select(BoardAward).where(
            BoardAward.community_id == community_id, BoardAward.month == rules.month_key(month)
        )
    )


def awarded_members(row: BoardAward | None) -> list[int]:
    return [int(x) for x in json.loads(row.members)] if row is not None else []


def award(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    month: str,
    members: Sequence[int],
    points_each: int,
) -> BoardAward:
    """The leader awards the month's top members points, once per community and month:
    the month must be final (closed more than the grace day ago: ``board_month_not_closed``),
    the members among its top N and the points at most P (operator settings:
    ``invalid_board_award``); a second award is ``board_already_awarded``. Each member's
    points are an award keyed on the board, the month and the member, and each is told."""
    community = require_leader(session, user_id, community_id)
    try:
        start = rules.parse_month(month)
    except rules.RuleViolation as exc:
        raise errors.InvalidAward(str(exc), field="month") from None
    if not is_final(Period.MONTH, start):
        raise errors.MonthNotClosed()
    if award_of(session, community_id, start) is not None:
        raise errors.AlreadyAwarded()
    freeze(session, community_id, Period.MONTH, start)
    top = [s.user_id for s in board(session, community_id, Period.MONTH, start).standings]
    settings = get_settings(session)
    chosen = [int(m) for m in members]
    try:
        rules.check_award(
            chosen, points_each, top=top, max_members=settings.members, max_points=settings.points
        )
    except rules.RuleViolation as exc:
        raise errors.InvalidAward(str(exc)) from None
    key = rules.month_key(start)
    new_id = session.execute(
        upsert_insert(session)(BoardAward)
        .values(
            community_id=community_id,
            month=key,
            by_user_id=user_id,
            points=points_each,
            members=json.dumps(chosen),
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["community_id", "month"])
        .returning(BoardAward.id)
    ).scalar()
    if new_id is None:  # a twin click got there first
        raise errors.AlreadyAwarded()
    for member in chosen:
        points.award(
            session,
            user_id=member,
            reason=points.Reason.LEADER_AWARD,
            key=f"board:{community_id}:{key}:{member}",
            points=points_each,
            by_id=user_id,
        )
    outbox.emit(
        session,
        AWARDED,
        {
            "user_ids": chosen,
            "community_id": community_id,
            "community": community.name,
            "month": key,
            "points": points_each,
        },
    )
    found = session.get(BoardAward, new_id)
    assert found is not None
    return found


def people(session: Session, user_ids: list[int]) -> dict[int, str]:
    """The members' masked names, as a board shows them."""
    return {uid: p.masked_name for uid, p in communities.people(session, user_ids).items()}


def communities_for(session: Session, user_id: int) -> list[Any]:
    return communities.communities_of(session, user_id)


def led_by(session: Session, user_id: int) -> list[Any]:
    leader = communities.find_leader_by_user(session, user_id)
    return [] if leader is None else communities.communities_led_by(session, leader.id)
