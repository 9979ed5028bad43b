from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError


class LeaderboardErrorCode(StrEnum):
    INVALID_PERIOD = "invalid_board_period"
    INVALID_AWARD = "invalid_board_award"
    INVALID_SETTINGS = "invalid_board_settings"
    MONTH_NOT_CLOSED = "board_month_not_closed"
    ALREADY_AWARDED = "board_already_awarded"


class InvalidPeriod(DomainError):
    code = LeaderboardErrorCode.INVALID_PERIOD
    status = 422
    title = "Invalid leaderboard period"


class InvalidAward(DomainError):
    code = LeaderboardErrorCode.INVALID_AWARD
    status = 422
    title = "Invalid leaderboard award"


class InvalidSettings(DomainError):
    code = LeaderboardErrorCode.INVALID_SETTINGS
    status = 422
    title = "Invalid leaderboard settings"


class MonthNotClosed(Conflict):
    code = LeaderboardErrorCode.MONTH_NOT_CLOSED
    title = "The month's board is not final yet"


class AlreadyAwarded(Conflict):
    code = LeaderboardErrorCode.ALREADY_AWARDED
    title = "This month's award was already given"
