"""Pure rules of the team buy (拼团). No database, no web framework: tested with Hypothesis.

Prices are integer fen; a tier ladder is a list of ``(members, unit_price)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tuangou.core import ladder

Tier = ladder.Step  # (paid members reached, unit price in fen)

MIN_WINDOW_HOURS = 1
MAX_WINDOW_HOURS = 72
OPENER_PERKS = ("none", "price", "free")


class RuleViolation(ValueError):
    """A campaign setting that breaks a rule of DOMAIN.md §1; ``field`` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


normalise_tiers = ladder.normalise


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
    try:
        ladder.check(tiers, counts="sizes")
    except ladder.LadderError as e:
        raise RuleViolation("tiers", str(e)) from None
    if tiers[-1][0] > max_size:
        raise RuleViolation("tiers", "no tier may need more members than the max size")


def tier_price(tiers: Sequence[Tier], members: int) -> int:
    """The unit price of the highest tier reached by ``members`` (the first tier below it)."""
    return ladder.price_at(tiers, members, below=tiers[0][1])


tier_index = ladder.index_at  # the tier ``members`` reached, or -1 below the first
next_tier = ladder.next_step  # the first tier not reached yet


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


# ---------------------------------------------------------------- the team's life
#
#   pending ──opener pays──▶ open ──min paid──▶ formed ──max paid, or deadline──▶ settled
#      │                      │  └──deadline, below min (no completion)──▶ failed
#      └─opener's hold expires┴─everyone left──▶ closed
#
# Each transition is a pure function of the team's state and the event; the service applies
# the answer with one compare-and-set statement (``WHERE status = <from>``).


class TeamStatus(StrEnum):
    PENDING = "pending"  # opened, the opener has not paid yet
    OPEN = "open"  # the opener paid; others may join until the deadline
    FORMED = "formed"  # at least the min size paid (已成团); still joinable up to the max
    SETTLED = "settled"  # succeeded (at the tier reached, or completed by the platform)
    FAILED = "failed"  # the deadline passed below the min size: everyone refunded
    CLOSED = "closed"  # the opener never paid, or everyone left


class SeatStatus(StrEnum):
    HELD = "held"  # taken, awaiting payment
    PAID = "paid"
    LEFT = "left"  # the member left before the team formed (refunded)
    RELEASED = "released"  # never paid: the hold ran out, or the order was cancelled


LIVE_SEATS = (SeatStatus.HELD, SeatStatus.PAID)


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"  # past its end with nothing in play: its stock is settled with the SKU


JOINABLE = (TeamStatus.OPEN, TeamStatus.FORMED)
LEAVABLE = (TeamStatus.OPEN,)
UNSETTLED = (TeamStatus.PENDING, TeamStatus.OPEN, TeamStatus.FORMED)
SETTLEABLE = (TeamStatus.OPEN, TeamStatus.FORMED)


def is_formed(paid: int, min_size: int) -> bool:
    """A team is formed (已成团) the moment its paid members reach the min size."""
    return paid >= min_size


def is_full(paid: int, max_size: int) -> bool:
    """A full team settles at once, without waiting for its deadline."""
    return paid >= max_size


@dataclass(frozen=True)
class AfterPayment:
    """What payments landing on a team do to it."""

    opened: bool  # pending → open: the opener paid; the team's window starts now
    formed: bool  # → formed: the paid members reached the min size
    settle_now: bool  # the team is full: it settles without waiting for its deadline

    def status(self, before: TeamStatus) -> TeamStatus:
        if self.formed:
            return TeamStatus.FORMED
        if self.opened:
            return TeamStatus.OPEN
        return before


def after_payment(status: str, paid: int, *, min_size: int, max_size: int) -> AfterPayment:
    """``paid`` members have paid now (the payments just landed included). A payment lands
    only on a live team: its order was still payable, so the team was pending, open or
    formed."""
    state = TeamStatus(status)
    if state not in UNSETTLED:
        raise ValueError(f"a payment cannot land on a {state} team")
    opened = state is TeamStatus.PENDING
    live = TeamStatus.OPEN if opened else state
    formed = live is TeamStatus.OPEN and is_formed(paid, min_size)
    return AfterPayment(opened=opened, formed=formed, settle_now=is_full(paid, max_size))


def settlement_due(status: str, paid: int, *, max_size: int, deadline_passed: bool) -> bool:
    """A team settles once, when it is full or its deadline has passed."""
    return TeamStatus(status) in SETTLEABLE and (is_full(paid, max_size) or deadline_passed)


def settled_status(outcome: Outcome) -> TeamStatus:
    return TeamStatus.FAILED if not outcome.succeeded else TeamStatus.SETTLED


def may_leave(status: str, *, is_opener: bool, seat_paid: bool) -> bool:
    """A member may leave before the team forms; the opener may also walk away from a team
    they have not paid for yet (it then closes)."""
    state = TeamStatus(status)
    if state in LEAVABLE:
        return True
    return state is TeamStatus.PENDING and is_opener and not seat_paid


@dataclass(frozen=True)
class AfterLeaving:
    close: bool  # nobody paid is left: the team closes
    hand_over: bool  # the opener left: the earliest remaining member becomes the opener


def after_leaving(*, was_opener: bool, paid_left: int) -> AfterLeaving:
    """A paid member left an open team; ``paid_left`` paid members remain."""
    if not was_opener:
        return AfterLeaving(close=False, hand_over=False)
    return AfterLeaving(close=paid_left == 0, hand_over=paid_left > 0)


def closes_on_release(status: str, *, was_opener: bool) -> bool:
    """An unpaid seat was released: a team whose opener never paid closes."""
    return TeamStatus(status) is TeamStatus.PENDING and was_opener


# ---------------------------------------------------------------- reservations
#
# A team opens only if it can form: opening sets aside the units of its minimum size from
# the campaign's free stock (the opener's quantity for each of the min-size seats). The
# opener's own seat holds its units at once; the rest stays reserved for the team. A join
# draws from its team's reservation first, then from the free stock (a team growing past
# its minimum). A seat that goes again (an unpaid hold released, a paid member leaving an
# open team) gives its units back to the reservation, up to what the team still needs; the
# rest, and whatever a team still reserves when it settles, fails or closes, goes back to
# the free stock. So, per campaign: stock = free + reserved + held + sold, free ≥ 0.


def opening_reservation(quantity: int, min_size: int) -> int:
    """What opening a team reserves beyond the opener's own units: one seat's worth
    (the opener's quantity) for each of the other seats of its minimum size."""
    return quantity * (min_size - 1)


def drawn(reserved: int, quantity: int) -> int:
    """How much of a join's quantity comes out of its team's reservation."""
    return min(max(reserved, 0), quantity)


def back_to_team(
    status: str,
    quantity: int,
    *,
    reserved: int,
    seats_taken: int,
    min_size: int,
    seat_units: int,
) -> int:
    """How much of a seat's ``quantity``, given up while its team goes on, returns to the
    team's reservation (the rest is free stock again). Only a team that has not formed
    needs units to form: up to one seat's worth for each seat it is short of its minimum
    (``seats_taken``: the live seats once this one has gone), less what it reserves
    already."""
    if TeamStatus(status) not in (TeamStatus.PENDING, TeamStatus.OPEN):
        return 0
    need = max(0, min_size - seats_taken) * seat_units
    return max(0, min(quantity, need - reserved))


def openable_teams(available: int, min_size: int) -> int:
    """How many teams (of one unit a member) the free stock lets open now: 可开团 N 个."""
    return max(0, available) // min_size
