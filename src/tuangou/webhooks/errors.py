"""The error codes of outgoing webhooks (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class WebhookErrorCode(StrEnum):
    ENDPOINT_NOT_FOUND = "webhook_endpoint_not_found"
    DELIVERY_NOT_FOUND = "webhook_delivery_not_found"
    URL_REFUSED = "webhook_url_refused"
    TOPICS_INVALID = "webhook_topics_invalid"
    NOT_REPLAYABLE = "webhook_delivery_not_replayable"
