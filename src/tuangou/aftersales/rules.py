"""Pure rules of after-sales (售后): who may report what, for how much, and what a photo is.

No database and no framework here (ENGINEERING.md rule 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tuangou.orders.rules import OrderStatus
from tuangou.photos.rules import sniff


class CaseStatus(StrEnum):
    """open → accepted | rejected, decided once."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


KINDS = ("missing", "damaged", "wrong")  # 少件 / 破损 / 错发
STATUSES = tuple(CaseStatus)
# Cases that hold the quantities they claim (a rejected case frees them for a new report).
CLAIMING = (CaseStatus.OPEN, CaseStatus.ACCEPTED)

# The after-sale window: a member reports within this many days of the pickup (or of the
# delivery being confirmed, for a shipped team order). It matches the days a leader's
# commission stays frozen, so a case opened in time reverses a commission still frozen.
WINDOW_DAYS = 7
# Order statuses in which a case may be opened: the goods reached the member's hands, or
# at least the pickup point (a missing item is noticed at the counter).
OPEN_BEFORE_RELEASE = frozenset({OrderStatus.ARRIVED, OrderStatus.SHIPPED})
OPEN_AFTER_RELEASE = frozenset({OrderStatus.COMPLETED})

MIN_PHOTOS, MAX_PHOTOS = 1, 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
DESCRIPTION_MAX = 1000
REASON_MAX = 200
COMMENT_MAX = 300
MIN_STARS, MAX_STARS = 1, 5


class RuleViolation(Exception):
    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def reportable(order_kind: str, status: str) -> bool:
    """Whether an order in ``status`` is one a member may report on at all."""
    if order_kind == "wave":
        return status in (OrderStatus.ARRIVED, OrderStatus.COMPLETED)
    return status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)


def window_closes(completed_at: datetime | None) -> datetime | None:
    """When the window closes: ``WINDOW_DAYS`` after completion; None while not completed."""
    return None if completed_at is None else completed_at + timedelta(days=WINDOW_DAYS)


def window_open(status: str, completed_at: datetime | None, now: datetime) -> bool:
    if status in OPEN_BEFORE_RELEASE:
        return True
    closes = window_closes(completed_at)
    return status in OPEN_AFTER_RELEASE and closes is not None and now <= closes


@dataclass(frozen=True)
class Claimable:
    """One line of an order as the member may claim it."""

    unit_price: int  # what one unit finally cost (after tier price protection)
    quantity: int  # units bought on the line
    claimed: int  # units already claimed by open or accepted cases


def claim_value(lines: Mapping[int | None, Claimable], wanted: Mapping[int | None, int]) -> int:
    """The value of the units claimed, checked against what is left to claim on each line.

    Raises RuleViolation for an unknown line, a quantity below 1, or more units than are left.
    """
    if not wanted:
        raise RuleViolation("invalid_input", "name at least one line and its quantity", "lines")
    total = 0
    for key, quantity in wanted.items():
        line = lines.get(key)
        if line is None:
            raise RuleViolation("invalid_input", f"line {key} is not on this order", "lines")
        if quantity < 1:
            raise RuleViolation("invalid_input", "quantities must be at least 1", "lines")
        left = line.quantity - line.claimed
        if quantity > left:
            raise RuleViolation(
                "refund_exceeds_paid",
                f"only {max(left, 0)} unit(s) of line {key} can still be claimed",
                "lines",
            )
        total += line.unit_price * quantity
    return total


def asked_amount(value: int, asked: int | None, refundable: int) -> int:
    """The amount a case asks for: by default the value of its lines; never more than that
    value nor than what the order can still refund."""
    amount = value if asked is None else asked
    if amount < 1:
        raise RuleViolation("invalid_input", "the amount must be at least 1 fen", "amount")
    if amount > value:
        raise RuleViolation(
            "refund_exceeds_paid", f"the lines claimed are worth {value} fen", "amount"
        )
    if amount > refundable:
        raise RuleViolation(
            "refund_exceeds_paid", f"at most {max(refundable, 0)} fen can be refunded", "amount"
        )
    return amount


def check_photo(declared: str, data: bytes) -> str:
    """The photo's content type: declared as JPEG, PNG or WebP, really one, at most 5 MB."""
    declared = declared.split(";")[0].strip().lower()
    if declared not in PHOTO_TYPES:
        raise RuleViolation("photo_invalid", "a photo must be JPEG, PNG or WebP", "content_type")
    if not data:
        raise RuleViolation("photo_invalid", "the photo is empty", "photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise RuleViolation("photo_invalid", "a photo may be at most 5 MB", "photo")
    actual = sniff(data)
    if actual != declared:
        raise RuleViolation("photo_invalid", f"the bytes are not a {declared} image", "photo")
    return actual


def check_photo_count(n: int) -> None:
    if not MIN_PHOTOS <= n <= MAX_PHOTOS:
        raise RuleViolation(
            "photo_invalid", f"attach {MIN_PHOTOS} to {MAX_PHOTOS} photos", "photo_ids"
        )


def check_stars(stars: int) -> None:
    if not MIN_STARS <= stars <= MAX_STARS:
        raise RuleViolation("invalid_input", "give 1 to 5 stars", "stars")
