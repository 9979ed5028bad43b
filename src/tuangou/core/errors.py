"""One error shape for the whole platform (RFC 9457 problem details).

Every refusal is a :class:`DomainError` with a stable ``code`` and an HTTP status; the API
renders it as ``application/problem+json``. Raising one inside a unit of work rolls it back,
so no error changes any state.

Each domain names its codes in one ``StrEnum`` (``OrderErrorCode`` in ``orders/errors.py``;
the generic ones are :class:`CoreErrorCode` here). :func:`code_table` walks the error classes
and renders the table of every code that ``scripts/error-codes`` writes to docs/ERRORS.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class CoreErrorCode(StrEnum):
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"


class DomainError(Exception):
    code: ClassVar[str]  # a member of its domain's error-code enum
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request refused"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://tuangou.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotFound(DomainError):
    code: ClassVar[str] = CoreErrorCode.NOT_FOUND
    status = 404
    title = "Not found"


class Unauthenticated(DomainError):
    code: ClassVar[str] = CoreErrorCode.UNAUTHENTICATED
    status = 401
    title = "Log in first"


class Forbidden(DomainError):
    code: ClassVar[str] = CoreErrorCode.FORBIDDEN
    status = 403
    title = "You may not do this"


class InvalidInput(DomainError):
    code: ClassVar[str] = CoreErrorCode.INVALID_INPUT
    status = 422
    title = "The request is not valid"


class Conflict(DomainError):
    code: ClassVar[str] = CoreErrorCode.CONFLICT
    status = 409
    title = "The request conflicts with the current state"


class IdempotencyKeyReused(DomainError):
    code: ClassVar[str] = CoreErrorCode.IDEMPOTENCY_KEY_REUSED
    status = 422
    title = "This Idempotency-Key was already used with a different request"


class RateLimited(DomainError):
    code: ClassVar[str] = CoreErrorCode.RATE_LIMITED
    status = 429
    title = "Too many attempts; wait and try again"


def error_classes() -> list[type[DomainError]]:
    """Every subclass of :class:`DomainError` of the platform imported so far, by code.

    Import the whole application first (its composition and its routers): a class is known
    only once its module is imported.
    """
    found: list[type[DomainError]] = []
    todo = list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    ours = {cls for cls in found if cls.__module__.startswith("tuangou.")}
    return sorted(ours, key=lambda c: (str(getattr(c, "code", "")), c.__module__, c.__qualname__))


def code_domain(cls: type[DomainError]) -> str:
    """The package whose error-code enum holds the class's code (``orders``, ``core``…)."""
    return type(cls.code).__module__.split(".")[1]


def code_table() -> str:
    """docs/ERRORS.md: one row per error class, with its code, HTTP status, title and domain."""
    lines = [
        "# Error codes",
        "",
        "Every refusal of the API is an `application/problem+json` body whose `code` is one of",
        "these (see docs/ARCHITECTURE.md, *Errors*). Generated from the error classes by",
        "`scripts/error-codes`; a test fails when this file is out of date.",
        "",
        "| Code | HTTP status | Title | Domain | Class |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cls in error_classes():
        where = f"{cls.__module__.removeprefix('tuangou.')}.{cls.__qualname__}"
        row = (f"`{cls.code}`", str(cls.status), cls.title, code_domain(cls), f"`{where}`")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
