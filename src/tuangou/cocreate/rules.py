"""Pure rules of co-creation (共创): a proposal's states, the threshold, who may vote.

A proposal: open → ready (its community's threshold of votes or pledged units reached, once)
→ converted (a pre-sale wave); open → archived (no threshold within the archive days) or
withdrawn (by its author). Votes are taken while it is open or ready; a vote is withdrawn
only while it is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tuangou.orders.rules import OrderStatus

MIN_PLEDGE, MAX_PLEDGE = 0, 99  # 0: a vote without a pledge
TITLE_MAX, DESCRIPTION_MAX, HINT_MAX = 100, 2000, 100
MAX_TARGET_PRICE = 10_000_000  # fen: ¥100,000
PHOTOS_PER_PROPOSAL = 1

# Operator bounds of a leader's threshold, and the defaults of a community without settings.
DEFAULT_VOTES, MIN_VOTES, MAX_VOTES = 20, 3, 1000
DEFAULT_UNITS, MIN_UNITS, MAX_UNITS = 50, 5, 10000
DEFAULT_EARLY_HOURS, MAX_EARLY_HOURS = 24, 168


class ProposalStatus(StrEnum):
    OPEN = "open"
    READY = "ready"
    CONVERTED = "converted"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"


VOTABLE = (ProposalStatus.OPEN, ProposalStatus.READY)
COMPLETED_ORDER = OrderStatus.COMPLETED


class RuleViolation(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Threshold:
    votes: int = DEFAULT_VOTES
    units: int = DEFAULT_UNITS

    def reached(self, votes: int, units: int) -> bool:
        """Votes ≥ V or pledged units ≥ Q."""
        return votes >= self.votes or units >= self.units


def check_threshold(votes: int, units: int, early_hours: int) -> None:
    if not MIN_VOTES <= votes <= MAX_VOTES:
        raise RuleViolation("votes", "the votes needed must be 3 to 1000")
    if not MIN_UNITS <= units <= MAX_UNITS:
        raise RuleViolation("units", "the pledged units needed must be 5 to 10000")
    if not 0 <= early_hours <= MAX_EARLY_HOURS:
        raise RuleViolation("early_hours", "the early window must be 0 to 168 hours")


def check_pledge(pledge: int) -> None:
    if not MIN_PLEDGE <= pledge <= MAX_PLEDGE:
        raise RuleViolation("pledge", "a pledge is 1 to 99 units, or none")


def check_proposal(title: str, description: str, target_price: int, supplier_hint: str) -> None:
    if not title.strip():
        raise RuleViolation("title", "a proposal needs a title")
    if len(title.strip()) > TITLE_MAX:
        raise RuleViolation("title", "a proposal's title has at most 100 characters")
    if len(description) > DESCRIPTION_MAX:
        raise RuleViolation("description", "a proposal's description has at most 2000 characters")
    if not 1 <= target_price <= MAX_TARGET_PRICE:
        raise RuleViolation("target_price", "the target price must be ¥0.01 to ¥100,000")
    if len(supplier_hint) > HINT_MAX:
        raise RuleViolation("supplier_hint", "a supplier hint has at most 100 characters")


def eligible_from(account_created: datetime, min_days: int) -> datetime:
    """When an account becomes old enough to vote: exactly ``min_days`` after its creation."""
    return account_created + timedelta(days=min_days)


def may_vote(
    *, account_created: datetime, now: datetime, min_days: int, completed_order: bool
) -> bool:
    """A member with a completed order votes; so does one whose account is ``min_days`` old."""
    return completed_order or now >= eligible_from(account_created, min_days)


def max_moq(pledged: int) -> int:
    """A converted wave's MOQ is the pledged quantity or less (at least 1, a wave's floor)."""
    return max(pledged, 1)


def archive_before(now: datetime, archive_days: int) -> datetime:
    """Open proposals created before this instant are archived."""
    return now - timedelta(days=archive_days)
