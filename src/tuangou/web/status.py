"""The words for a state: one mapping from the domains' status enums to what the pages and the
inbox say (translated where they are shown, with ``_()``).

An order's pill, its list and its timeline, the team page, and the inbox's messages read their
words here, so that one state has one name wherever a member meets it (a message "已成团" for
the order whose pill says 已成团, on a team page that says 已成团). A formed group is "Formed"
(已成团) for a team and for the orders in it, whether the team is still taking members or
settled, and for a wave's orders once it is confirmed.

An order's state is not its status: :func:`orders.rules.display_status` (a pure rule, which
the orders API uses for its ``display_status`` too) reads it from the status, the kind and the
team's status:

* ``confirming_payment`` (支付确认中): the order is unpaid, but the gateway has charged one of
  its payments and its confirmation is on its way (:func:`payments.in_flight`). Never 待支付.
* a paid team order is ``awaiting_team`` (待成团) until its team forms, then ``formed``
  (已成团), as its team is; a paid wave order is ``awaiting_cutoff`` (待截单) until its wave
  confirms it.

and 我的订单's tabs group the states (:data:`TABS`, :func:`tab_of`).
"""

from __future__ import annotations

from tuangou.aftersales.rules import CaseStatus
from tuangou.fulfilment.rules import PickupStatus
from tuangou.notifications import rules as inbox_rules
from tuangou.orders import rules as order_rules
from tuangou.orders.rules import DisplayStatus, OrderStatus
from tuangou.teams.rules import TeamStatus
from tuangou.web.i18n import lazy

D = DisplayStatus
CONFIRMING = D.CONFIRMING_PAYMENT  # paid at the gateway, not yet confirmed
# An order's state (orders.rules.display_status) in words: the same words as the API's
# ``display_label`` (orders.rules.DISPLAY_LABELS; a test holds them equal).
ORDER: dict[str, str] = {
    D.TO_PAY: lazy("Unpaid"),
    D.CONFIRMING_PAYMENT: lazy("Confirming payment…"),
    D.AWAITING_TEAM: lazy("Waiting to form"),
    D.AWAITING_CUTOFF: lazy("Waiting for the cut-off"),
    D.FORMED: lazy("Formed"),
    D.SHIPPED: lazy("Shipped"),
    D.TO_PICK_UP: lazy("Ready for pickup"),
    D.COMPLETED: lazy("Completed"),
    D.CANCELLED: lazy("Cancelled"),
    D.REFUNDED: lazy("Refunded"),
}
ORDER_BADGE: dict[str, str] = {
    D.TO_PAY: "warn",
    D.CONFIRMING_PAYMENT: "warn",
    D.FORMED: "ok",
    D.TO_PICK_UP: "warn",
    D.COMPLETED: "ok",
    D.CANCELLED: "",
    D.REFUNDED: "bad",
}
# The steps of an order's timeline: what happened (paid, formed…), not the state it is in.
STEP: dict[str, str] = {
    OrderStatus.PAID: lazy("Paid"),
    OrderStatus.CONFIRMED: lazy("Formed"),
    OrderStatus.SHIPPED: lazy("Shipped"),
    OrderStatus.COMPLETED: lazy("Completed"),
    OrderStatus.CANCELLED: lazy("Cancelled"),
    OrderStatus.REFUNDED: lazy("Refunded"),
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
_ORDER_STATUSES = frozenset(OrderStatus)
_FORMING = (D.CONFIRMING_PAYMENT, D.AWAITING_TEAM, D.AWAITING_CUTOFF)
_RECEIVING = (D.FORMED, D.SHIPPED, D.TO_PICK_UP)
_OF = {"order": ORDER, "team": TEAM, "pickup": PICKUP, "case": CASE}


def word(of: str, status: str) -> str:
    """The (untranslated) word for ``status`` of an ``order`` (its status, or the state
    :func:`order_state` made of it), ``team``, ``pickup`` or ``case``; the status itself when
    it has none."""
    if of == "order" and status in _ORDER_STATUSES:
        status = order_rules.display_status(status)
    return _OF[of].get(status, status)


def order_state(
    status: str, *, kind: str = "team", confirming: bool = False, team_status: str | None = None
) -> str:
    """The state a member reads on an order (:func:`orders.rules.display_status`): 支付确认中
    while its payment is in flight, 待成团 until its team forms and 已成团 once it has…"""
    return order_rules.display_status(
        status, kind=kind, team_status=team_status, confirming=confirming
    )


def order_word(state: str) -> str:
    """The word of an order's state (:func:`order_state`, or a bare order status)."""
    return word("order", state)


def order_badge(state: str) -> str:
    if state in _ORDER_STATUSES:
        state = order_rules.display_status(state)
    return ORDER_BADGE.get(state, "")


def tab_of(state: str, *, refunded: int = 0, cases: int = 0) -> str | None:
    """Which of 我的订单's tabs an order in ``state`` (:func:`order_state`) is under: a refunded
    order, a paid order cancelled with its refund, and one with an after-sale case are under
    退款/售后 (a live order's partial refund, price protection, keeps it where it is); an unpaid
    order that was cancelled (nothing charged) is only under 全部."""
    if state == D.REFUNDED or cases or (refunded and state == D.CANCELLED):
        return "aftersale"
    if state == D.TO_PAY:
        return "unpaid"
    if state in _FORMING:
        return "forming"
    if state in _RECEIVING:
        return "receiving"
    if state == D.COMPLETED:
        return "completed"
    return None


def message_title(kind: str) -> str | None:
    """The title of a message that announces a state: that state's word (untranslated), or
    None for a message that names an event (拼团成功, 退款已发起…)."""
    state = inbox_rules.STATE_OF.get(kind)
    return None if state is None else word(*state)


# The payment gateways, as members and operators see them (which one pays an order).
GATEWAYS = {
    "sandbox": lazy("Sandbox gateway"),
    "wechat": lazy("WeChat Pay"),
    "alipay": lazy("Alipay"),
}
