from tuangou.core.errors import Conflict, DomainError, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "No such campaign"


class TeamNotFound(NotFound):
    code = "team_not_found"
    title = "No such team"


class CampaignNotLive(Conflict):
    code = "campaign_not_live"
    title = "This campaign is not running"


class CampaignEnded(Conflict):
    code = "campaign_ended"
    title = "This campaign has ended and its stock went back to the SKU"


class TeamClosed(Conflict):
    code = "team_closed"
    title = "This team is no longer open"


class TeamFull(Conflict):
    code = "team_full"
    title = "This team is full"


class SoldOut(Conflict):
    code = "sold_out"
    title = "Sold out"


class OwnTeam(Conflict):
    code = "own_team"
    title = "You cannot join your own team"


class AlreadyInTeam(Conflict):
    code = "already_in_team"
    title = "You already have a seat in this team"


class NotNewMember(DomainError):
    code = "not_new_member"
    status = 403
    title = "This team is for new members only"


class NotInTeam(Conflict):
    code = "not_in_team"
    title = "You have no seat in this team"


class TeamAlreadyFormed(Conflict):
    code = "team_already_formed"
    title = "The team has formed; it can no longer be left"


class InvalidCampaign(DomainError):
    code = "invalid_campaign"
    status = 422
    title = "The campaign's settings break a rule"
