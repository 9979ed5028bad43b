"""The commission domain's refusals, and their codes."""

from __future__ import annotations

from enum import StrEnum

from tuangou.core.errors import Conflict, NotFound


class CommissionErrorCode(StrEnum):
    WITHDRAWAL_DECIDED = "withdrawal_decided"
    WITHDRAWAL_EXCEEDS_AVAILABLE = "withdrawal_exceeds_available"
    WITHDRAWAL_NOT_FOUND = "withdrawal_not_found"


class WithdrawalTooLarge(Conflict):
    code = CommissionErrorCode.WITHDRAWAL_EXCEEDS_AVAILABLE
    title = "The withdrawal is more than the available commission"


class WithdrawalNotFound(NotFound):
    code = CommissionErrorCode.WITHDRAWAL_NOT_FOUND
    title = "No such withdrawal"


class WithdrawalDecided(Conflict):
    code = CommissionErrorCode.WITHDRAWAL_DECIDED
    title = "This withdrawal was already decided"
