"""Leaderboards (排行榜): pure rules. Periods in the deployment's local calendar, the weight
of each kind of action, the ranking, and the bounds of the leader's monthly award."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class Period(StrEnum):
    WEEK = "week"  # Monday to Sunday, local
    MONTH = "month"  # the calendar month, local


class ActionKind(StrEnum):
    REVIEW_LIKED = "review_liked"  # a like received on one's verified review
    HELP = "help"  # a counted help given on a friend's bargain
    INVITE = "invite"  # an invitee's first completed order
    EVENT = "event"  # a community event attended (checked in)


# Each action's weight in the score: an invite that converted is worth most, a like least.
WEIGHTS: dict[str, int] = {
    ActionKind.REVIEW_LIKED: 1,
    ActionKind.HELP: 2,
    ActionKind.EVENT: 3,
    ActionKind.INVITE: 5,
}

GRACE = timedelta(days=1)  # a period's board is final one day after it closes
DEFAULT_AWARD_MEMBERS = 3
DEFAULT_AWARD_POINTS = 100
MAX_AWARD_MEMBERS = 20
MAX_AWARD_POINTS = 10_000


class RuleViolation(ValueError):
    pass


def period_start(period: Period, day: date) -> date:
    """The first local day of the period holding ``day``."""
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(period: Period, start: date) -> date:
    """The first local day after the period that starts on ``start``."""
    if period == Period.WEEK:
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def previous(period: Period, start: date) -> date:
    return period_start(period, start - timedelta(days=1))


_DAY = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_at(period: Period, at: str | None, today: date) -> date:
    """The start of the period ``at`` names (``YYYY-MM`` or ``YYYY-MM-DD``; a week needs a
    day), or of the current one."""
    if not at:
        return period_start(period, today)
    found = _DAY.match(at.strip())
    if found is None:
        raise RuleViolation("at is YYYY-MM or YYYY-MM-DD")
    year, month, day = int(found[1]), int(found[2]), found[3]
    if period == Period.WEEK and day is None:
        raise RuleViolation("a week is named by one of its days: YYYY-MM-DD")
    try:
        when = date(year, month, int(day) if day else 1)
    except ValueError:
        raise RuleViolation("no such day") from None
    return period_start(period, when)


def month_key(start: date) -> str:
    return f"{start.year:04d}-{start.month:02d}"


def parse_month(value: str) -> date:
    found = re.match(r"^(\d{4})-(\d{2})$", (value or "").strip())
    if found is None:
        raise RuleViolation("month is YYYY-MM")
    try:
        return date(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise RuleViolation("no such month") from None


@dataclass(frozen=True)
class Tally:
    """One member's counted actions in a period, and when they reached their score."""

    user_id: int
    counts: dict[str, int]
    reached_at: datetime

    @property
    def score(self) -> int:
        return sum(WEIGHTS[k] * n for k, n in self.counts.items())


@dataclass(frozen=True)
class Standing:
    rank: int
    user_id: int
    score: int
    counts: dict[str, int]
    reached_at: datetime


def rank(
    tallies: Iterable[Tally], *, held: set[int] | frozenset[int] = frozenset()
) -> list[Standing]:
    """The board: highest score first; a tie goes to who reached the score first (the
    earlier last counted action), then the lower member id. Held members are left out, and
    ranks are 1, 2, 3… without gaps."""
    kept = [t for t in tallies if t.user_id not in held and t.score > 0]
    kept.sort(key=lambda t: (-t.score, t.reached_at, t.user_id))
    return [
        Standing(i + 1, t.user_id, t.score, dict(t.counts), t.reached_at)
        for i, t in enumerate(kept)
    ]


def check_award_settings(members: int, points: int) -> None:
    if not 1 <= members <= MAX_AWARD_MEMBERS:
        raise RuleViolation(f"the award goes to 1 to {MAX_AWARD_MEMBERS} members")
    if not 1 <= points <= MAX_AWARD_POINTS:
        raise RuleViolation(f"the award is 1 to {MAX_AWARD_POINTS} points a member")


def check_award(
    chosen: list[int], points: int, *, top: list[int], max_members: int, max_points: int
) -> None:
    """The leader's choice: 1 to N distinct members among the month's top N, each given 1
    to P points."""
    if not chosen:
        raise RuleViolation("choose at least one member")
    if len(set(chosen)) != len(chosen):
        raise RuleViolation("each member once")
    if len(chosen) > max_members:
        raise RuleViolation(f"at most {max_members} members")
    allowed = set(top[:max_members])
    if any(uid not in allowed for uid in chosen):
        raise RuleViolation(f"only the month's top {max_members} may be awarded")
    if not 1 <= points <= max_points:
        raise RuleViolation(f"1 to {max_points} points a member")
