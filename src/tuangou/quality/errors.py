from enum import StrEnum

from tuangou.core.errors import InvalidInput


class QualityErrorCode(StrEnum):
    INVALID_THRESHOLDS = "invalid_quality_thresholds"


class InvalidThresholds(InvalidInput):
    """A threshold out of its bounds: ``field`` names it, ``low`` and ``high`` the bounds."""

    code = QualityErrorCode.INVALID_THRESHOLDS
    title = "A quality threshold is out of its bounds"
