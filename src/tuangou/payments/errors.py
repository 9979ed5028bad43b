from tuangou.core.errors import NotFound


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = "No such payment"
