"""Every refusal has a code from its domain's enum, one HTTP status per code, and the table of
codes in docs/ERRORS.md is the one the classes generate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from tuangou import wiring
from tuangou.core.errors import DomainError, code_domain, code_table, error_classes

ERRORS_MD = Path(__file__).resolve().parent.parent / "docs" / "ERRORS.md"


def _classes() -> list[type[DomainError]]:
    wiring.load_application()
    return error_classes()


def _uncoded(classes: list[type[DomainError]]) -> list[str]:
    return [c.__name__ for c in classes if not isinstance(getattr(c, "code", None), StrEnum)]


def test_every_error_class_takes_its_code_from_an_enum() -> None:
    classes = _classes()
    assert len(classes) > 90
    assert not _uncoded(classes), "error classes without a code from an error-code enum"
    assert {code_domain(c) for c in classes} >= {"core", "orders", "teams", "pools", "payments"}


def test_a_class_without_a_code_or_with_a_free_string_is_refused() -> None:
    class Uncoded(DomainError):
        title = "No code"

    class FreeString(DomainError):
        code = "free_string"

    assert _uncoded([Uncoded, FreeString]) == ["Uncoded", "FreeString"]


def test_one_status_per_code() -> None:
    statuses: dict[str, set[int]] = {}
    for cls in _classes():
        statuses.setdefault(str(cls.code), set()).add(cls.status)
    shared = {code: found for code, found in statuses.items() if len(found) > 1}
    assert not shared, f"codes with more than one HTTP status: {shared}"


def test_the_table_of_codes_is_up_to_date() -> None:
    _classes()
    table = code_table()
    assert "| `order_not_found` | 404 | No such order | orders |" in table
    assert ERRORS_MD.read_text(encoding="utf-8") == table, "run scripts/error-codes"
