"""What reaches a member's inbox, once per event: pure rules over an outbox event's topic
and payload (no database).

* :func:`event_key`: the event a message tells of, the same however often and by whichever
  path it is emitted (the team formed, the order settled, the refund made). A recipient gets
  one message per key (a unique constraint); ``None`` when the event is not for the inbox
  because another message of the same moment already tells it.
* :func:`target`: what a message is about and links to (the team, the order, the case…).
* :data:`STATE_OF`: the messages whose title is a state of an order, a team, a pickup or an
  after-sale case; the pages say that state in the same words (``web/status.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from tuangou.accounts import rules as account_rules
from tuangou.aftersales.rules import CaseStatus
from tuangou.fulfilment.rules import PickupStatus
from tuangou.orders.rules import OrderStatus
from tuangou.teams.rules import TeamStatus

# The refunds that the message of their settlement or decision already tells (its amount
# included): a team settled (price protection, the opener's free order) or failed, a wave's
# order settled at cut-off (price protection, items below their minimum), an after-sale case
# accepted. Every other refund (leaving a team, an operator's, goods never shipped…) is a
# message of its own.
TOLD_BY_SETTLEMENT = frozenset(
    {"price_protection", "opener_free", "team_failed", "moq_not_met", "after_sale"}
)

# topic -> the state its title names: ("order" | "team" | "pickup" | "case", status).
STATE_OF: dict[str, tuple[str, str]] = {
    "team.formed": ("team", TeamStatus.FORMED),
    "team.failed": ("team", TeamStatus.FAILED),
    "wave.confirmed": ("order", OrderStatus.CONFIRMED),
    "wave.refunded": ("order", OrderStatus.REFUNDED),
    "pickup.arrived": ("order", OrderStatus.ARRIVED),
    "pickup.completed": ("pickup", PickupStatus.PICKED_UP),
    "order.shipped": ("order", OrderStatus.SHIPPED),
    "order.completed": ("order", OrderStatus.COMPLETED),
    "order.cancelled": ("order", OrderStatus.CANCELLED),
    "aftersale.accepted": ("case", CaseStatus.ACCEPTED),
    "aftersale.rejected": ("case", CaseStatus.REJECTED),
}


def _id(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_key(topic: str, payload: Mapping[str, Any], event_id: str) -> str | None:
    """The event a message of ``topic`` tells of, for one recipient; None: no message."""
    order = _id(payload, "order_id")
    if topic == "refund.created":
        amount = _id(payload, "amount") or 0
        if amount <= 0 or payload.get("reason") in TOLD_BY_SETTLEMENT:
            return None
        return f"refund:{_id(payload, 'refund_id')}" if "refund_id" in payload else None
    if topic == "order.completed" and payload.get("how") == "pickup":
        return None  # the pickup's own message (已提货) tells it
    keys: dict[str, str | None] = {
        # One settlement per order, whatever its outcome.
        "team.settled": f"order:{order}:settled",
        "team.failed": f"order:{order}:settled",
        "wave.confirmed": f"order:{order}:settled",
        "wave.refunded": f"order:{order}:settled",
        "team.formed": f"team:{_id(payload, 'team_id')}:formed",
        "team.opener_changed": f"team:{_id(payload, 'team_id')}:opener",
        "pickup.arrived": f"order:{order}:arrived",
        "pickup.completed": f"order:{order}:completed",
        "order.completed": f"order:{order}:completed",
        "order.shipped": f"order:{order}:shipped",
        "order.cancelled": f"order:{order}:cancelled",
        "payment.declined": f"payment:{_id(payload, 'payment_id')}:declined",
        "commission.available": f"commission:{_id(payload, 'commission_id')}:available",
        "referral.available": f"referral:{_id(payload, 'commission_id')}:available",
        "withdrawal.approved": f"withdrawal:{_id(payload, 'withdrawal_id')}:decided",
        "withdrawal.rejected": f"withdrawal:{_id(payload, 'withdrawal_id')}:decided",
        "leader.approved": f"application:{_id(payload, 'application_id')}:decided",
        "leader.rejected": f"application:{_id(payload, 'application_id')}:decided",
        "aftersale.opened": f"case:{_id(payload, 'case_id')}:opened",
        "aftersale.accepted": f"case:{_id(payload, 'case_id')}:decided",
        "aftersale.rejected": f"case:{_id(payload, 'case_id')}:decided",
        # Community events: one reminder and one cancellation per member and event.
        "event.reminder": f"event:{_id(payload, 'event_id')}:reminder",
        "event.cancelled": f"event:{_id(payload, 'event_id')}:cancelled",
        "post.replied": f"reply:{_id(payload, 'reply_id')}:replied",
        "review.replied": f"review:{_id(payload, 'review_id')}:replied",
        "points.expiring": f"points:{_id(payload, 'year')}:expiring",
        "proposal.ready": f"proposal:{_id(payload, 'proposal_id')}:ready",
        "proposal.converted": f"proposal:{_id(payload, 'proposal_id')}:converted",
        "proposal.published": f"proposal:{_id(payload, 'proposal_id')}:published",
        "leaderboard.awarded": f"board:{_id(payload, 'community_id')}:{payload.get('month')}:award",
    }
    key = keys.get(topic)
    if key is None or ":None:" in key or key.endswith(":None"):
        # A state that may come and go (a leader paused, resumed, paused again), or a
        # payload without the id its key needs: the event itself.
        return f"{topic}:{event_id}"
    return key


def target(topic: str, data: Mapping[str, Any]) -> tuple[str, int] | None:
    """What a message links to: ("team" | "order" | "case" | "commission" | "withdrawal" |
    "leader" | "application" | "proposal", id), or None."""
    team, order, case = _id(data, "team_id"), _id(data, "order_id"), _id(data, "case_id")
    if topic in ("team.formed", "team.opener_changed") and team is not None:
        return ("team", team)
    if topic in ("aftersale.accepted", "aftersale.rejected") and case is not None:
        return ("case", case)
    if topic == "aftersale.opened" and case is not None:
        return ("case_to_decide", case)
    if topic == "commission.available":
        return ("commission", _id(data, "commission_id") or 0)
    if topic.startswith("referral."):
        return ("referral", _id(data, "commission_id") or 0)
    if topic.startswith("withdrawal."):
        return ("withdrawal", _id(data, "withdrawal_id") or 0)
    if topic in ("leader.approved", "leader.paused", "leader.resumed", "leader.recruited"):
        return ("leader", _id(data, "leader_id") or 0)
    if topic.startswith("proposal."):
        return ("proposal", _id(data, "proposal_id") or 0)
    if topic == "leader.rejected":
        return ("application", _id(data, "application_id") or 0)
    if topic.startswith("event.") and _id(data, "event_id") is not None:
        return ("event", _id(data, "event_id") or 0)
    if topic == "post.replied":
        return ("post", _id(data, "post_id") or 0)
    if topic in ("points.expiring", "leaderboard.awarded"):
        return ("points", 0)
    if topic.startswith("achievement."):
        return ("achievements", 0)
    if order is not None:
        return ("order", order)
    if team is not None:
        return ("team", team)
    return None


def says_amount(value: Any) -> bool:
    """Whether a message should name this amount of money: a positive number of fen (a
    refund of nothing says nothing, "退还差价 ¥0.00" is never sent)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# ---------------------------------------------------------------- message channels
