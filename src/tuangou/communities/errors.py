from tuangou.core.errors import Conflict, DomainError, NotFound


class ApplicationPending(Conflict):
    code = "application_pending"
    title = "You already have a leader application waiting for review"


class AlreadyLeader(Conflict):
    code = "already_leader"
    title = "You are already a leader"


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    title = "No such leader application"


class ApplicationDecided(Conflict):
    code = "application_decided"
    title = "This application was already decided"


class OwnApplication(DomainError):
    code = "own_application"
    status = 403
    title = "Nobody decides their own application: another operator decides it"


class NotALeader(DomainError):
    code = "not_a_leader"
    status = 403
    title = "Only an approved leader may do this; apply to become a leader first"


class LeaderPaused(DomainError):
    code = "leader_paused"
    status = 403
    title = "Your leader account is paused; you cannot publish until it is resumed"


class LeaderNotFound(NotFound):
    code = "leader_not_found"
    title = "No such leader"


class ThirdLevelRefused(Conflict):
    code = "third_level_refused"
    title = "Sub-leaders go at most two levels deep; a third level is refused"


class SelfRecruit(Conflict):
    code = "cannot_recruit_self"
    title = "A leader cannot be their own sub-leader"


class PickupPointNotFound(NotFound):
    code = "pickup_point_not_found"
    title = "No such pickup point"


class NotYourPickupPoint(DomainError):
    code = "not_your_pickup_point"
    status = 403
    title = "This pickup point belongs to another leader"


class CommunityNotFound(NotFound):
    code = "community_not_found"
    title = "No such community"


class InviteNotFound(NotFound):
    code = "invite_not_found"
    title = "This invite link is not valid; ask the leader for a new one"


class NotCommunityManager(DomainError):
    code = "not_community_manager"
    status = 403
    title = "Only the community's leader or its admins may do this"


class NotCommunityLeader(DomainError):
    code = "not_community_leader"
    status = 403
    title = "Only the community's leader may do this"


class NotAMember(Conflict):
    code = "not_a_member"
    title = "This person is not a member of the community"


class LeaderCannotLeave(Conflict):
    code = "leader_cannot_leave"
    title = "The leader cannot leave their own community"
