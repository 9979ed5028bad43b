from enum import StrEnum

from tuangou.core.errors import DomainError


class InsightErrorCode(StrEnum):
    INVALID_WEEK = "invalid_insight_week"


class InvalidWeek(DomainError):
    code = InsightErrorCode.INVALID_WEEK
    status = 422
    title = "The week must be written like 2026-W49"
