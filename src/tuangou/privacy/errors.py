"""The error codes of privacy (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class PrivacyErrorCode(StrEnum):
    DELETION_BLOCKED = "deletion_blocked"
    DELETION_NOT_CONFIRMED = "deletion_not_confirmed"
