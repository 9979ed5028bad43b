"""Pure rules of the community pre-sale wave (社区团购 团期 / 接龙).

A wave item has a base unit price that every member pays when ordering, a minimum total
quantity across the wave (MOQ, 成团门槛), and optional quantity tiers that lower the price as
the total grows; at cut-off the item is confirmed at the tier reached (the difference goes
back to every buyer: price protection) or, below its MOQ, refunded in full.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tuangou.core import ladder

Tier = ladder.Step  # (total quantity reached, unit price in fen)

UNPICKED_POLICIES = ("refund", "keep")
MAX_COMMISSION_BPS = 5000
DEFAULT_COMMISSION_BPS = 1000  # 10% of what the member actually paid
SHARE_TOKEN_BYTES = 16  # 128 random bits: a listing's share link cannot be guessed
SHARE_TOKEN_LENGTH = 22  # base64url of 16 bytes, no padding


class WaveStatus(StrEnum):
    """open → settling → settled (at cut-off), or cancelled before any order."""

    OPEN = "open"
    SETTLING = "settling"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """A wave item at cut-off: confirmed (its MOQ reached) or cancelled."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class LineStatus(StrEnum):
    """One SKU of a wave order: open → confirmed | refunded (its item below MOQ)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REFUNDED = "refunded"


def new_share_token() -> str:
    """The secret of a listing's share link (``secrets.token_urlsafe``: A-Z a-z 0-9 - _)."""
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


def share_path(listing_id: int, token: str) -> str:
    """The wave's share link: whoever holds it may see the wave (an invitee)."""
    return f"/w/{listing_id}?share={token}"


class RuleViolation(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def validate_item(
    *, price: int, tiers: Sequence[Tier], moq: int, stock: int, per_member_limit: int
) -> None:
    if price <= 0:
        raise RuleViolation("price", "the price must be a positive number of fen")
    if moq < 1:
        raise RuleViolation("moq", "the minimum quantity must be at least 1")
    if stock < moq:
        raise RuleViolation("stock", "stock must cover the minimum quantity")
    if per_member_limit < 1:
        raise RuleViolation("per_member_limit", "the per-member limit must be at least 1")
    try:
        ladder.check(tiers, counts="quantities", above=price)
    except ladder.LadderError as e:
        raise RuleViolation("tiers", str(e)) from None


def unit_price_at(price: int, tiers: Sequence[Tier], total: int) -> int:
    """The unit price for a wave total: the cheapest tier reached, else the base price."""
    return ladder.price_at(tiers, total, below=price)


next_tier = ladder.next_step  # the first tier the wave total has not reached yet


@dataclass(frozen=True)
class ItemOutcome:
    confirmed: bool
    final_unit_price: int | None


def settle_item(*, price: int, tiers: Sequence[Tier], moq: int, total: int) -> ItemOutcome:
    """At cut-off: confirmed at the price reached when the total meets the MOQ."""
    if total >= moq and total > 0:
        return ItemOutcome(True, unit_price_at(price, tiers, total))
    return ItemOutcome(False, None)


def protection_refund(charged: int, final: int, quantity: int) -> int:
    if final > charged:
        raise ValueError("a final price never exceeds the price charged")
    return (charged - final) * quantity


def validate_commission(bps: int) -> None:
    if not 0 <= bps <= MAX_COMMISSION_BPS:
        raise RuleViolation("commission_bps", "the commission must be 0 to 50%")


def ordered_pairs(tiers: Sequence[Sequence[int]]) -> list[Tier]:
    """Tiers as (quantity, unit price) pairs, refused unless their quantities strictly grow."""
    pairs = ladder.normalise(tiers)
    try:
        ladder.check_thresholds(pairs, counts="quantities")
    except ladder.LadderError as e:
        raise RuleViolation("tiers", str(e)) from None
    return pairs
