from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class AfterSaleErrorCode(StrEnum):
    AFTERSALE_DECIDED = "aftersale_decided"
    AFTERSALE_NOT_ELIGIBLE = "aftersale_not_eligible"
    AFTERSALE_NOT_FOUND = "aftersale_not_found"
    AFTERSALE_WINDOW_CLOSED = "aftersale_window_closed"
    ALREADY_RATED = "already_rated"
    NOT_CASE_DECIDER = "not_case_decider"
    OWN_CASE = "own_case"
    PHOTO_INVALID = "photo_invalid"
    PHOTO_NOT_FOUND = "photo_not_found"
    PICKUP_NOT_COMPLETED = "pickup_not_completed"


class CaseNotFound(NotFound):
    code = AfterSaleErrorCode.AFTERSALE_NOT_FOUND
    title = "No such after-sale case"


class NotYourCase(CaseNotFound):
    """A case the caller may not see (only its member, the leader of the order's community
    and operators do): answered exactly as a missing one (404), so ids reveal nothing."""


class NotCaseDecider(DomainError):
    code = AfterSaleErrorCode.NOT_CASE_DECIDER
    status = 403
    title = "Only the leader of the order's community or an operator decides this case"


class OwnCase(DomainError):
    code = AfterSaleErrorCode.OWN_CASE
    status = 403
    title = "Nobody decides a case they filed: an operator decides it"


class NotEligible(Conflict):
    code = AfterSaleErrorCode.AFTERSALE_NOT_ELIGIBLE
    title = "After-sales open once the goods have arrived (at the pickup point or your door)"


class WindowClosed(Conflict):
    code = AfterSaleErrorCode.AFTERSALE_WINDOW_CLOSED
    title = "The after-sale window of this order has closed (7 days after pickup)"


class CaseDecided(Conflict):
    code = AfterSaleErrorCode.AFTERSALE_DECIDED
    title = "This after-sale case was already decided"


class PhotoInvalid(DomainError):
    code = AfterSaleErrorCode.PHOTO_INVALID
    status = 422
    title = "The photo is not valid: JPEG, PNG or WebP, at most 5 MB, 1 to 6 per case"


class NotRateable(Conflict):
    code = AfterSaleErrorCode.PICKUP_NOT_COMPLETED
    title = "You can rate a pickup once you have picked the order up"


class AlreadyRated(Conflict):
    code = AfterSaleErrorCode.ALREADY_RATED
    title = "You have already rated this pickup"


class PhotoNotFound(NotFound):
    code = AfterSaleErrorCode.PHOTO_NOT_FOUND
    title = "No such photo"
