"""Pure rules of the bargain by friends (砍价 / 助力). No database, no web framework: tested
with Hypothesis.

Prices are integer fen. A bargain starts at the campaign's start price; its K helpers cut it
down to the floor. The K cuts are fixed when the bargain starts (:func:`schedule`): they fall
fast, then slowly (a geometric ladder of ratio 2/3 over a base of one fen each), and sum to
exactly ``start − floor``. The new-member bonus (:func:`with_bonus`) and a reversal of helps
(:func:`reschedule`) write a new schedule of the cuts still to come, which sums exactly too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_HELPERS = 100  # (the refusals below say these numbers)
MAX_HOURS = 7 * 24
DEFAULT_HOURS = 24
# A brand-new member: signed up at most this long ago, and never paid for an order.
NEW_MEMBER_HOURS = 72
# The ladder's ratio, as a fraction: each cut's share is 2/3 of the one before.
_RATIO = (2, 3)


class BargainStatus(StrEnum):
    """open → complete (the floor reached) → ordered (an unpaid order holds it) → paid;
    open or complete → ordered → back (the order was never paid); open or complete → expired
    (its time ran out: the worker closes it, once)."""

    OPEN = "open"
    COMPLETE = "complete"
    ORDERED = "ordered"
    PAID = "paid"
    EXPIRED = "expired"


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class HelpStatus(StrEnum):
    COUNTED = "counted"
    VOIDED = "voided"  # reversed (a confirmed fraud ring): its cut went back to the price


class RiskAction(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    HOLD = "hold"
    BLOCK = "block"


# A bargain that still counts against its campaign (its stock, its end).
LIVE = frozenset({BargainStatus.OPEN, BargainStatus.COMPLETE, BargainStatus.ORDERED})
# A bargain whose helps a reversal may void: nothing was paid at its price.
UNPAID = LIVE
# A bargain its starter may buy now.
BUYABLE = frozenset({BargainStatus.OPEN, BargainStatus.COMPLETE})


class RuleViolation(ValueError):
    """A campaign setting that breaks a rule; ``field`` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def schedule(total: int, count: int) -> list[int]:
    """``count`` integer cuts summing to exactly ``total``, non-increasing, falling fast then
    slowly; each at least one fen when ``total >= count`` (else the first ``total`` are one
    fen and the rest zero).

    Each cut is one fen plus its share of the rest by weights of ratio 2/3; the shares are
    rounded down and the fen left over go one each to the first cuts, which keeps the order."""
    if count < 1:
        raise ValueError("at least one cut")
    if total < 0:
        raise ValueError("a cut schedule cannot be negative")
    if total < count:
        return [1] * total + [0] * (count - total)
    rest = total - count
    num, den = _RATIO
    weights = [num**i * den ** (count - 1 - i) for i in range(count)]
    whole = sum(weights)
    shares = [rest * w // whole for w in weights]
    left = rest - sum(shares)  # fewer than ``count``
    return [1 + s + (1 if i < left else 0) for i, s in enumerate(shares)]


def with_bonus(remaining: Sequence[int], bonus: int) -> tuple[int, list[int]]:
    """A brand-new member's cut: the next cut plus ``bonus``, taken from the cuts after it,
    which are split again so that each keeps at least one fen. Returns ``(the bonus granted,
    the new remaining schedule)``, of the same length and the same sum as ``remaining``."""
    if not remaining:
        raise ValueError("no cut left")
    later = list(remaining[1:])
    if bonus <= 0 or not later:
        return 0, list(remaining)
    spare = sum(later) - len(later)  # what the later cuts can give and keep one fen each
    granted = max(0, min(bonus, spare))
    if granted == 0:
        return 0, list(remaining)
    return granted, [remaining[0] + granted, *schedule(sum(later) - granted, len(later))]


def reschedule(taken: Sequence[int], total: int, count: int) -> list[int]:
    """The whole schedule after helps were voided: the cuts still counted (``taken``, in the
    order they were taken), then what is left of ``total`` split over the cuts to come."""
    left = total - sum(taken)
    if len(taken) > count or left < 0:
        raise ValueError("more taken than the schedule holds")
    if len(taken) == count:
        return list(taken)
    return [*taken, *schedule(left, count - len(taken))]


def validate_campaign(
    *,
    start_price: int,
    floor_price: int,
    helpers_needed: int,
    hours: int,
    helps_per_member: int,
    starts_per_member: int,
    new_member_bonus: int,
) -> None:
    if floor_price < 1:
        raise RuleViolation("floor_price", "the floor must be at least 1 fen")
    if start_price <= floor_price:
        raise RuleViolation("start_price", "the start price must be above the floor")
    if not 1 <= helpers_needed <= MAX_HELPERS:
        raise RuleViolation("helpers_needed", "helpers needed must be 1 to 100")
    if start_price - floor_price < helpers_needed:
        raise RuleViolation(
            "helpers_needed", "every helper must cut at least 1 fen: too many helpers"
        )
    if not 1 <= hours <= MAX_HOURS:
        raise RuleViolation("hours", "the time limit must be 1 to 168 hours")
    if helps_per_member < 1:
        raise RuleViolation("helps_per_member", "a member must be able to help at least once")
    if starts_per_member < 1:
        raise RuleViolation("starts_per_member", "a member must be able to start a bargain")
    if not 0 <= new_member_bonus <= start_price - floor_price:
        raise RuleViolation(
            "new_member_bonus", "the bonus must be between 0 and the start price minus the floor"
        )


def is_new_member(signed_up_at: datetime, now: datetime, *, has_paid_order: bool) -> bool:
    """Brand-new: signed up within :data:`NEW_MEMBER_HOURS` and never paid for an order."""
    return not has_paid_order and now - signed_up_at <= timedelta(hours=NEW_MEMBER_HOURS)


def deadline(started_at: datetime, hours: int, campaign_ends_at: datetime) -> datetime:
    """A bargain's time runs out after the campaign's limit, and never after the campaign."""
    return min(started_at + timedelta(hours=hours), campaign_ends_at)


@dataclass(frozen=True)
class Progress:
    start_price: int
    floor_price: int
    price: int
    cuts_taken: int
    helpers_needed: int

    @property
    def cut_so_far(self) -> int:
        return self.start_price - self.price

    @property
    def cuts_left(self) -> int:
        return self.helpers_needed - self.cuts_taken

    @property
    def percent(self) -> int:
        """How far down to the floor, 0 to 100."""
        span = self.start_price - self.floor_price
        return 100 if span <= 0 else (self.cut_so_far * 100) // span


def after_release(cuts_taken: int, helpers_needed: int, *, expired: bool) -> BargainStatus:
    """An unpaid order of a bargain was closed: the bargain goes back to where it was, or is
    over if its time ran out meanwhile."""
    if expired:
        return BargainStatus.EXPIRED
    return BargainStatus.COMPLETE if cuts_taken >= helpers_needed else BargainStatus.OPEN
