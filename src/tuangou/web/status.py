"""The words for a state: one mapping from the domains' status enums to what the pages and the
inbox say (translated where they are shown, with ``_()``).

An order's pill, its list and its timeline, the team page, and the inbox's messages read their
words here, so that one state has one name wherever a member meets it (a message "已成团" for
the order whose pill says 已成团, on a team page that says 已成团). A formed group is "Formed"
(已成团) for a team and for the orders in it, whether the team is still taking members or
settled, and for a wave's orders once it is confirmed.

Two states are the pages' reading of several facts:

* ``confirming`` (支付确认中): the order is unpaid, but the gateway has charged one of its
  payments and its confirmation is on its way (:func:`payments.in_flight`). Never 待支付.
* a paid team order whose team has formed reads as ``confirmed`` (已成团), as its team does.

and 我的订单's tabs group the states (:data:`TABS`, :func:`tab_of`).
"""

from __future__ import annotations

from tuangou.aftersales.rules import CaseStatus
from tuangou.fulfilment.rules import PickupStatus
from tuangou.notifications import rules as inbox_rules
from tuangou.orders.rules import OrderStatus
from tuangou.teams.rules import TeamStatus
from tuangou.web.i18n import lazy

CONFIRMING = "confirming"  # not an order status: paid at the gateway, not yet confirmed
ORDER: dict[str, str] = {
    OrderStatus.PENDING_PAYMENT: lazy("Unpaid"),
    CONFIRMING: lazy("Confirming payment…"),
    OrderStatus.PAID: lazy("Paid"),
    OrderStatus.CONFIRMED: lazy("Formed"),
    OrderStatus.SHIPPED: lazy("Shipped"),
    OrderStatus.ARRIVED: lazy("Ready for pickup"),
    OrderStatus.COMPLETED: lazy("Completed"),
    OrderStatus.CANCELLED: lazy("Cancelled"),
    OrderStatus.REFUNDED: lazy("Refunded"),
}
ORDER_BADGE: dict[str, str] = {
    OrderStatus.PENDING_PAYMENT: "warn",
    CONFIRMING: "warn",
    OrderStatus.CONFIRMED: "ok",
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
# 我的订单's tabs, in order: (key, words); "all" is the list without a filter.
TABS: list[tuple[str, str]] = [
    ("unpaid", lazy("To pay")),
    ("forming", lazy("Waiting to form")),
    ("receiving", lazy("To ship / pick up")),
    ("completed", lazy("Completed")),
    ("aftersale", lazy("Refunds / after-sales")),
]
TAB_KEYS = frozenset(key for key, _ in TABS)
_FORMED_TEAM = (TeamStatus.FORMED, TeamStatus.SETTLED)
_RECEIVING = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.ARRIVED)
_OF = {"order": ORDER, "team": TEAM, "pickup": PICKUP, "case": CASE}


def word(of: str, status: str) -> str:
    """The (untranslated) word for ``status`` of an ``order``, ``team``, ``pickup`` or
    ``case``; the status itself when it has none."""
    return _OF[of].get(status, status)


def order_state(status: str, *, confirming: bool = False, team_status: str | None = None) -> str:
    """The state a member reads on an order: its status, ``confirming`` while its payment is
    in flight, and ``confirmed`` for a paid team order whose team has formed."""
    if status == OrderStatus.PENDING_PAYMENT and confirming:
        return CONFIRMING
    if status == OrderStatus.PAID and team_status in _FORMED_TEAM:
        return OrderStatus.CONFIRMED
    return status


def order_word(status: str) -> str:
    """The word of an order's state (:func:`order_state`)."""
    return word("order", status)


def order_badge(status: str) -> str:
    return ORDER_BADGE.get(status, "")


def tab_of(state: str, *, refunded: int = 0, cases: int = 0) -> str | None:
    """Which of 我的订单's tabs an order in ``state`` (:func:`order_state`) is under: a refunded
    order, a paid order cancelled with its refund, and one with an after-sale case are under
    退款/售后 (a live order's partial refund, price protection, keeps it where it is); an unpaid
    order that was cancelled (nothing charged) is only under 全部."""
    if state == OrderStatus.REFUNDED or cases or (refunded and state == OrderStatus.CANCELLED):
        return "aftersale"
    if state == OrderStatus.PENDING_PAYMENT:
        return "unpaid"
    if state in (CONFIRMING, OrderStatus.PAID):
        return "forming"
    if state in _RECEIVING:
        return "receiving"
    if state == OrderStatus.COMPLETED:
        return "completed"
    return None


def message_title(kind: str) -> str | None:
    """The title of a message that announces a state: that state's word (untranslated), or
    None for a message that names an event (拼团成功, 退款已发起…)."""
    state = inbox_rules.STATE_OF.get(kind)
    return None if state is None else word(*state)
