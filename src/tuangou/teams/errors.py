from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class TeamErrorCode(StrEnum):
    ALREADY_IN_TEAM = "already_in_team"
    CAMPAIGN_ENDED = "campaign_ended"
    CAMPAIGN_NOT_FOUND = "campaign_not_found"
    CAMPAIGN_NOT_LIVE = "campaign_not_live"
    INVALID_CAMPAIGN = "invalid_campaign"
    NOT_IN_TEAM = "not_in_team"
    NOT_NEW_MEMBER = "not_new_member"
    OWN_TEAM = "own_team"
    SOLD_OUT = "sold_out"
    SOLO_NOT_ALLOWED = "solo_not_allowed"
    TEAM_ALREADY_FORMED = "team_already_formed"
    TEAM_CLOSED = "team_closed"
    TEAM_FULL = "team_full"
    TEAM_NOT_FOUND = "team_not_found"
    TEAM_PENDING = "team_pending"
    TOO_FEW_TO_OPEN = "too_few_to_open"


class CampaignNotFound(NotFound):
    code = TeamErrorCode.CAMPAIGN_NOT_FOUND
    title = "No such campaign"


class TeamNotFound(NotFound):
    code = TeamErrorCode.TEAM_NOT_FOUND
    title = "No such team"


class CampaignNotLive(Conflict):
    code = TeamErrorCode.CAMPAIGN_NOT_LIVE
    title = "This campaign is not running"


class CampaignEnded(Conflict):
    code = TeamErrorCode.CAMPAIGN_ENDED
    title = "This campaign has ended and its stock went back to the SKU"


class TeamClosed(Conflict):
    code = TeamErrorCode.TEAM_CLOSED
    title = "This team is no longer open"


class TeamPending(Conflict):
    """The opener's payment is being confirmed (a moment, normally): the team opens then.
    ``retry_after`` (seconds) goes in the body and the Retry-After header."""

    code = TeamErrorCode.TEAM_PENDING
    title = "This team opens once its opener's payment is confirmed: try again in a moment"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, retry_after=1)


class TeamFull(Conflict):
    code = TeamErrorCode.TEAM_FULL
    title = "This team is full"


class SoldOut(Conflict):
    code = TeamErrorCode.SOLD_OUT
    title = "Sold out"


class TooFewToOpen(Conflict):
    code = TeamErrorCode.TOO_FEW_TO_OPEN
    title = "Too few units are left to open a team that could form: join an open team"


class SoloNotAllowed(Conflict):
    code = TeamErrorCode.SOLO_NOT_ALLOWED
    title = "This campaign sells in teams only"


class OwnTeam(Conflict):
    code = TeamErrorCode.OWN_TEAM
    title = "You cannot join your own team"


class AlreadyInTeam(Conflict):
    code = TeamErrorCode.ALREADY_IN_TEAM
    title = "You already have a seat in this team"


class NotNewMember(DomainError):
    code = TeamErrorCode.NOT_NEW_MEMBER
    status = 403
    title = "This team is for new members only"


class NotInTeam(Conflict):
    code = TeamErrorCode.NOT_IN_TEAM
    title = "You have no seat in this team"


class TeamAlreadyFormed(Conflict):
    code = TeamErrorCode.TEAM_ALREADY_FORMED
    title = "The team has formed; it can no longer be left"


class InvalidCampaign(DomainError):
    code = TeamErrorCode.INVALID_CAMPAIGN
    status = 422
    title = "The campaign's settings break a rule"
