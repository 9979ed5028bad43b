from enum import StrEnum

from tuangou.core.errors import Conflict, NotFound


class OrderErrorCode(StrEnum):
    ALREADY_REFUNDED = "already_refunded"
    LIMIT_REACHED = "limit_reached"
    ORDER_NOT_CANCELLABLE = "order_not_cancellable"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_PAYABLE = "order_not_payable"
    ORDER_NOT_REFUNDABLE = "order_not_refundable"
    ORDER_NOT_SHIPPABLE = "order_not_shippable"
    ORDER_NOT_SHIPPED = "order_not_shipped"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"


class OrderNotFound(NotFound):
    code = OrderErrorCode.ORDER_NOT_FOUND
    title = "No such order"


class NotYourOrder(OrderNotFound):
    """Someone else's order: answered exactly as a missing one (404 ``order_not_found``), so
    an order id reveals nothing about whether it exists."""


class LimitReached(Conflict):
    code = OrderErrorCode.LIMIT_REACHED
    title = "You have reached this campaign's per-member limit"


class OrderNotPayable(Conflict):
    code = OrderErrorCode.ORDER_NOT_PAYABLE
    title = "This order can no longer be paid"


class OrderNotShippable(Conflict):
    code = OrderErrorCode.ORDER_NOT_SHIPPABLE
    title = "This order cannot be shipped now"


class OrderNotShipped(Conflict):
    code = OrderErrorCode.ORDER_NOT_SHIPPED
    title = "This order has not been shipped yet"


class RefundTooLarge(Conflict):
    code = OrderErrorCode.REFUND_EXCEEDS_PAID
    title = "The refund would exceed what was paid"


class AlreadyRefunded(Conflict):
    code = OrderErrorCode.ALREADY_REFUNDED
    title = "This order was already refunded for this reason"


class OrderNotCancellable(Conflict):
    code = OrderErrorCode.ORDER_NOT_CANCELLABLE
    title = "Only an unpaid order can be cancelled"


class OrderNotRefundable(Conflict):
    code = OrderErrorCode.ORDER_NOT_REFUNDABLE
    title = "Only a settled order whose goods are still due can be refunded by hand"
