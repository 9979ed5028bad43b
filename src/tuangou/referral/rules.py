"""Referral (分销 / 会员合伙人): who earns on an invitee's completed order, at what rate, and
how the shares are taken from what the supplier would get. No database and no framework here
(ENGINEERING.md rule 3).

There are two levels and never a third: level 1 is the buyer's inviter, level 2 the
inviter's inviter. The chain is computed from two bindings and never walked further.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tuangou.core.money import apply_bps

DEFAULT_LEVEL1_BPS = 1000  # 10%
DEFAULT_LEVEL2_BPS = 500  # 5%
MAX_TOTAL_BPS = 3000  # level 1 + level 2 at most 30%
MAX_BINDING_DAYS = 3650
LEVELS = (1, 2)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
CODE_LENGTH = 8


class Mode(StrEnum):
    """Who can earn: every member, members who spent at least the minimum on completed
    orders, or members the operator appointed (partners)."""

    EVERYONE = "everyone"
    MIN_SPEND = "min_spend"
    APPOINTED = "appointed"


class ReferralStatus(StrEnum):
    """frozen (through the after-sale window) → available; or reversed (a refund took it all
    back). What was withdrawn is shown per line from the wallet, oldest first."""

    FROZEN = "frozen"
    AVAILABLE = "available"
    REVERSED = "reversed"


WALLET_KIND = "referral"  # the kind of the members' wallets in the shared withdrawal flow


@dataclass(frozen=True)
class Terms:
    """The operator's referral settings."""

    level1_bps: int = DEFAULT_LEVEL1_BPS
    level2_bps: int = DEFAULT_LEVEL2_BPS
    mode: str = Mode.EVERYONE
    min_spend: int = 0  # fen, for Mode.MIN_SPEND
    binding_days: int | None = None  # None: a binding lasts forever
    self_purchase: bool = False  # a member earns level 1 on their own purchases


def problems(terms: Terms) -> dict[str, str]:
    """What is wrong with ``terms``, by field (empty when they are valid)."""
    found: dict[str, str] = {}
    for name, value in (("level1_bps", terms.level1_bps), ("level2_bps", terms.level2_bps)):
        if not 0 <= value <= MAX_TOTAL_BPS:
            found[name] = f"a rate is between 0 and {MAX_TOTAL_BPS} basis points"
    rates_ok = "level1_bps" not in found and "level2_bps" not in found
    if rates_ok and terms.level1_bps + terms.level2_bps > MAX_TOTAL_BPS:
        found["level2_bps"] = "level 1 + level 2 may be at most 30%"
    if terms.mode not in set(Mode):
        found["mode"] = "the mode is everyone, min_spend or appointed"
    if terms.min_spend < 0:
        found["min_spend"] = "the minimum spend must not be negative"
    if terms.binding_days is not None and not 1 <= terms.binding_days <= MAX_BINDING_DAYS:
        found["binding_days"] = f"a binding lasts 1 to {MAX_BINDING_DAYS} days, or forever"
    return found


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper()


def binding_holds(bound_until: datetime | None, at: datetime) -> bool:
    """A binding holds until its end (forever when it has none)."""
    return bound_until is None or at < bound_until


def eligible(terms: Terms, *, appointed: bool, spent: int, role_is_member: bool = True) -> bool:
    """Whether a member may earn, judged when the order completes."""
    if not role_is_member:
        return False
    if terms.mode == Mode.APPOINTED:
        return appointed
    if terms.mode == Mode.MIN_SPEND:
        return appointed or spent >= terms.min_spend
    return True


def shares(base: int, rates: list[int], room: int) -> list[int]:
    """Each level's share of ``base`` at its rate (rounded half up, the project's one rounding
    of a rate), taken in level order from ``room`` (what the supplier's part still holds):
    a share is capped at what is left, so the parts never exceed the escrow released."""
    if base < 0 or room < 0:
        raise ValueError("amounts must not be negative")
    if sum(rates) > MAX_TOTAL_BPS:
        raise ValueError("rates exceed the cap")
    out: list[int] = []
    left = room
    for bps in rates:
        value = min(apply_bps(base, bps), left)
        out.append(value)
        left -= value
    return out


def reversal_share(amount: int, reversed_amount: int, released: int, refunded_after: int) -> int:
    """What a refund gives back of a share of ``amount`` taken from a release of
    ``released``, once ``refunded_after`` of that release has been refunded in all (this
    refund included): proportional and cumulative, so that refunds adding up to the whole
    release give the whole share back to the fen."""
    if released <= 0:
        return 0
    refunded_after = min(max(refunded_after, 0), released)
    target = amount * refunded_after // released
    return max(0, min(target, amount) - reversed_amount)


def allocate_withdrawn(available_lines: list[int], withdrawn: int) -> list[int]:
    """How much of each available line (oldest first) the member's withdrawals took: the
    wallet is one balance, so withdrawals are shown as taking the oldest fen first."""
    out = []
    for value in available_lines:
        take = min(value, max(withdrawn, 0))
        out.append(take)
        withdrawn -= take
    return out
