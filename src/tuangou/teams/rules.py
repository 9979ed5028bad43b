"""Pure rules of the team buy (拼团). No database, no web framework: tested with Hypothesis.

Prices are integer fen; a tier ladder is a list of ``(members, unit_price)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

Tier = tuple[int, int]

MIN_WINDOW_HOURS = 1
MAX_WINDOW_HOURS = 72
OPENER_PERKS = ("none", "price", "free")


class RuleViolation(ValueError):
    """A campaign setting that breaks a rule of DOMAIN.md §1; ``field`` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_tiers(raw: Sequence[Sequence[int]]) -> list[Tier]:
    return [(int(m), int(p)) for m, p in raw]


def validate_campaign(
    *,
    tiers: Sequence[Tier],
    min_size: int,
    max_size: int,
    window_hours: int,
    single_price: int,
    opener_perk: str,
    opener_price: int | None,
    completion_percent: int,
    per_member_limit: int,
    max_quantity_per_order: int,
) -> None:
    """Raise :class:`RuleViolation` for the first setting that breaks a rule."""
    if min_size < 2:
        raise RuleViolation("min_size", "a team needs at least 2 members")
    if max_size < min_size:
        raise RuleViolation("max_size", "max size must be at least the min size")
    if not MIN_WINDOW_HOURS <= window_hours <= MAX_WINDOW_HOURS:
        raise RuleViolation("window_hours", "the team window must be 1 to 72 hours")
    validate_ladder(tiers, min_size=min_size, max_size=max_size)
    if single_price <= 0:
        raise RuleViolation("single_price", "the single price must be positive")
    if tiers[0][1] > single_price:
        raise RuleViolation("tiers", "a group price may not exceed the single price")
    if opener_perk not in OPENER_PERKS:
        raise RuleViolation("opener_perk", "opener perk must be none, price or free")
    if opener_perk == "price":
        if opener_price is None or opener_price <= 0:
            raise RuleViolation("opener_price", "an opener price must be a positive amount")
        if opener_price > tiers[0][1]:
            raise RuleViolation("opener_price", "the opener price may not exceed the group price")
    if not 1 <= completion_percent <= 100:
        raise RuleViolation("completion_percent", "completion percent must be 1 to 100")
    if per_member_limit < 1:
        raise RuleViolation("per_member_limit", "the per-member limit must be at least 1")
    if not 1 <= max_quantity_per_order <= per_member_limit:
        raise RuleViolation(
            "max_quantity_per_order", "the per-order quantity must be 1 to the per-member limit"
        )


def validate_ladder(tiers: Sequence[Tier], *, min_size: int, max_size: int) -> None:
    if not tiers:
        raise RuleViolation("tiers", "the ladder needs at least one tier")
    if tiers[0][0] != min_size:
        raise RuleViolation("tiers", "the first tier must be at the team's min size")
    for (m1, p1), (m2, p2) in pairwise(tiers):
        if m2 <= m1:
            raise RuleViolation("tiers", "tier sizes must strictly grow")
        if p2 >= p1:
            raise RuleViolation("tiers", "each tier must be strictly cheaper than the one before")
    if tiers[-1][0] > max_size:
        raise RuleViolation("tiers", "no tier may need more members than the max size")
    if any(p <= 0 for _, p in tiers):
        raise RuleViolation("tiers", "tier prices must be positive")


def tier_price(tiers: Sequence[Tier], members: int) -> int:
    """The unit price of the highest tier reached by ``members`` (the first tier below it)."""
    price = tiers[0][1]
    for size, unit in tiers:
        if members >= size:
            price = unit
    return price


def tier_index(tiers: Sequence[Tier], members: int) -> int:
    """Index of the tier reached, or -1 when even the first is not reached."""
    reached = -1
    for i, (size, _) in enumerate(tiers):
        if members >= size:
            reached = i
    return reached


def next_tier(tiers: Sequence[Tier], members: int) -> Tier | None:
    for size, unit in tiers:
        if members < size:
            return (size, unit)
    return None


def join_price(
    tiers: Sequence[Tier], *, is_opener: bool, perk: str, opener_price: int | None
) -> int:
    """What a member pays per unit when taking a seat: the first tier (or the opener price)."""
    if is_opener and perk == "price" and opener_price is not None:
        return min(opener_price, tiers[0][1])
    return tiers[0][1]


def final_price(
    tiers: Sequence[Tier],
    paid_members: int,
    *,
    is_opener: bool,
    perk: str,
    opener_price: int | None,
) -> int:
    """The settled unit price: the tier reached, or the opener price if that is lower."""
    price = tier_price(tiers, paid_members)
    if is_opener and perk == "price" and opener_price is not None:
        price = min(price, opener_price)
    return price


def completion_allowed(paid: int, min_size: int, *, enabled: bool, percent: int) -> bool:
    """Platform completion (模拟成团): paid members ≥ percent% of the min size."""
    return enabled and 0 < paid < min_size and paid * 100 >= percent * min_size


@dataclass(frozen=True)
class Outcome:
    kind: str  # "success" | "completed" (by the platform) | "failed"

    @property
    def succeeded(self) -> bool:
        return self.kind != "failed"


def settlement_outcome(
    paid: int, min_size: int, *, completion_enabled: bool, completion_percent: int
) -> Outcome:
    if paid >= min_size:
        return Outcome("success")
    if completion_allowed(paid, min_size, enabled=completion_enabled, percent=completion_percent):
        return Outcome("completed")
    return Outcome("failed")


def completion_subsidy(single_price: int, group_price: int, quantity: int) -> int:
    """What the subsidy budget pays for one order of a platform-completed team.

    No volume was reached, so the supplier is owed the single price; the member keeps the
    group price, and the gap between them comes from the campaign's subsidy budget.
    """
    return max(0, single_price - group_price) * quantity


def price_protection_refund(charged_unit: int, final_unit: int, quantity: int) -> int:
    if final_unit > charged_unit:
        raise ValueError("a final price never exceeds the price charged")
    return (charged_unit - final_unit) * quantity


def successor(seats: Sequence[tuple[int, int]]) -> int | None:
    """The next opener when the opener leaves: the earliest remaining seat.

    ``seats`` are ``(join order, user id)`` of the live seats other than the leaving opener.
    """
    if not seats:
        return None
    return min(seats)[1]


JOINABLE = frozenset({"open", "formed"})
LEAVABLE = frozenset({"open"})
UNSETTLED = frozenset({"pending", "open", "formed"})
