"""The words for a state: one mapping from the domains' status enums to what the pages and the
inbox say (translated where they are shown, with ``_()``).

An order's pill and its list, and the inbox's messages, read their words here, so that one
state has one name wherever a member meets it (a message "已成团" for the order whose pill
says 已成团). The team page's words are here too, to be read from here when it moves.
"""

from __future__ import annotations

from tuangou.aftersales.rules import CaseStatus
from tuangou.fulfilment.rules import PickupStatus
from tuangou.notifications import rules as inbox_rules
from tuangou.orders.rules import OrderStatus
from tuangou.teams.rules import TeamStatus
from tuangou.web.i18n import lazy

ORDER: dict[str, str] = {
    OrderStatus.PENDING_PAYMENT: lazy("Unpaid"),
    OrderStatus.PAID: lazy("Paid"),
    OrderStatus.CONFIRMED: lazy("Group confirmed"),
    OrderStatus.SHIPPED: lazy("Shipped"),
    OrderStatus.ARRIVED: lazy("Ready for pickup"),
    OrderStatus.COMPLETED: lazy("Completed"),
    OrderStatus.CANCELLED: lazy("Cancelled"),
    OrderStatus.REFUNDED: lazy("Refunded"),
}
ORDER_BADGE: dict[str, str] = {
    OrderStatus.PENDING_PAYMENT: "warn",
    OrderStatus.ARRIVED: "warn",
    OrderStatus.COMPLETED: "ok",
    OrderStatus.CANCELLED: "",
    OrderStatus.REFUNDED: "bad",
}
TEAM: dict[str, str] = {
    TeamStatus.PENDING: lazy("Waiting for the opener to pay"),
    TeamStatus.OPEN: lazy("Open"),
    TeamStatus.FORMED: lazy("Formed"),
    TeamStatus.SETTLED: lazy("Formed"),
    TeamStatus.FAILED: lazy("Did not form"),
    TeamStatus.CLOSED: lazy("Team closed"),
}
PICKUP: dict[str, str] = {
    PickupStatus.WAITING: lazy("Ready for pickup"),
    PickupStatus.PICKED_UP: lazy("Picked up"),
    PickupStatus.REFUNDED: lazy("Refunded"),
    PickupStatus.KEPT: lazy("Completed"),
}
CASE: dict[str, str] = {
    CaseStatus.OPEN: lazy("Waiting for a decision"),
    CaseStatus.ACCEPTED: lazy("Accepted"),
    CaseStatus.REJECTED: lazy("Rejected"),
}
_OF = {"order": ORDER, "team": TEAM, "pickup": PICKUP, "case": CASE}


def word(of: str, status: str) -> str:
    """The (untranslated) word for ``status`` of an ``order``, ``team``, ``pickup`` or
    ``case``; the status itself when it has none."""
    return _OF[of].get(status, status)


def order_word(status: str) -> str:
    return word("order", status)


def order_badge(status: str) -> str:
    return ORDER_BADGE.get(status, "")


def message_title(kind: str) -> str | None:
    """The title of a message that announces a state: that state's word (untranslated), or
    None for a message that names an event (拼团成功, 退款已发起…)."""
    state = inbox_rules.STATE_OF.get(kind)
    return None if state is None else word(*state)
