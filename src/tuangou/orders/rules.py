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


def fee_split(kept: int, fee_bps: int) -> tuple[int, int]:
    """(supplier amount, operator fee) of an amount leaving escrow; fee rounded half up."""
    fee = apply_bps(kept, fee_bps)
    return kept - fee, fee
