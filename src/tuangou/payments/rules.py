"""Pure rules of payments: the statuses of a payment and of the sandbox gateway's charges.

No database and no framework here (ENGINEERING.md rule 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PaymentStatus(StrEnum):
    """pending → succeeded | failed (declined) | expired (the order was released unpaid);
    expired → abandoned (the gateway never heard of it) or succeeded (a late payment)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


class ChargeStatus(StrEnum):
    """A sandbox charge: created → succeeded | declined."""

    CREATED = "created"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class GatewayState(StrEnum):
    """What a gateway says of a charge when asked (and what its callbacks report)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    UNKNOWN = "unknown"


class RefundState(StrEnum):
    """What a gateway says of a refund we sent."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


def yuan(amount: int) -> str:
    """Fen as the gateways' yuan text: 1234 → "12.34"."""
    sign = "-" if amount < 0 else ""
    whole, fen = divmod(abs(amount), 100)
    return f"{sign}{whole}.{fen:02d}"


def fen(text: str) -> int:
    """A gateway's yuan text as fen: "12.34" → 1234 (exact; refuses more than two decimals)."""
    text = text.strip().replace(",", "")
    negative = text.startswith("-")
    whole, _, part = text.lstrip("+-").partition(".")
    if not whole.isdigit() and whole != "":
        raise ValueError(f"not an amount: {text!r}")
    part = part.rstrip("0") if len(part) > 2 else part
    if len(part) > 2 or (part and not part.isdigit()):
        raise ValueError(f"not an amount: {text!r}")
    value = int(whole or "0") * 100 + int((part + "00")[:2])
    return -value if negative else value


@dataclass(frozen=True)
class Notice:
    """A gateway's notification, once its signature is verified (and WeChat's resource
    decrypted): what it says, before it is checked against our payment.

    kind: ``payment`` (paid, or closed unpaid) or ``refund``; ``state`` is what it reports, as
    a :class:`GatewayState` for a payment and a :class:`RefundState` for a refund; ``event`` is
    the gateway's own word (``SUCCESS``, ``TRADE_CLOSED``…), part of the notice's unique key.
    ``amount`` is the payment's total in fen (``refund_amount`` the refund's)."""

    gateway: str
    kind: str
    event: str
    state: str
    ref: str
    txn_id: str
    merchant: str
    amount: int
    currency: str
    sent_at: datetime
    refund_key: str | None = None
    refund_amount: int = 0


def refund_key_out(key: str) -> str:
    """Our refund key as a gateway's refund number (letters, digits, ``-`` and ``_`` only)."""
    return key.replace(":", "-")


def refund_key_in(number: str) -> str:
    """A gateway's refund number back as our refund key (``refund-12`` → ``refund:12``)."""
    head, sep, tail = number.partition("-")
    return f"{head}:{tail}" if sep else number
