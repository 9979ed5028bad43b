from enum import StrEnum

from tuangou.core.errors import Conflict, Forbidden, NotFound


class EventErrorCode(StrEnum):
    ALREADY_SIGNED_UP = "already_signed_up"
    CHECKIN_CODE_INVALID = "checkin_code_invalid"
    CHECKIN_CODE_USED = "checkin_code_used"
    EVENT_FEE_LOCKED = "event_fee_locked"
    EVENT_NOT_EDITABLE = "event_not_editable"
    EVENT_NOT_FOUND = "event_not_found"
    EVENT_NOT_OPEN = "event_not_open"
    EVENT_SEATS_BELOW_TAKEN = "event_seats_below_taken"
    NOT_EVENT_MANAGER = "not_event_manager"
    NOT_SIGNED_UP = "not_signed_up"
    SIGNUP_CLOSED = "signup_closed"


class EventNotFound(NotFound):
    code = EventErrorCode.EVENT_NOT_FOUND
    title = "No such event"


class NotEventManager(Forbidden):
    code = EventErrorCode.NOT_EVENT_MANAGER
    title = "Only the community's leader and admins manage its events"


class EventNotOpen(Conflict):
    code = EventErrorCode.EVENT_NOT_OPEN
    title = "This event is not open for sign-up"


class SignupClosed(Conflict):
    code = EventErrorCode.SIGNUP_CLOSED
    title = "Sign-up for this event has closed"


class AlreadySignedUp(Conflict):
    code = EventErrorCode.ALREADY_SIGNED_UP
    title = "You are already signed up for this event"


class NotSignedUp(Conflict):
    code = EventErrorCode.NOT_SIGNED_UP
    title = "Not signed up for this event"


class SeatsBelowTaken(Conflict):
    code = EventErrorCode.EVENT_SEATS_BELOW_TAKEN
    title = "More members already hold a seat than that"


class EventNotEditable(Conflict):
    code = EventErrorCode.EVENT_NOT_EDITABLE
    title = "This event can no longer be changed"


class FeeLocked(Conflict):
    code = EventErrorCode.EVENT_FEE_LOCKED
    title = "The fee cannot change once the event is published"


class CheckinCodeInvalid(NotFound):
    code = EventErrorCode.CHECKIN_CODE_INVALID
    title = "No sign-up of this event has this check-in code"


class CheckinCodeUsed(Conflict):
    code = EventErrorCode.CHECKIN_CODE_USED
    title = "This check-in code was already used"
