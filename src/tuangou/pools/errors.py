from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class PoolErrorCode(StrEnum):
    ABOVE_LIMIT = "above_limit"
    ALREADY_ADOPTED = "already_adopted"
    BELOW_LIMIT = "below_limit"
    CANCEL_TOO_LATE = "cancel_too_late"
    INVALID_WAVE = "invalid_wave"
    LISTING_NOT_FOUND = "listing_not_found"
    NOT_CATALOGUE = "not_catalogue"
    NOT_COMMUNITY_MEMBER = "not_community_member"
    SOLD_OUT = "sold_out"
    WAVE_CLOSED = "wave_closed"
    WAVE_NOT_FOUND = "wave_not_found"


class WaveNotFound(NotFound):
    code = PoolErrorCode.WAVE_NOT_FOUND
    title = "No such wave"


class ListingNotFound(NotFound):
    code = PoolErrorCode.LISTING_NOT_FOUND
    title = "This wave is not published in that community"


class WaveClosed(Conflict):
    code = PoolErrorCode.WAVE_CLOSED
    title = "This wave is closed for orders (past its cut-off)"


class InvalidWave(DomainError):
    code = PoolErrorCode.INVALID_WAVE
    status = 422
    title = "The wave's settings break a rule"


class NotCommunityMember(DomainError):
    code = PoolErrorCode.NOT_COMMUNITY_MEMBER
    status = 403
    title = "Join the community first (through its invite link)"


class BelowLimit(DomainError):
    code = PoolErrorCode.BELOW_LIMIT
    status = 422
    title = "Order at least one unit"


class AboveLimit(Conflict):
    code = PoolErrorCode.ABOVE_LIMIT
    title = "This is more than the per-member limit of the item"


class SoldOut(Conflict):
    code = PoolErrorCode.SOLD_OUT
    title = "Sold out"


class AlreadyAdopted(Conflict):
    code = PoolErrorCode.ALREADY_ADOPTED
    title = "This wave is already published in that community"


class NotCatalogue(Conflict):
    code = PoolErrorCode.NOT_CATALOGUE
    title = "Only a supplier's catalogue wave can be adopted"


class CancelTooLate(Conflict):
    code = PoolErrorCode.CANCEL_TOO_LATE
    title = "The wave's cut-off has passed: the order can no longer be cancelled"
