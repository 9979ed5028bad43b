"""Pure rules of privacy: what blocks a deletion, the confirmation, the retention's edges,
and the masking of other people's phone numbers in an export."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# The phrase a member types to confirm their account's deletion (either one).
CONFIRM_PHRASES = ("注销账号", "DELETE")

# Orders in these states are still open: money in escrow for goods not yet handed over.
OPEN_ORDER_STATUSES = ("pending_payment", "paid", "confirmed", "shipped", "arrived")

# What a deletion keeps, and why (shown before the member confirms): keys of the pages'
# catalog and of the API.
KEPT = {
    "orders": "orders, payments and refunds: the law keeps trade records (电子商务法 §31)",
    "ledger": "the money journal and commission lines: accounting records are kept",
    "content": "posts, replies and reviews keep their text under the name 已注销用户",
}
ERASED = (
    "nickname",
    "phone",
    "password",
    "addresses",
    "photos",
    "sessions",
    "tokens",
    "login_codes",
)


@dataclass(frozen=True)
class Blocker:
    """One open thing that blocks a deletion: its kind, how many, and which (ids)."""

    kind: str
    count: int
    ids: tuple[int, ...] = field(default=())
    amount: int = 0  # fen, where it is money


BLOCKER_TEXT = {
    "open_orders": "orders not finished (unpaid, paid, or waiting for delivery or pickup)",
    "open_aftersales": "after-sale claims not decided",
    "pending_withdrawals": "withdrawals waiting for approval",
    "balance": "money in your wallets (withdraw it first)",
    "leading": "you lead communities as a leader (ask the operators to end it first)",
}


def confirmed(phrase: str) -> bool:
    return phrase.strip() in CONFIRM_PHRASES


def describe(blockers: list[Blocker]) -> str:
    """One line naming every blocker, for the refusal's detail."""
    return "; ".join(
        f"{BLOCKER_TEXT.get(b.kind, b.kind)}: {b.count}"
        + (f" (#{', #'.join(str(i) for i in b.ids[:10])})" if b.ids else "")
        for b in blockers
    )


RETENTION_KINDS = ("codes", "sessions", "risk")


def retention_edges(now: datetime, days: int, per_kind: dict[str, int]) -> dict[str, datetime]:
    """For each kind of raw data, the instant before which it is purged: ``per_kind``'s
    number of days when it is set (above 0), else the common ``days``."""
    return {kind: now - timedelta(days=per_kind.get(kind) or days) for kind in RETENTION_KINDS}


_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_phones(value: Any, own: str) -> Any:
    """``value`` with every mainland mobile number in it masked (138****1234), except the
    member's own ``own``: in strings, and recursively in lists and dicts."""
    if isinstance(value, str):
        return _PHONE.sub(lambda m: m[0] if m[0] == own else f"{m[0][:3]}****{m[0][-4:]}", value)
    if isinstance(value, list | tuple):
        return [mask_phones(v, own) for v in value]
    if isinstance(value, dict):
        return {k: mask_phones(v, own) for k, v in value.items()}
    return value
