"""Pure rules of an order's money and life cycle."""

from __future__ import annotations

from tuangou.core.money import apply_bps

# Statuses in which an order still counts against the campaign's per-member limit.
LIVE = frozenset({"pending_payment", "paid", "confirmed", "shipped", "arrived", "completed"})
# Statuses in which the money sits in escrow waiting for the goods.
IN_ESCROW = frozenset({"paid", "confirmed", "shipped", "arrived"})
# Statuses in which an operator may refund by hand: settled, the goods still due.
MANUALLY_REFUNDABLE = frozenset({"confirmed", "shipped", "arrived"})

TIMELINE = ("paid", "confirmed", "shipped", "completed")

REFUND_REASONS = frozenset(
    {
        "price_protection",  # the team reached a cheaper tier
        "team_failed",  # the team did not form by its deadline
        "left_team",  # the member left before the team formed
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
