from tuangou.core.errors import Conflict, DomainError, NotFound


class CaseNotFound(NotFound):
    code = "aftersale_not_found"
    title = "No such after-sale case"


class NotYourCase(DomainError):
    code = "not_your_case"
    status = 403
    title = "Only the member, the leader of the order's community and operators see this case"


class NotCaseDecider(DomainError):
    code = "not_case_decider"
    status = 403
    title = "Only the leader of the order's community or an operator decides this case"


class OwnCase(DomainError):
    code = "own_case"
    status = 403
    title = "Nobody decides a case they filed: an operator decides it"


class NotEligible(Conflict):
    code = "aftersale_not_eligible"
    title = "After-sales open once the goods have arrived (at the pickup point or your door)"


class WindowClosed(Conflict):
    code = "aftersale_window_closed"
    title = "The after-sale window of this order has closed (7 days after pickup)"


class CaseDecided(Conflict):
    code = "aftersale_decided"
    title = "This after-sale case was already decided"


class PhotoInvalid(DomainError):
    code = "photo_invalid"
    status = 422
    title = "The photo is not valid: JPEG, PNG or WebP, at most 5 MB, 1 to 6 per case"


class NotRateable(Conflict):
    code = "pickup_not_completed"
    title = "You can rate a pickup once you have picked the order up"


class AlreadyRated(Conflict):
    code = "already_rated"
    title = "You have already rated this pickup"
