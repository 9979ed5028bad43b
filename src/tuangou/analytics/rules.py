"""Pure computations of the dashboards: rates, day buckets, rankings, scopes, and the
definition of every figure."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` (0 to 1), or None when there is nothing to measure."""
    if whole <= 0:
        return None
    return part / whole


def percent(value: float | None) -> str:
    """A rate as a whole percentage ("83%"), or an em dash when there is none."""
    return "—" if value is None else f"{round(value * 100)}%"


def window(today: date, days: int) -> list[date]:
    """The ``days`` calendar days ending with ``today``, oldest first."""
    if days < 1:
        raise ValueError("a window has at least one day")
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def per_day(days: list[date], rows: Iterable[tuple[date, int]]) -> list[int]:
    """The sum of the amounts of ``rows`` on each of ``days`` (rows outside are ignored)."""
    totals = dict.fromkeys(days, 0)
    for day, amount in rows:
        if day in totals:
            totals[day] += amount
    return [totals[d] for d in days]


def top(amounts: dict[K, int], n: int) -> list[tuple[K, int]]:
    """The ``n`` largest amounts, largest first; ties keep the order the keys came in."""
    ranked = sorted(enumerate(amounts.items()), key=lambda pair: (-pair[1][1], pair[0]))
    return [item for _, item in ranked[:n]]


def age_seconds(seconds: float) -> int:
    """An age never goes below zero (a clock moved back, a row written a moment later)."""
    return max(0, int(seconds))


# ---------------------------------------------------------------- the dashboards

MAX_RANGE_DAYS = 400  # the longest date range a dashboard covers


@dataclass(frozen=True)
class Scope:
    """What a dashboard covers: the local days ``start`` to ``end`` (both included), the
    whole platform or only the wave orders through one community's or one leader's listings.
    """

    start: date
    end: date
    community_id: int | None = None
    leader_id: int | None = None

    @property
    def narrowed(self) -> bool:
        """Narrowed to a community or a leader: only their wave orders count."""
        return self.community_id is not None or self.leader_id is not None

    @property
    def days(self) -> list[date]:
        return window(self.end, (self.end - self.start).days + 1)

    @property
    def months(self) -> list[date]:
        """The first day of each calendar month the range touches, oldest first."""
        found = [self.start.replace(day=1)]
        while found[-1] < self.end.replace(day=1):
            found.append(next_month(found[-1]))
        return found


def scope_of(
    today: date,
    *,
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    community_id: int | None = None,
    leader_id: int | None = None,
) -> Scope:
    """A scope from what a person asked: an explicit range, or the ``days`` days ending
    ``end`` (today when not given). Raises ``ValueError`` for a range that is backwards or
    longer than :data:`MAX_RANGE_DAYS`."""
    end = end or today
    start = start or end - timedelta(days=days - 1)
    if start > end:
        raise ValueError("the range starts after it ends")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"a range covers at most {MAX_RANGE_DAYS} days")
    return Scope(start, end, community_id, leader_id)


def next_month(first: date) -> date:
    """The first day of the month after the month of ``first``."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_key(day: date) -> str:
    """A calendar month as "2025-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def floor_div(total: int, count: int) -> int | None:
    """``total // count`` (an average in whole fen, rounded down), None when ``count`` is 0."""
    return None if count <= 0 else total // count


# Each figure's definition, in one place: the definitions page shows them, every figure on
# the dashboards links to its anchor, and both ways of computing (the plain SQL reference and
# the analytical engine) follow them. "In scope" means: every order on the whole platform; a
# wave order through the chosen community's or leader's listings when narrowed.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "gmv": (
        "GMV per day",
        "What members paid for the orders in scope paid that day (local time), minus the "
        "refunds made that day of orders in scope that had been paid. An order never paid "
        "(a late payment refunded on a closed order) is neither a sale nor a refund.",
    ),
    "orders": (
        "Orders per day",
        "The orders in scope paid that day (local time), whatever became of them later.",
    ),
    "team_success": (
        "Team success rate",
        "Teams that ended on a day: settled (formed, platform completion included) against "
        "failed below their size. A team closed before anyone paid counts neither way. Teams "
        "belong to no community: the figure is the whole platform's and is not shown when "
        "the dashboard is narrowed to a community or a leader.",
    ),
    "wave_confirmation": (
        "Wave confirmation rate",
        "Wave orders in scope of waves settled on a day: confirmed at the cut-off (at least "
        "one of its lines reached its minimum order quantity) against refunded because every "
        "line stayed below it.",
    ),
    "k_factor": (
        "K-factor",
        "Per calendar month: the members bound to an inviter whose first paid order in scope "
        "fell in that month, divided by the members who paid an order in scope that month. "
        "It reads: new ordering members brought by invitations, per ordering member.",
    ),
    "retention": (
        "Retention cohorts",
        "Members are grouped by the calendar month of their first paid order in scope (their "
        "cohort). Month N is the share of a cohort who paid an order in scope N months after "
        "their cohort's month (month 0 is the whole cohort). Monthly figures cover the whole "
        "calendar months the range touches.",
    ),
    "repurchase": (
        "Repurchase rate",
        "Of the members who paid an order in scope in the range, the share who paid two or more.",
    ),
    "aov": (
        "Average order value",
        "What members paid for the orders in scope paid in the range, divided by their "
        "number, rounded down to the fen (refunds made later are not taken off).",
    ),
    "leaders": (
        "Leader performance",
        "Per leader, over the wave orders in scope paid in the range through the leader's "
        "listings: GMV (paid minus refunded so far), orders, commission (the leader's "
        "commissions on orders in scope created in the range, less what was reversed), the "
        "wave confirmation rate of the leader's orders of waves settled in the range, and the "
        "after-sale rate (after-sale cases opened in the range on the leader's orders in "
        "scope, per order paid in the range).",
    ),
    "refunds": (
        "Refunds by reason",
        "Refunds made in the range of orders in scope, counted and summed per reason.",
    ),
    "aftersales": (
        "After-sales by reason",
        "After-sale cases opened in the range on orders in scope, counted per reason "
        "(missing, damaged, wrong item), with what was refunded through them.",
    ),
}
