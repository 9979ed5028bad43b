from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, InvalidInput, NotFound


class ModerationErrorCode(StrEnum):
    ALREADY_HIDDEN = "already_hidden"
    ALREADY_REPORTED = "already_reported"
    CANNOT_REPORT_OWN = "cannot_report_own"
    CANNOT_MUTE_LEADER = "cannot_mute_leader"
    MUTED_UNTIL = "muted_until"
    NOT_A_MODERATOR = "not_a_moderator"
    NOT_HELD = "not_held"
    NOT_HIDDEN = "not_hidden"
    NOT_MUTED = "not_muted"
    TARGET_NOT_FOUND = "target_not_found"
    UNKNOWN_TARGET_KIND = "unknown_target_kind"


class TargetNotFound(NotFound):
    code = ModerationErrorCode.TARGET_NOT_FOUND
    title = "No such content (or it is not yours to see)"


class UnknownTargetKind(InvalidInput):
    code = ModerationErrorCode.UNKNOWN_TARGET_KIND
    title = "This kind of content cannot be reported or moderated"


class CannotReportOwn(Conflict):
    code = ModerationErrorCode.CANNOT_REPORT_OWN
    title = "You cannot report your own content"


class AlreadyReported(Conflict):
    code = ModerationErrorCode.ALREADY_REPORTED
    title = "You already reported this"


class NotAModerator(DomainError):
    code = ModerationErrorCode.NOT_A_MODERATOR
    status = 403
    title = "Only the community's leader or an operator may moderate this"


class NotHeld(Conflict):
    code = ModerationErrorCode.NOT_HELD
    title = "This content is not held for review"


class MutedUntil(DomainError):
    """Carries ``until``: when the member may post again (ISO 8601)."""

    code = ModerationErrorCode.MUTED_UNTIL
    status = 403
    title = "You are muted in this community"


class NotMuted(Conflict):
    code = ModerationErrorCode.NOT_MUTED
    title = "This member is not muted in this community"


class CannotMuteLeader(Conflict):
    code = ModerationErrorCode.CANNOT_MUTE_LEADER
    title = "The community's leader cannot be muted in their own community"


class AlreadyHidden(Conflict):
    code = ModerationErrorCode.ALREADY_HIDDEN
    title = "This content is already hidden"


class NotHidden(Conflict):
    code = ModerationErrorCode.NOT_HIDDEN
    title = "This content is not hidden: there is nothing to restore"
