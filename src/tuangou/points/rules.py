"""Points (积分), check-in (签到), expiry and levels (会员等级): the pure rules.

The points journal is double-entry like the money ledger, with accounts of its own:

* ``member:N``: what member N holds (never negative);
* ``issued``: the source every award comes from (the only account that goes negative: minus
  everything ever awarded);
* ``spent``: what members spent (coupons, later);
* ``expired``: what expired unspent.

Expiry is first in, first out. Points earned in local year Y expire at the end of local year
Y + ``expiry_years`` (default 1: the end of the following year). Every outflow from a member
(a spend, an expiry, a negative adjustment) uses the oldest points first, so what is left of
the years up to Y is ``max(0, earned up to Y − everything that ever flowed out)``; the expiry
of year Y takes exactly that, and nothing earned later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

ISSUED = "issued"
SPENT = "spent"
EXPIRED = "expired"
MEMBER_PREFIX = "member:"

DEFAULT_LADDER = (5, 5, 10, 10, 15, 15, 30)  # day 1..7 of a streak, then the last step
DEFAULT_HELP_CAP = 5  # bargain-help awards per member per local day
DEFAULT_HELP_POINTS = 2
DEFAULT_INVITE_POINTS = 50
DEFAULT_REVIEW_POINTS = 10  # a verified buyer's review, once published
DEFAULT_EVENT_POINTS = 10  # checked in at a community event
DEFAULT_EXPIRY_YEARS = 1
MAX_LADDER_DAYS = 31
MAX_POINTS_PER_AWARD = 100_000  # (the refusal's text names it)


class Reason(StrEnum):
    CHECKIN = "checkin"
    REVIEW = "review"
    INVITE_FIRST_ORDER = "invite_first_order"
    BARGAIN_HELP = "bargain_help"
    EVENT_ATTENDED = "event_attended"
    TASK = "task"
    ACHIEVEMENT = "achievement"
    LEADER_AWARD = "leader_award"
    ADMIN_ADJUST = "admin_adjust"
    RISK_REVERSAL = "risk_reversal"


def member_account(user_id: int) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def must_stay_non_negative(account: str) -> bool:
    """Every account but the source: a member, spent, expired."""
    return account != ISSUED


def default_experience(reason: str, points: int) -> int:
    """Experience that comes with an award when the caller names none: as many as the points
    earned, none for an operator's adjustment (it corrects points, it earns no standing)."""
    if reason == Reason.ADMIN_ADJUST:
        return 0
    return max(points, 0)


def streak_after(previous_day: date | None, previous_streak: int, today: date) -> int:
    """The streak of a check-in today: one more than yesterday's, else a fresh start."""
    if previous_day is not None and (today - previous_day).days == 1:
        return previous_streak + 1
    return 1


def ladder_points(ladder: Sequence[int], streak: int) -> int:
    """Points for day ``streak`` of a streak; past the ladder's end, its last step."""
    if not ladder or streak < 1:
        return 0
    return ladder[min(streak, len(ladder)) - 1]


def expiry_year(earned_year: int, years: int) -> int:
    """The last local year points earned in ``earned_year`` are good for."""
    return earned_year + years


def expires_on(earned_year: int, years: int) -> date:
    return date(expiry_year(earned_year, years), 12, 31)


def left_of_years(earned_by_year: Mapping[int, int], outflow: int, up_to: int) -> int:
    """FIFO: what is left of the points earned in years ≤ ``up_to`` after ``outflow`` points
    (everything that ever left the member) were taken from the oldest first."""
    earned = sum(points for year, points in earned_by_year.items() if year <= up_to)
    return max(0, earned - outflow)


@dataclass(frozen=True)
class Level:
    """A level and its benefits: extra points on each check-in, a member discount in basis
    points of the goods' price, and hours of early access to pre-sale waves."""

    name: str
    threshold: int
    checkin_bonus: int = 0
    discount_bps: int = 0
    early_hours: int = 0


DEFAULT_LEVELS = (
    Level("新邻居", 0),
    Level("好邻居", 200, checkin_bonus=1, discount_bps=50),
    Level("热心邻居", 800, checkin_bonus=2, discount_bps=100, early_hours=2),
    Level("社区达人", 2000, checkin_bonus=3, discount_bps=200, early_hours=6),
    Level("社区之星", 5000, checkin_bonus=5, discount_bps=300, early_hours=12),
)


def level_index(levels: Sequence[Level], experience: int) -> int:
    """The highest level whose threshold the experience reaches (levels sorted ascending)."""
    found = 0
    for i, level in enumerate(levels):
        if experience >= level.threshold:
            found = i
    return found


def check_levels(levels: Sequence[Level]) -> str | None:
    """What is wrong with a set of levels, or None."""
    if not 1 <= len(levels) <= 20:
        return "between 1 and 20 levels"
    if levels[0].threshold != 0:
        return "the first level starts at 0 experience"
    names = [level.name.strip() for level in levels]
    if any(not name for name in names) or len(set(names)) != len(names):
        return "each level needs a name of its own"
    if any(b.threshold <= a.threshold for a, b in pairwise(levels)):
        return "thresholds rise from one level to the next"
    return None


def check_ladder(ladder: Sequence[int]) -> str | None:
    if not 1 <= len(ladder) <= MAX_LADDER_DAYS:
        return "between 1 and 31 days"  # MAX_LADDER_DAYS
    if any(p < 0 or p > 10_000 for p in ladder):
        return "each day's points are between 0 and 10000"
    return None
