"""The pure rules of outgoing webhooks: which topics an endpoint may subscribe to, which
addresses it may point at, what the body carries, how it is signed, and when a failed
delivery is tried again."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

# The outbox topics the platform emits (tests/webhooks/test_rules.py checks the list against
# the code that emits them). ``webhook.test`` is the console's test event: every endpoint
# receives it when asked, whatever it subscribes to.
TOPICS: tuple[str, ...] = (
    "achievement.earned",
    "achievement.task_done",
    "aftersale.accepted",
    "aftersale.opened",
    "aftersale.rejected",
    "commission.available",
    "event.attended",
    "event.cancelled",
    "event.promoted",
    "event.reminder",
    "event.signed_up",
    "leader.approved",
    "leader.invitation_accepted",
    "leader.invitation_declined",
    "leader.invited",
    "leader.link_ended",
    "leader.paused",
    "leader.recruited",
    "leader.rejected",
    "leader.resumed",
    "leader.sub_leader_left",
    "leaderboard.awarded",
    "moderation.hidden",
    "moderation.muted",
    "moderation.restored",
    "order.cancelled",
    "order.completed",
    "order.shipped",
    "payment.declined",
    "pickup.arrived",
    "pickup.completed",
    "points.expiring",
    "post.replied",
    "proposal.converted",
    "proposal.published",
    "proposal.ready",
    "referral.available",
    "referral.joined",
    "referral.reversed",
    "refund.created",
    "review.liked",
    "review.published",
    "review.replied",
    "team.failed",
    "team.formed",
    "team.opener_changed",
    "team.settled",
    "wave.confirmed",
    "wave.refunded",
    "withdrawal.approved",
    "withdrawal.rejected",
)
TEST_TOPIC = "webhook.test"

MAX_ATTEMPTS = 10  # then the delivery is ``failed`` (a replay from the console tries once more)
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
JITTER = 0.2  # each delay is stretched by up to a fifth, at random
RESPONSE_KEPT = 1000  # characters of a receiver's reply kept in the log
LEASE = timedelta(minutes=2)  # a claimed delivery is the claimer's this long

STATUSES = ("pending", "delivered", "failed")

# Keys whose values never leave the platform: a member's pickup code (their proof at the
# counter), anything like a token, password or secret. Phone numbers are masked.
SECRET_KEYS = frozenset({"code", "token", "password", "secret", "share", "share_token"})


class UrlRefused(ValueError):
    """Why an endpoint's address is refused (a sentence)."""


def check_url(url: str, *, allow_private: bool) -> str:
    """The address, stripped, if an endpoint may point at it: http or https, a host, and
    (unless ``allow_private``) no loopback, private, link-local or reserved address written
    as such or named ``localhost``. Names are resolved again before each send
    (:func:`address_allowed`)."""
    url = url.strip()
    if len(url) > 500:
        raise UrlRefused("The address is longer than 500 characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("Only http and https addresses can receive webhooks.")
    host = parts.hostname or ""
    if not host:
        raise UrlRefused("The address has no host.")
    if parts.username or parts.password:
        raise UrlRefused("The address may not carry a user name or password.")
    try:
        _ = parts.port
    except ValueError as exc:
        raise UrlRefused("The address has an invalid port.") from exc
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise UrlRefused("Addresses of this machine or a private network are refused.")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return url
        if not address_allowed(str(ip)):
            raise UrlRefused("Addresses of this machine or a private network are refused.")
    return url


def address_allowed(address: str) -> bool:
    """A resolved address a webhook may be sent to: a global one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_topics(topics: Iterable[str]) -> list[str]:
    """The topics, sorted and each once, if every one is known and there is at least one."""
    chosen = sorted({t.strip() for t in topics if t.strip()})
    unknown = [t for t in chosen if t not in TOPICS]
    if unknown:
        raise ValueError(f"Unknown topics: {', '.join(unknown)}.")
    if not chosen:
        raise ValueError("Choose at least one topic.")
    return chosen


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def redact(value: Any) -> Any:
    """An event's payload as receivers see it: no secret keys, phone numbers masked."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if name in SECRET_KEYS or name.endswith(("_code", "_token", "_secret")):
                continue
            if "phone" in name and isinstance(item, str):
                out[str(key)] = mask_phone(item)
            else:
                out[str(key)] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def body(event_id: str, topic: str, created_at: str, payload: Mapping[str, Any]) -> str:
    """The request body: compact JSON, keys sorted, UTF-8 text as is."""
    return json.dumps(
        {"id": event_id, "topic": topic, "created_at": created_at, "payload": redact(payload)},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def signature(secret: str, timestamp: int, body_text: str) -> str:
    """``HMAC-SHA256(secret, "<timestamp>.<body>")`` in lowercase hex."""
    message = f"{timestamp}.{body_text}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body_text: str) -> str:
    """``v1=<hex>`` for each secret, the newest first, comma-separated."""
    return ",".join(f"v1={signature(s, timestamp, body_text)}" for s in secrets)


def verify(
    secret: str, header: str, timestamp: str, body_text: str, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does (docs/WEBHOOKS.md): the timestamp is recent and one of the
    header's ``v1`` signatures is the expected one."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    expected = signature(secret, ts, body_text)
    return any(
        hmac.compare_digest(expected, part.strip()[3:])
        for part in header.split(",")
        if part.strip().startswith("v1=") and part.strip().isascii()
    )


def delay(attempts: int, rand: float) -> timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again: 1 min,
    2 min, 4 min … doubling up to 6 h, each stretched by up to :data:`JITTER` (``rand`` is
    uniform in [0, 1))."""
    base = min(FIRST_DELAY * (2 ** max(0, attempts - 1)), MAX_DELAY)
    return base * (1 + JITTER * rand)


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
