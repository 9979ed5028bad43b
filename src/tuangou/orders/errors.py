from tuangou.core.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "No such order"


class NotYourOrder(DomainError):
    code = "not_your_order"
    status = 403
    title = "This order is not yours"


class LimitReached(Conflict):
    code = "limit_reached"
    title = "You have reached this campaign's per-member limit"


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    title = "This order can no longer be paid"


class OrderNotShippable(Conflict):
    code = "order_not_shippable"
    title = "This order cannot be shipped now"


class OrderNotShipped(Conflict):
    code = "order_not_shipped"
    title = "This order has not been shipped yet"


class RefundTooLarge(Conflict):
    code = "refund_exceeds_paid"
    title = "The refund would exceed what was paid"


class AlreadyRefunded(Conflict):
    code = "already_refunded"
    title = "This order was already refunded for this reason"


class OrderNotCancellable(Conflict):
    code = "order_not_cancellable"
    title = "Only an unpaid order can be cancelled"


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    title = "Only a settled order whose goods are still due can be refunded by hand"
