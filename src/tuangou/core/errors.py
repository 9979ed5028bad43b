"""One error shape for the whole platform (RFC 9457 problem details).

Every refusal is a :class:`DomainError` with a stable ``code`` and an HTTP status; the API
renders it as ``application/problem+json``. Raising one inside a unit of work rolls it back,
so no error changes any state.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
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
    code = "not_found"
    status = 404
    title = "Not found"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    title = "Log in first"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "You may not do this"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    title = "The request is not valid"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    title = "This Idempotency-Key was already used with a different request"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "Too many attempts; wait and try again"
