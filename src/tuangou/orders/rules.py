"""Pure rules of an order's money and life cycle."""

from __future__ import annotations

from enum import StrEnum

from tuangou.core.money import apply_bps


class OrderStatus(StrEnum):
    """pending_payment → paid → confirmed (its kind's campaign succeeded) → shipped or arrived
    → completed; pending_payment → cancelled; paid, confirmed, shipped, arrived → refunded."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"  # on its way to the member's door (a team order)
    ARRIVED = "arrived"  # at the pickup point (a wave order)
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # never paid: the hold ran out, or the member cancelled
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"  # waiting for the gateway
    SUCCEEDED = "succeeded"


# Statuses in which an order still counts against the campaign's per-member limit.
LIVE = frozenset(
    {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.CONFIRMED,
        OrderStatus.SHIPPED,
        OrderStatus.ARRIVED,
        OrderStatus.COMPLETED,
    }
)
# Statuses in which the money sits in escrow waiting for the goods.
IN_ESCROW = frozenset(
    {OrderStatus.PAID, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.ARRIVED}
)
# Statuses in which an operator may refund by hand: settled, the goods still due.
MANUALLY_REFUNDABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.ARRIVED})
# Statuses of an order its campaign confirmed and no refund closed: the goods due or delivered.
CONFIRMED_OR_LATER = (
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.ARRIVED,
    OrderStatus.COMPLETED,
)
# Statuses in which the order is over without its goods.
CLOSED = (OrderStatus.REFUNDED, OrderStatus.CANCELLED)

TIMELINE = (OrderStatus.PAID, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)

REFUND_REASONS = frozenset(
    {
        "price_protection",  # the team reached a cheaper tier
        "team_failed",  # the team did not form by its deadline
        "left_team",  # the member left before the team formed
        "cancelled_by_member",  # the member cancelled a paid wave order before its cut-off
        "opener_free",  # 团长免单, paid by the subsidy budget
        "not_shipped",  # the supplier missed the shipping deadline
        "late_payment",  # a payment arrived after its order was released
        "manual",  # an operator refunded by hand
        "moq_not_met",  # a wave item did not reach its minimum quantity
        "not_delivered",  # the goods never reached the pickup point
        "not_picked_up",  # unpicked after the wave's deadline, by its policy
        "after_sale",  # an accepted after-sale case (missing or damaged)
        "event_cancelled",  # a paid event seat, the event cancelled by its leader
    }
)


def in_escrow(paid: int, subsidy: int, refunded: int, released: int) -> int:
    """What escrow holds for an order: member's payment plus subsidy, less what went out."""
    return paid + subsidy - refunded - released


def refundable(paid: int, subsidy: int, refunded: int, released: int) -> int:
    """What can still go back to the member: their own money that is still in escrow.

    A subsidy never goes to the member as cash (except as the opener-free refund, which is
    counted in ``refunded``); it goes back to the subsidy account.
    """
    return max(0, min(paid - refunded, in_escrow(paid, subsidy, refunded, released)))


def discount_share(list_amount: int, discount: int, gross_before: int, gross: int) -> int:
    """The discounts' share of a refund of ``gross`` (counted at the price before discounts)
    after ``gross_before`` was refunded: cumulative and rounded down, so the subsidy's shares
    sum to ``floor(G × discount / list)`` for the ``G`` refunded so far and the member's to the
    rest; a refund of everything gives back exactly the discount and exactly what was paid."""
    if discount <= 0 or list_amount <= 0:
        return 0
    total = min(gross_before + gross, list_amount)
    return (
        total * discount // list_amount - min(gross_before, list_amount) * discount // list_amount
    )


def fee_split(kept: int, fee_bps: int) -> tuple[int, int]:
    """(supplier amount, operator fee) of an amount leaving escrow; fee rounded half up."""
    fee = apply_bps(kept, fee_bps)
    return kept - fee, fee


# ---------------------------------------------------------------- what a member reads


