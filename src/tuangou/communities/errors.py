from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class CommunityErrorCode(StrEnum):
    ALREADY_LEADER = "already_leader"
    ALREADY_YOUR_SUB_LEADER = "already_your_sub_leader"
    APPLICATION_DECIDED = "application_decided"
    APPLICATION_NOT_FOUND = "application_not_found"
    APPLICATION_PENDING = "application_pending"
    CANNOT_RECRUIT_SELF = "cannot_recruit_self"
    COMMUNITY_NOT_FOUND = "community_not_found"
    CREDIT_BELOW_THRESHOLD = "credit_below_threshold"
    INVITATION_ANSWERED = "invitation_answered"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_NOT_FOUND = "invitation_not_found"
    INVITE_NOT_FOUND = "invite_not_found"
    LEADER_CANNOT_LEAVE = "leader_cannot_leave"
    LEADER_NOT_FOUND = "leader_not_found"
    LEADER_PAUSED = "leader_paused"
    NOT_A_LEADER = "not_a_leader"
    NOT_A_MEMBER = "not_a_member"
    NOT_A_SUB_LEADER = "not_a_sub_leader"
    NOT_COMMUNITY_LEADER = "not_community_leader"
    NOT_COMMUNITY_MANAGER = "not_community_manager"
    OWN_APPLICATION = "own_application"
    PICKUP_POINT_NOT_FOUND = "pickup_point_not_found"
    RULES_NOT_ACCEPTED = "rules_not_accepted"
    RULES_NOT_FOUND = "rules_not_found"
    RULES_VERSION_STALE = "rules_version_stale"
    SUB_LEADER_LINK_NOT_FOUND = "sub_leader_link_not_found"
    THIRD_LEVEL_REFUSED = "third_level_refused"


class ApplicationPending(Conflict):
    code = CommunityErrorCode.APPLICATION_PENDING
    title = "You already have a leader application waiting for review"


class AlreadyLeader(Conflict):
    code = CommunityErrorCode.ALREADY_LEADER
    title = "You are already a leader"


class ApplicationNotFound(NotFound):
    code = CommunityErrorCode.APPLICATION_NOT_FOUND
    title = "No such leader application"


class ApplicationDecided(Conflict):
    code = CommunityErrorCode.APPLICATION_DECIDED
    title = "This application was already decided"


class OwnApplication(DomainError):
    code = CommunityErrorCode.OWN_APPLICATION
    status = 403
    title = "Nobody decides their own application: another operator decides it"


class NotALeader(DomainError):
    code = CommunityErrorCode.NOT_A_LEADER
    status = 403
    title = "Only an approved leader may do this; apply to become a leader first"


class LeaderPaused(DomainError):
    code = CommunityErrorCode.LEADER_PAUSED
    status = 403
    title = "Your leader account is paused; you cannot publish until it is resumed"


class LeaderNotFound(NotFound):
    code = CommunityErrorCode.LEADER_NOT_FOUND
    title = "No such leader"


class ThirdLevelRefused(Conflict):
    code = CommunityErrorCode.THIRD_LEVEL_REFUSED
    title = "Sub-leaders go at most two levels deep; a third level is refused"


class SelfRecruit(Conflict):
    code = CommunityErrorCode.CANNOT_RECRUIT_SELF
    title = "A leader cannot be their own sub-leader"


class PickupPointNotFound(NotFound):
    code = CommunityErrorCode.PICKUP_POINT_NOT_FOUND
    title = "No such pickup point"


class NotYourPickupPoint(PickupPointNotFound):
    """Another leader's pickup point: answered exactly as a missing one (404)."""


class CommunityNotFound(NotFound):
    code = CommunityErrorCode.COMMUNITY_NOT_FOUND
    title = "No such community"


class InviteNotFound(NotFound):
    code = CommunityErrorCode.INVITE_NOT_FOUND
    title = "This invite link is not valid; ask the leader for a new one"


class NotCommunityManager(DomainError):
    code = CommunityErrorCode.NOT_COMMUNITY_MANAGER
    status = 403
    title = "Only the community's leader or its admins may do this"


class NotCommunityLeader(DomainError):
    code = CommunityErrorCode.NOT_COMMUNITY_LEADER
    status = 403
    title = "Only the community's leader may do this"


class NotAMember(Conflict):
    code = CommunityErrorCode.NOT_A_MEMBER
    title = "This person is not a member of the community"


class LeaderCannotLeave(Conflict):
    code = CommunityErrorCode.LEADER_CANNOT_LEAVE
    title = "The leader cannot leave their own community"


class AlreadyYourSubLeader(Conflict):
    code = CommunityErrorCode.ALREADY_YOUR_SUB_LEADER
    title = "This leader is already your sub-leader"


class InvitationNotFound(NotFound):
    code = CommunityErrorCode.INVITATION_NOT_FOUND
    title = "No such sub-leader invitation"


class InvitationAnswered(Conflict):
    code = CommunityErrorCode.INVITATION_ANSWERED
    title = "This invitation was already answered or cancelled"


class InvitationExpired(Conflict):
    code = CommunityErrorCode.INVITATION_EXPIRED
    title = "This invitation has expired; ask the leader for a new one"


class NotASubLeader(Conflict):
    code = CommunityErrorCode.NOT_A_SUB_LEADER
    title = "You are not anyone's sub-leader"


class SubLeaderLinkNotFound(NotFound):
    code = CommunityErrorCode.SUB_LEADER_LINK_NOT_FOUND
    title = "No such sub-leader link"


class RulesNotAccepted(DomainError):
    """Carries ``version``: the version of the rules to accept."""

    code = CommunityErrorCode.RULES_NOT_ACCEPTED
    status = 403
    title = "Accept the community's current rules first"


class RulesVersionStale(Conflict):
    """Carries ``version``: the current version, the one to accept."""

    code = CommunityErrorCode.RULES_VERSION_STALE
    title = "These are not the community's current rules; read and accept the current version"


class RulesNotFound(NotFound):
    code = CommunityErrorCode.RULES_NOT_FOUND
    title = "This community has no rules"
