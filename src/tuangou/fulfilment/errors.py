from enum import StrEnum

from tuangou.core.errors import Conflict, InvalidInput, NotFound
from tuangou.pools.errors import WaveNotFound


class FulfilmentErrorCode(StrEnum):
    ALREADY_RECEIVED = "already_received"
    DELIVERY_DEADLINE_NOT_PASSED = "delivery_deadline_not_passed"
    PICKUP_CODE_AMBIGUOUS = "pickup_code_ambiguous"
    PICKUP_CODE_LENGTH = "pickup_code_length"
    PICKUP_CODE_REFUNDED = "pickup_code_refunded"
    PICKUP_CODE_UNKNOWN = "pickup_code_unknown"
    PICKUP_CODE_USED = "pickup_code_used"
    PICKUP_NOT_FOUND = "pickup_not_found"
    PICKUP_POINT_NOT_IN_WAVE = "pickup_point_not_in_wave"
    PICKUP_SCAN_INVALID = "pickup_scan_invalid"
    PICKUP_SCAN_UNREADABLE = "pickup_scan_unreadable"
    UNDELIVERED_REFUNDED = "undelivered_refunded"
    WAVE_NOT_SETTLED = "wave_not_settled"
    WRONG_PICKUP_POINT = "wrong_pickup_point"
    SHIPMENT_NOT_SHIPPED = "shipment_not_shipped"
    TRACKING_STEP_NOT_FORWARD = "tracking_step_not_forward"
    INVALID_TRACKING = "invalid_tracking"


class WaveNotSettled(Conflict):
    code = FulfilmentErrorCode.WAVE_NOT_SETTLED
    title = "The wave has not been settled yet (its cut-off has not passed)"


class NotYourWave(WaveNotFound):
    """Another supplier's wave: answered exactly as a missing one (404 ``wave_not_found``)."""


class NotInWave(NotFound):
    code = FulfilmentErrorCode.PICKUP_POINT_NOT_IN_WAVE
    title = "This pickup point has no orders in this wave"


class AlreadyReceived(Conflict):
    code = FulfilmentErrorCode.ALREADY_RECEIVED
    title = "The goods of this wave were already received at this pickup point"


class UndeliveredRefunded(Conflict):
    code = FulfilmentErrorCode.UNDELIVERED_REFUNDED
    title = "The goods never arrived here and the orders were refunded"


class NotPastDeadline(Conflict):
    code = FulfilmentErrorCode.DELIVERY_DEADLINE_NOT_PASSED
    title = "The goods may still arrive: refunds are allowed only after the delivery deadline"


class PickupCodeUnknown(NotFound):
    code = FulfilmentErrorCode.PICKUP_CODE_UNKNOWN
    title = "No order has this pickup code"


class PickupCodeUsed(Conflict):
    code = FulfilmentErrorCode.PICKUP_CODE_USED
    title = "This pickup code was already used"


class WrongPickupPoint(Conflict):
    code = FulfilmentErrorCode.WRONG_PICKUP_POINT
    title = "This order is collected at another pickup point"


class PickupCodeRefunded(Conflict):
    code = FulfilmentErrorCode.PICKUP_CODE_REFUNDED
    title = "This order was refunded; there is nothing to hand over"


class PickupCodeAmbiguous(Conflict):
    code = FulfilmentErrorCode.PICKUP_CODE_AMBIGUOUS
    title = "This code is waiting in more than one wave here: choose the wave"


class PickupNotFound(NotFound):
    code = FulfilmentErrorCode.PICKUP_NOT_FOUND
    title = "No such pickup"


class PickupCodeLength(InvalidInput):
    """Digits, but too few or too many: ``digits`` says how many a code has."""

    code = FulfilmentErrorCode.PICKUP_CODE_LENGTH
    title = "A pickup code is 6 digits"


class PickupScanInvalid(InvalidInput):
    code = FulfilmentErrorCode.PICKUP_SCAN_INVALID
    title = "The picture is not a JPEG, PNG or WebP image of at most 2 MB"


class PickupScanUnreadable(InvalidInput):
    code = FulfilmentErrorCode.PICKUP_SCAN_UNREADABLE
    title = "No pickup code QR could be read in the picture"


class ShipmentNotShipped(Conflict):
    code = FulfilmentErrorCode.SHIPMENT_NOT_SHIPPED
    title = "These goods were not marked shipped yet: ship them first"


class TrackingStepNotForward(Conflict):
    """A tracking step at or before the one reached (``current``): steps only go forward."""

    code = FulfilmentErrorCode.TRACKING_STEP_NOT_FORWARD
    title = "A shipment's tracking only moves forward: shipped, in transit, arrived"


class InvalidTracking(InvalidInput):
    code = FulfilmentErrorCode.INVALID_TRACKING
    title = "Name the carrier and the tracking number (at most 64 characters each)"
