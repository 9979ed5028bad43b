"""The error codes of the pages' own refusals; web/errors.py renders every refusal.

A module of its own because web/errors.py imports the templates, which import the session,
whose refusal takes its code from here.
"""

from __future__ import annotations

from enum import StrEnum


class WebErrorCode(StrEnum):
    CSRF_FAILED = "csrf_failed"
    PAYMENT_CLOSED = "payment_closed"
