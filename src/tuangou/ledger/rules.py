"""Accounts of the double-entry journal and the rule that every transfer balances.

Sign convention: a leg adds ``amount`` to its account; the legs of a transfer sum to zero.
``gateway`` is money that came in through (or went back out to) the payment gateway, so it is
negative by what members paid net of refunds sent back; ``subsidy`` is negative by what the
platform spent on completion and opener-free perks.
"""

from __future__ import annotations

from collections.abc import Sequence

GATEWAY = "gateway"
ESCROW = "escrow"
REFUNDS = "refunds"  # owed back to members; emptied when the gateway confirms the refund
SUBSIDY = "subsidy"
PLATFORM_REVENUE = "platform_revenue"
SUPPLIER_PREFIX = "supplier_payable:"
# A leader's commission: frozen through the after-sale window, then available, then on its
# way out while a withdrawal is paid.
LEADER_FROZEN_PREFIX = "leader_frozen:"
LEADER_AVAILABLE_PREFIX = "leader_available:"
LEADER_WITHDRAWING_PREFIX = "leader_withdrawing:"
# A member's referral commission, the same three steps; and what a refund took back after the
# commission was withdrawn (a receivable: never above 0, paid off from later commission).
REFERRAL_FROZEN_PREFIX = "referral_frozen:"
REFERRAL_AVAILABLE_PREFIX = "referral_available:"
REFERRAL_WITHDRAWING_PREFIX = "referral_withdrawing:"
REFERRAL_DEBT_PREFIX = "referral_debt:"

# The accounts that must never be negative (invariant 5): escrow, refunds owed, and what
# suppliers, leaders and the operator have earned. The audit checks exactly these.
NON_NEGATIVE_PREFIXES = (
    ESCROW,
    REFUNDS,
    PLATFORM_REVENUE,
    SUPPLIER_PREFIX,
    LEADER_FROZEN_PREFIX,
    LEADER_AVAILABLE_PREFIX,
    LEADER_WITHDRAWING_PREFIX,
    REFERRAL_FROZEN_PREFIX,
    REFERRAL_AVAILABLE_PREFIX,
    REFERRAL_WITHDRAWING_PREFIX,
)


def supplier_account(supplier_id: int) -> str:
    return f"{SUPPLIER_PREFIX}{supplier_id}"


class UnbalancedTransfer(ValueError):
    pass


def check_legs(legs: Sequence[tuple[str, int]]) -> None:
    if len(legs) < 2:
        raise UnbalancedTransfer("a transfer needs at least two legs")
    if sum(amount for _, amount in legs) != 0:
        raise UnbalancedTransfer(f"legs do not sum to zero: {legs}")
    if any(not isinstance(amount, int) or isinstance(amount, bool) for _, amount in legs):
        raise UnbalancedTransfer("amounts are integer fen")


def must_stay_non_negative(account: str) -> bool:
    return account.startswith(NON_NEGATIVE_PREFIXES)
