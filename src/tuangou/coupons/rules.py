"""Coupons and the level discount at checkout, as pure rules.

The order of application: the member's level discount first (``apply_bps`` of the price
before discounts, rounded half up), then the coupon on what is left (a fixed amount, or a
percentage of what is left rounded half up and capped); together they always leave at least
1 fen for the member to pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tuangou.core.money import apply_bps

ORDER_KINDS = ("team", "wave", "bargain", "flash")  # the kinds of order a coupon may apply to
KIND_ZH = {"team": "拼团", "wave": "团期预售", "bargain": "砍价", "flash": "秒杀"}
MAX_BPS = 10000


class Form(StrEnum):
    FIXED = "fixed"  # a fixed amount off, in fen
    PERCENT = "percent"  # a percentage off, in basis points, with an optional cap


class Status(StrEnum):
    AVAILABLE = "available"
    USED = "used"  # on an order (unpaid or paid)
    EXPIRED = "expired"  # refunded after its expiry: it does not come back


@dataclass(frozen=True)
class Terms:
    """What a coupon gives and when it applies; copied onto each member's coupon when bought,
    so that a later edit of the catalogue never changes a coupon already held."""

    form: str
    amount: int  # fen off (fixed)
    percent_bps: int  # off (percent)
    cap: int | None  # at most this many fen off (percent)
    min_spend: int  # the price before discounts must be at least this
    kinds: tuple[str, ...]


def check_terms(terms: Terms) -> str | None:
    """Why the terms are invalid, or None."""
    if terms.form not in (Form.FIXED, Form.PERCENT):
        return "the coupon is a fixed amount or a percentage"
    if terms.form == Form.FIXED and terms.amount < 1:
        return "a fixed coupon takes off at least 1 fen"
    if terms.form == Form.PERCENT and not 1 <= terms.percent_bps < MAX_BPS:
        return "a percentage is between 1 and 9999 basis points"
    if terms.cap is not None and terms.cap < 1:
        return "a cap is at least 1 fen"
    if terms.min_spend < 0:
        return "the minimum spend cannot be negative"
    if not terms.kinds or any(k not in ORDER_KINDS for k in terms.kinds):
        return f"the kinds of order are some of {', '.join(ORDER_KINDS)}"
    return None


def refusal(terms: Terms, kind: str, list_amount: int) -> str | None:
    """Why the coupon does not apply to an order (``kind``, ``minimum``), or None."""
    if kind not in terms.kinds:
        return "kind"
    if list_amount < terms.min_spend:
        return "minimum"
    return None


def level_discount(list_amount: int, bps: int) -> int:
    """The level discount of a price, half up, leaving at least 1 fen."""
    if list_amount <= 1 or bps <= 0:
        return 0
    return min(apply_bps(list_amount, min(bps, MAX_BPS)), list_amount - 1)


def coupon_discount(terms: Terms, rest: int) -> int:
    """What the coupon takes off ``rest`` (the price after the level discount), leaving at
    least 1 fen."""
    if rest <= 1:
        return 0
    if terms.form == Form.FIXED:
        off = terms.amount
    else:
        off = apply_bps(rest, terms.percent_bps)
        if terms.cap is not None:
            off = min(off, terms.cap)
    return max(0, min(off, rest - 1))


def expiry(acquired_at: datetime, valid_until: datetime | None, valid_days: int | None) -> datetime:
    """When a coupon bought at ``acquired_at`` expires: N days after, or the window's end
    (the sooner of the two when both are set)."""
    ends = [t for t in (valid_until,) if t is not None]
    if valid_days is not None:
        ends.append(acquired_at + timedelta(days=valid_days))
    if not ends:
        raise ValueError("a coupon needs a window or a number of days")
    return min(ends)


def shown_status(status: str, expires_at: datetime, now: datetime) -> str:
    """available / used / expired, as the member sees it."""
    if status == Status.AVAILABLE and expires_at <= now:
        return Status.EXPIRED
    return status
