from enum import StrEnum

from tuangou.core.errors import DomainError, NotFound


class PaymentErrorCode(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    CHARGE_CLOSED = "charge_closed"
    GATEWAY_FAILED = "gateway_failed"
    GATEWAY_NOT_OFFERED = "gateway_not_offered"
    NOTIFICATION_MISMATCH = "notification_mismatch"
    INVALID_OUTCOME = "invalid_outcome"
    PAYMENT_IN_FLIGHT = "payment_in_flight"
    PAYMENT_NOT_FOUND = "payment_not_found"
    REFUND_EXCEEDS_CHARGE = "refund_exceeds_charge"
    STALE_NOTIFICATION = "stale_notification"


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


class GatewayFailed(DomainError):
    code = PaymentErrorCode.GATEWAY_FAILED
    status = 502
    title = "The payment gateway refused or did not answer the request"


class GatewayNotOffered(DomainError):
    code = PaymentErrorCode.GATEWAY_NOT_OFFERED
    status = 400
    title = "That payment gateway is not offered here"


class NotificationMismatch(DomainError):
    code = PaymentErrorCode.NOTIFICATION_MISMATCH
    status = 400
    title = "The gateway notification does not match our payment"


class StaleNotification(DomainError):
    code = PaymentErrorCode.STALE_NOTIFICATION
    status = 400
    title = "The gateway notification is too old"