class DisplayStatus(StrEnum):
    """The state a member reads on an order: one vocabulary for the pages, the API's
    ``display_status`` and the inbox. A key is stable (clients may branch on it); its words are
    :data:`DISPLAY_LABELS`. Derived by :func:`display_status` from the order's status, its kind
    and its team's status; the raw ``status`` stays what it is."""

    TO_PAY = "to_pay"  # 待支付
    CONFIRMING_PAYMENT = "confirming_payment"  # 支付确认中: charged, its confirmation on its way
    AWAITING_TEAM = "awaiting_team"  # 待成团: paid, its team not formed yet
    AWAITING_CUTOFF = "awaiting_cutoff"  # 待截单: a paid wave order before its wave confirms
    FORMED = "formed"  # 已成团: its team formed, or its wave confirmed; the goods are due
    SHIPPED = "shipped"  # 已发货
    TO_PICK_UP = "to_pick_up"  # 待提货: at the pickup point
    COMPLETED = "completed"  # 已完成
    CANCELLED = "cancelled"  # 已取消
    REFUNDED = "refunded"  # 已退款


# key -> (English, Chinese): the words of each state (the pages' catalogs say the same).
DISPLAY_LABELS: dict[str, tuple[str, str]] = {
    DisplayStatus.TO_PAY: ("Unpaid", "待支付"),
    DisplayStatus.CONFIRMING_PAYMENT: ("Confirming payment…", "支付确认中"),
    DisplayStatus.AWAITING_TEAM: ("Waiting to form", "待成团"),
    DisplayStatus.AWAITING_CUTOFF: ("Waiting for the cut-off", "待截单"),
    DisplayStatus.FORMED: ("Formed", "已成团"),
    DisplayStatus.SHIPPED: ("Shipped", "已发货"),
    DisplayStatus.TO_PICK_UP: ("Ready for pickup", "待提货"),
    DisplayStatus.COMPLETED: ("Completed", "已完成"),
    DisplayStatus.CANCELLED: ("Cancelled", "已取消"),
    DisplayStatus.REFUNDED: ("Refunded", "已退款"),
}
# The team statuses in which a team has formed (teams.rules.TeamStatus FORMED and SETTLED).
FORMED_TEAM = frozenset({"formed", "settled"})
_PLAIN: dict[str, DisplayStatus] = {
    OrderStatus.PENDING_PAYMENT: DisplayStatus.TO_PAY,
    OrderStatus.CONFIRMED: DisplayStatus.FORMED,
    OrderStatus.SHIPPED: DisplayStatus.SHIPPED,
    OrderStatus.ARRIVED: DisplayStatus.TO_PICK_UP,
    OrderStatus.COMPLETED: DisplayStatus.COMPLETED,
    OrderStatus.CANCELLED: DisplayStatus.CANCELLED,
    OrderStatus.REFUNDED: DisplayStatus.REFUNDED,
}


def display_status(
    status: str, *, kind: str = "team", team_status: str | None = None, confirming: bool = False
) -> DisplayStatus:
    """The state a member reads on an order of ``kind`` ("team" or "wave") in ``status``:

    * unpaid: 待支付, or 支付确认中 while a charged payment waits for its confirmation
      (``confirming``), never an invitation to pay twice;
    * paid: 待成团 until its team forms (``team_status``), then 已成团 as the team page says;
      a paid wave order waits for its wave's cut-off (待截单), which confirms it (已成团);
    * every later status has its one word (已发货, 待提货, 已完成, 已取消, 已退款).
    """
    if status == OrderStatus.PENDING_PAYMENT and confirming:
        return DisplayStatus.CONFIRMING_PAYMENT
    if status == OrderStatus.PAID:
        if kind == "wave":
            return DisplayStatus.AWAITING_CUTOFF
        if team_status in FORMED_TEAM:
            return DisplayStatus.FORMED
        return DisplayStatus.AWAITING_TEAM
    return _PLAIN[OrderStatus(status)]


def display_label(state: str, lang: str = "zh-CN") -> str:
    """The words of a display state in ``lang`` (English for "en…", else Chinese)."""
    english, chinese = DISPLAY_LABELS[state]
    return english if lang.lower().startswith("en") else chinese
