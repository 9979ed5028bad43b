"""The error codes of message channels and notification preferences (the classes are
raised by ``channels``)."""

from __future__ import annotations

from enum import StrEnum


class NotificationErrorCode(StrEnum):
    PREFERENCES_INVALID = "notify_preferences_invalid"
    CHANNEL_NOT_AVAILABLE = "notify_channel_not_available"
    SMS_NOT_SENT = "sms_not_sent"
