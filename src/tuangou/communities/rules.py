"""Pure rules for leaders and communities: invite codes, pickup points, the two-level rule.

No database and no framework here (ENGINEERING.md rule 3).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from tuangou.fulfilment import rules as fulfilment_rules


class ApplicationStatus(StrEnum):
    """A leader application: pending → approved | rejected, decided once by an operator."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LeaderStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by an operator, or by low credit: may not publish or adopt waves


class InvitationStatus(StrEnum):
    """A sub-leader invitation: pending → accepted | declined | cancelled (by the inviter);
    a pending one past ``expires_at`` is shown as expired and can no longer be accepted."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class LinkEnd(StrEnum):
    """How a sub-leader link ended: the sub-leader left, or an operator ended it."""

    LEFT = "left"
    ENDED_BY_OPERATOR = "ended_by_operator"


APPLICATION_STATUSES = tuple(ApplicationStatus)
INVITATION_STATUSES = tuple(InvitationStatus)
LEADER_STATUSES = tuple(LeaderStatus)
# The leader is recorded as a member of their own community with the role "leader".
MEMBER_ROLES = ("member", "admin", "leader")
MANAGER_ROLES = ("admin", "leader")

INVITE_BYTES = 9  # 72 random bits
INVITE_LENGTH = 12  # base64url of 9 bytes, no padding
INVITE_RE = re.compile(r"[A-Za-z0-9_-]{12}")

NAME_MAX = 64
ADDRESS_MAX = 200
HOURS_MAX = 64
NOTE_MAX = 500
REASON_MAX = 200
RULES_MAX = 5000


def new_invite_code() -> str:
    """A random, url-safe invite code (``secrets.token_urlsafe``: A-Z a-z 0-9 - _)."""
    return secrets.token_urlsafe(INVITE_BYTES)


def valid_invite_code(code: str) -> bool:
    return bool(INVITE_RE.fullmatch(code))


class RuleViolation(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def clean_text(value: str, *, field: str, max_len: int, required: bool = True) -> str:
    """Strip; refuse an empty required value or one that is too long."""
    value = value.strip()
    if required and not value:
        raise RuleViolation(field, "this field is required")
    if len(value) > max_len:
        raise RuleViolation(field, f"at most {max_len} characters")
    return value


def check_coordinates(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and -90.0 <= latitude <= 90.0):
        raise RuleViolation("latitude", "a latitude is between -90 and 90")
    if not (math.isfinite(longitude) and -180.0 <= longitude <= 180.0):
        raise RuleViolation("longitude", "a longitude is between -180 and 180")


def recruit_refusal(
    recruiter_id: int,
    recruit_id: int,
    *,
    recruiter_parent: int | None,
    recruit_parent: int | None,
    recruit_has_subs: bool,
) -> str | None:
    """Why ``recruiter`` may not take ``recruit`` as a sub-leader, or ``None`` if they may.

    At most two levels (a leader and their sub-leaders): deeper chains are pyramid selling,
    unlawful in China. So a recruiter must have no parent, and a recruit neither a parent nor
    sub-leaders of their own. Re-recruiting one's own sub-leader is allowed (a no-op). These
    conditions also rule out every cycle.

    Returns ``"self"`` or ``"third_level"``.
    """
    if recruiter_id == recruit_id:
        return "self"
    if recruit_parent == recruiter_id:
        return None
    if recruiter_parent is not None or recruit_parent is not None or recruit_has_subs:
        return "third_level"
    return None


def invitation_status(stored: str, expires_at: datetime, now: datetime) -> InvitationStatus:
    """What an invitation is now: a pending one past its expiry is expired."""
    if stored == InvitationStatus.PENDING and now >= expires_at:
        return InvitationStatus.EXPIRED
    return InvitationStatus(stored)


def linked_at(links: Iterable[tuple[int, datetime, datetime | None]], when: datetime) -> int | None:
    """The parent of a sub-leader at ``when``, from their links (parent, started, ended):
    a link holds from its start (included) to its end (excluded)."""
    for parent, started, ended in links:
        if started <= when and (ended is None or when < ended):
            return parent
    return None


def depth(parent_of: Mapping[int, int | None], leader_id: int) -> int:
    """Levels from ``leader_id`` up to its root (1 for a root); raises on a cycle."""
    seen = {leader_id}
    levels = 1
    node = parent_of.get(leader_id)
    while node is not None:
        if node in seen:
            raise ValueError("cycle in the leader tree")
        seen.add(node)
        levels += 1
        node = parent_of.get(node)
    return levels


def map_link(latitude: float, longitude: float, label: str) -> str:
    """A pickup point's map link (the ``geo:`` URI of fulfilment), for 附近."""
    return fulfilment_rules.map_link(latitude, longitude, label)
