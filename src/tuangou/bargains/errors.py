from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, Forbidden, NotFound


class BargainErrorCode(StrEnum):
    ALREADY_HELPED = "already_helped"
    BARGAIN_ALREADY_ORDERED = "bargain_already_ordered"
    BARGAIN_CAMPAIGN_NOT_FOUND = "bargain_campaign_not_found"
    BARGAIN_CAMPAIGN_NOT_LIVE = "bargain_campaign_not_live"
    BARGAIN_COMPLETE = "bargain_complete"
    BARGAIN_EXPIRED = "bargain_expired"
    BARGAIN_NOT_FOUND = "bargain_not_found"
    BARGAIN_SOLD_OUT = "bargain_sold_out"
    FLOOR_NOT_REACHED = "floor_not_reached"
    HELP_LIMIT_REACHED = "help_limit_reached"
    INVALID_BARGAIN_CAMPAIGN = "invalid_bargain_campaign"
    RISK_REFUSED = "risk_refused"
    SELF_HELP = "self_help"
    START_LIMIT_REACHED = "start_limit_reached"


class CampaignNotFound(NotFound):
    code = BargainErrorCode.BARGAIN_CAMPAIGN_NOT_FOUND
    title = "No such bargain campaign"


class BargainNotFound(NotFound):
    code = BargainErrorCode.BARGAIN_NOT_FOUND
    title = "No such bargain"


class InvalidCampaign(DomainError):
    code = BargainErrorCode.INVALID_BARGAIN_CAMPAIGN
    status = 422
    title = "Invalid bargain campaign"


class CampaignNotLive(Conflict):
    code = BargainErrorCode.BARGAIN_CAMPAIGN_NOT_LIVE
    title = "This bargain campaign is not running"


class SoldOut(Conflict):
    code = BargainErrorCode.BARGAIN_SOLD_OUT
    title = "This bargain is sold out"


class StartLimitReached(Conflict):
    code = BargainErrorCode.START_LIMIT_REACHED
    title = "You have started as many bargains as this campaign allows"


class SelfHelp(Conflict):
    code = BargainErrorCode.SELF_HELP
    title = "You cannot cut your own bargain"


class AlreadyHelped(Conflict):
    code = BargainErrorCode.ALREADY_HELPED
    title = "You have already cut this bargain"


class HelpLimitReached(Conflict):
    code = BargainErrorCode.HELP_LIMIT_REACHED
    title = "You have helped as many bargains as this campaign allows"


class BargainExpired(Conflict):
    code = BargainErrorCode.BARGAIN_EXPIRED
    title = "This bargain's time is up"


class BargainComplete(Conflict):
    code = BargainErrorCode.BARGAIN_COMPLETE
    title = "This bargain needs no more cuts"


class AlreadyOrdered(Conflict):
    code = BargainErrorCode.BARGAIN_ALREADY_ORDERED
    title = "This bargain already has an order"


class FloorNotReached(Conflict):
    code = BargainErrorCode.FLOOR_NOT_REACHED
    title = "This bargain can be bought only at its floor price"


class RiskRefused(Forbidden):
    code = BargainErrorCode.RISK_REFUSED
    title = "This help cannot be accepted"
