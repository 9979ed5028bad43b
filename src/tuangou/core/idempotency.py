"""``Idempotency-Key`` with Stripe's semantics (invariant 6).

The key's record is inserted with the change, in the same transaction, holding the response;
so a key is either unused, or bound to one committed outcome. A retried or concurrent request
with the same key fails on the record's unique index, rolls its own work back, and replays the
stored outcome. A refusal (a :class:`DomainError`) is stored too, in its own
transaction, so a retry gets the same answer. The same key with another request body is
refused with ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import execute, run_in_transaction, table, unit_of_work, upsert_insert
from tuangou.core.errors import DomainError, IdempotencyKeyReused, InvalidInput
from tuangou.core.models import IdempotencyRecord


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool


def fingerprint(method: str, path: str, body: Any) -> str:
    raw = orjson.dumps([method.upper(), path, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT
_RECORD = insert(table(IdempotencyRecord))  # a plain INSERT: no ORM object is needed


def _stored(scope: str, key: str, request_hash: str) -> Outcome | None:
    with unit_of_work(readonly=True) as session:
        record = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
        if record is None:
            return None
        if record.request_hash != request_hash:
            raise IdempotencyKeyReused()
        return Outcome(record.status_code, orjson.loads(record.response), replayed=True)


def run(
    *,
    scope: str,
    key: str | None,
    request_hash: str,
    work: Callable[[Session], Any],
    status_code: int = 200,
    instance: str | None = None,
) -> Outcome:
    """Run ``work`` (returning a JSON-able body) once per ``(scope, key)``.

    ``instance`` is the request's path, stored in a refusal's problem details so that a
    replayed refusal is the very answer the first request got.
    """
    if key is None:
        return Outcome(status_code, run_in_transaction(work), replayed=False)
    if not 1 <= len(key) <= 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")

    def attempt(session: Session) -> Any:
        body = work(session)
        # The key's row goes in with the change, in the same transaction. A retry of a
        # committed request, or a concurrent twin, fails on the unique index here, rolls
        # its own work back, and replays the stored outcome below.
        execute(
            session,
            _RECORD,
            {
                "scope": scope,
                "key": key,
                "request_hash": request_hash,
                "status_code": status_code,
                "response": orjson.dumps(body).decode(),
                "created_at": clock.now(),
            },
        )
        return body

    try:
        return Outcome(status_code, run_in_transaction(attempt), replayed=False)
    except IntegrityError:
        stored = _stored(scope, key, request_hash)
        if stored is None:
            raise
        return stored
    except DomainError as refusal:
        problem = refusal.to_problem(instance)
        refused_status = refusal.status

        def remember(session: Session) -> bool:
            stmt = (
                _insert(session)(IdempotencyRecord)
                .values(
                    scope=scope,
                    key=key,
                    request_hash=request_hash,
                    status_code=refused_status,
                    response=orjson.dumps(problem).decode(),
                    created_at=clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["scope", "key"])
            )
            return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]

        if run_in_transaction(remember):
            raise  # the key's first answer
        # The key was already bound (an earlier request, or a concurrent twin): its stored
        # answer is the answer, even if this run was refused for another reason.
        stored = _stored(scope, key, request_hash)
        if stored is None:
            raise
        return stored
