"""How an amount leaving escrow at pickup is shared: the supplier, the leader's commission,
their upline's override and the operator's fee. No database and no framework here
(ENGINEERING.md rule 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuangou.core.money import apply_bps

DEFAULT_OVERRIDE_BPS = 200  # a leader's override on their sub-leaders' sales


class CommissionStatus(StrEnum):
    """frozen (through the after-sale window) → available; or reversed (after-sale)."""

    FROZEN = "frozen"
    AVAILABLE = "available"
    REVERSED = "reversed"


class WithdrawalStatus(StrEnum):
    """requested → approved | rejected, decided once by an operator."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Split:
    """How an amount leaving escrow at pickup is shared. The parts sum to the amount."""

    supplier: int
    leader: int
    upline: int
    fee: int


def split(amount: int, *, commission_bps: int, override_bps: int, fee_bps: int) -> Split:
    """The leader's commission, their upline's override and the operator's fee are rates of
    what the member actually paid; the supplier gets the rest."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    if commission_bps + override_bps + fee_bps > 10000:
        raise ValueError("rates exceed the whole amount")
    # Each part is its rate rounded half up; when the rates take (nearly) the whole amount,
    # the roundings could add up to more than it: the part is then capped at what is left,
    # so that the supplier's part never goes negative.
    leader = min(apply_bps(amount, commission_bps), amount)
    upline = min(apply_bps(amount, override_bps), amount - leader)
    fee = min(apply_bps(amount, fee_bps), amount - leader - upline)
    return Split(amount - leader - upline - fee, leader, upline, fee)
