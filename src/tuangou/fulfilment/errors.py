from tuangou.core.errors import Conflict, DomainError, NotFound


class WaveNotSettled(Conflict):
    code = "wave_not_settled"
    title = "The wave has not been settled yet (its cut-off has not passed)"


class NotYourWave(DomainError):
    code = "not_your_wave"
    status = 403
    title = "This wave belongs to another supplier"


class NotInWave(NotFound):
    code = "pickup_point_not_in_wave"
    title = "This pickup point has no orders in this wave"


class AlreadyReceived(Conflict):
    code = "already_received"
    title = "The goods of this wave were already received at this pickup point"


class UndeliveredRefunded(Conflict):
    code = "undelivered_refunded"
    title = "The goods never arrived here and the orders were refunded"


class NotPastDeadline(Conflict):
    code = "delivery_deadline_not_passed"
    title = "The goods may still arrive: refunds are allowed only after the delivery deadline"


class PickupCodeUnknown(NotFound):
    code = "pickup_code_unknown"
    title = "No order has this pickup code"


class PickupCodeUsed(Conflict):
    code = "pickup_code_used"
    title = "This pickup code was already used"


class WrongPickupPoint(Conflict):
    code = "wrong_pickup_point"
    title = "This order is collected at another pickup point"


class PickupCodeRefunded(Conflict):
    code = "pickup_code_refunded"
    title = "This order was refunded; there is nothing to hand over"


class PickupCodeAmbiguous(Conflict):
    code = "pickup_code_ambiguous"
    title = "This code is waiting in more than one wave here: choose the wave"


class PickupNotFound(NotFound):
    code = "pickup_not_found"
    title = "No such pickup"
