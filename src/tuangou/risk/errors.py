"""The error codes of the risk engine (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class RiskErrorCode(StrEnum):
    RISK_REFUSED = "risk_refused"
    RISK_CHALLENGE = "risk_challenge"
    CASE_NOT_FOUND = "risk_case_not_found"
    CASE_DECIDED = "risk_case_decided"
