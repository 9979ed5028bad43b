"""The error codes of the pages' own refusals (web/errors.py renders every refusal).

Apart from web/errors.py, which imports the templates (and through them the session), so that
the session's refusals can take their codes from here.
"""

from __future__ import annotations

from enum import StrEnum


class WebErrorCode(StrEnum):
    CSRF_FAILED = "csrf_failed"
    PAYMENT_CLOSED = "payment_closed"
