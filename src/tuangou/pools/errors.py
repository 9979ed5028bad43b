from tuangou.core.errors import Conflict, DomainError, NotFound


class WaveNotFound(NotFound):
    code = "wave_not_found"
    title = "No such wave"


class ListingNotFound(NotFound):
    code = "listing_not_found"
    title = "This wave is not published in that community"


class WaveClosed(Conflict):
    code = "wave_closed"
    title = "This wave is closed for orders (past its cut-off)"


class InvalidWave(DomainError):
    code = "invalid_wave"
    status = 422
    title = "The wave's settings break a rule"


class NotCommunityMember(DomainError):
    code = "not_community_member"
    status = 403
    title = "Join the community first (through its invite link)"


class BelowLimit(DomainError):
    code = "below_limit"
    status = 422
    title = "Order at least one unit"


class AboveLimit(Conflict):
    code = "above_limit"
    title = "This is more than the per-member limit of the item"


class SoldOut(Conflict):
    code = "sold_out"
    title = "Sold out"


class AlreadyAdopted(Conflict):
    code = "already_adopted"
    title = "This wave is already published in that community"


class NotCatalogue(Conflict):
    code = "not_catalogue"
    title = "Only a supplier's catalogue wave can be adopted"
