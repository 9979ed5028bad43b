"""Pure rules of payments: the statuses of a payment and of the sandbox gateway's charges.

No database and no framework here (ENGINEERING.md rule 3).
"""

from __future__ import annotations

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