# Where a message may go beside the inbox (which every message reaches): a text message, a
# WeChat subscription message, an e-mail. All three are opt-in, per kind of message.
SMS, WECHAT, EMAIL = "sms", "wechat", "email"
CHANNELS = (SMS, WECHAT, EMAIL)
# E-mail reaches the staff (operators, suppliers' staff), who have no phone on the mini-program.
EMAIL_ROLES = frozenset({"operator", "supplier"})
# A delivery's states: queued (due at ``next_at``), sent, skipped (nothing to send with: no
# address, no authorisation left, no template for it), failed (out of attempts).
QUEUED, SENT, SKIPPED, FAILED = "queued", "sent", "skipped", "failed"
DELIVERY_STATUSES = (QUEUED, SENT, SKIPPED, FAILED)
# A claimed delivery is another worker's again after this long (a worker that died).
LEASE = timedelta(minutes=2)
# The pickup-day reminder: the goods arrived at the pickup point, here is the code. A member
# may let it through their quiet hours.
PICKUP_DAY = frozenset({"pickup.arrived"})
DEFAULT_QUIET = ("22:00", "08:00")


def mask_phone(phone: str) -> str:
    """13812348000 -> 138****8000: how logs and pages write a phone number."""
    return account_rules.mask_phone(phone)


def mask_address(channel: str, address: str) -> str:
    """A delivery's address as logs and pages show it: a phone masked, an e-mail's local part
    shortened, a WeChat openid's tail only."""
    if channel == SMS:
        return mask_phone(address)
    if channel == EMAIL and "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"…{address[-4:]}" if address else ""


def parse_hhmm(value: str) -> time:
    """ "22:00" -> 22:00; ValueError for anything else."""
    text = value.strip()
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a time of day: {value!r}")
    return time(int(hours), int(minutes))


def quiet_end(local_now: datetime, start: time, end: time) -> datetime | None:
    """When quiet hours that run from ``start`` to ``end`` (local times; ``start`` after
    ``end`` runs over midnight) end, if ``local_now`` is inside them; None outside. The start
    is inside, the end is not: at 22:00 it is quiet, at 08:00 it is not. Equal start and end:
    no quiet hours."""
    if start == end:
        return None
    t = local_now.time().replace(tzinfo=None)
    day = local_now.date()
    if start < end:  # the same day, e.g. 13:00-14:00
        inside = start <= t < end
        ends = datetime.combine(day, end, tzinfo=local_now.tzinfo)
    else:  # over midnight, e.g. 22:00-08:00
        inside = t >= start or t < end
        ends = datetime.combine(day, end, tzinfo=local_now.tzinfo)
        if t >= start:
            ends += timedelta(days=1)
    return ends if inside else None


def sms_not_before(
    local_now: datetime,
    *,
    kind: str,
    quiet_start: time,
    quiet_end_at: time,
    pickup_at_night: bool,
) -> datetime | None:
    """When a text message of ``kind`` may go: None, now; else the end of quiet hours. A
    pickup-day reminder goes at once if the member allows it at night."""
    if kind in PICKUP_DAY and pickup_at_night:
        return None
    return quiet_end(local_now, quiet_start, quiet_end_at)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failed attempt: 1, 4, 16, 64 minutes…, at most 6 hours."""
    return timedelta(minutes=min(4 ** max(attempts - 1, 0), 360))


def routes_valid(routes: Mapping[str, Any], kinds: Iterable[str]) -> list[str]:
    """The problems of a member's routing (kind -> channels): unknown kinds or channels."""
    known = set(kinds)
    problems = []
    for kind, channels in routes.items():
        if kind not in known:
            problems.append(f"unknown kind of message {kind!r}")
            continue
        if not isinstance(channels, list | tuple) or any(c not in CHANNELS for c in channels):
            problems.append(f"channels of {kind!r} must be among {', '.join(CHANNELS)}")
    return problems
