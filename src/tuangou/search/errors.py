"""The error codes of search (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class SearchErrorCode(StrEnum):
    QUERY_TOO_LONG = "query_too_long"
