"""The verifiable record's refusals."""

from __future__ import annotations

from enum import StrEnum

from tuangou.core.errors import DomainError


class JournalErrorCode(StrEnum):
    CHECKPOINT_NOT_FOUND = "checkpoint_not_found"
    ENTRY_NOT_FOUND = "journal_entry_not_found"
    BAD_PROOF_RANGE = "bad_proof_range"


class CheckpointNotFound(DomainError):
    code = JournalErrorCode.CHECKPOINT_NOT_FOUND
    status = 404
    title = "No signed checkpoint of that size"


class EntryNotFound(DomainError):
    code = JournalErrorCode.ENTRY_NOT_FOUND
    status = 404
    title = "No such entry in the record"


class BadProofRange(DomainError):
    code = JournalErrorCode.BAD_PROOF_RANGE
    status = 422
    title = "No proof between those sizes"
