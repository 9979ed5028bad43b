from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError


class PointsErrorCode(StrEnum):
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_ENOUGH_POINTS = "not_enough_points"
    INVALID_POINTS_SETTINGS = "invalid_points_settings"
    INVALID_LEVELS = "invalid_levels"
    INVALID_AWARD = "invalid_award"


class AlreadyCheckedIn(Conflict):
    code = PointsErrorCode.ALREADY_CHECKED_IN
    title = "You have already checked in today"


class NotEnoughPoints(Conflict):
    code = PointsErrorCode.NOT_ENOUGH_POINTS
    title = "Not enough points"


class InvalidSettings(DomainError):
    code = PointsErrorCode.INVALID_POINTS_SETTINGS
    status = 422
    title = "Invalid points settings"


class InvalidLevels(DomainError):
    code = PointsErrorCode.INVALID_LEVELS
    status = 422
    title = "Invalid levels"


class InvalidAward(DomainError):
    code = PointsErrorCode.INVALID_AWARD
    status = 422
    title = "Invalid points award"
