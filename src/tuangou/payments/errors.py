from enum import StrEnum

from tuangou.core.errors import DomainError, NotFound


class PaymentErrorCode(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    CHARGE_CLOSED = "charge_closed"
    INVALID_OUTCOME = "invalid_outcome"
    PAYMENT_IN_FLIGHT = "payment_in_flight"
    PAYMENT_NOT_FOUND = "payment_not_found"
    REFUND_EXCEEDS_CHARGE = "refund_exceeds_charge"


class PaymentNotFound(NotFound):
    code = PaymentErrorCode.PAYMENT_NOT_FOUND
    title = "No such payment"


class InvalidOutcome(DomainError):
    code = PaymentErrorCode.INVALID_OUTCOME
    status = 400
    title = "The outcome is not one the gateway knows"


class RefundExceedsCharge(DomainError):
    code = PaymentErrorCode.REFUND_EXCEEDS_CHARGE
    status = 400
    title = "The refund is more than what is left of the charge"


class PaymentInFlight(DomainError):
    code = PaymentErrorCode.PAYMENT_IN_FLIGHT
    status = 409
    title = "This order is already paid or its payment is being confirmed; it is not charged twice"
