from enum import StrEnum

from tuangou.core.errors import DomainError


class AnalyticsErrorCode(StrEnum):
    INVALID_RANGE = "invalid_dashboard_range"
    UNKNOWN_FIGURE = "unknown_dashboard_figure"


class InvalidRange(DomainError):
    code = AnalyticsErrorCode.INVALID_RANGE
    status = 422
    title = "Invalid dashboard date range"


class UnknownFigure(DomainError):
    code = AnalyticsErrorCode.UNKNOWN_FIGURE
    status = 422
    title = "No such dashboard figure"
