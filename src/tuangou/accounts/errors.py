"""The error codes of accounts (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class AccountErrorCode(StrEnum):
    ACCOUNT_DELETED = "account_deleted"
    ADDRESS_BOOK_FULL = "address_book_full"
    ADDRESS_NOT_FOUND = "address_not_found"
    ADDRESS_REQUIRED = "address_required"
    BAD_CODE = "bad_code"
    BAD_CREDENTIALS = "bad_credentials"
    PHONE_TAKEN = "phone_taken"
    STAFF_ACCOUNT = "staff_account"
    USER_NOT_FOUND = "user_not_found"
