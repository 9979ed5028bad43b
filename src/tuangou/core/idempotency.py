"""``Idempotency-Key`` with Stripe's semantics (invariant 6).

The key's record is inserted with the change, in the same transaction, holding the response;
so a key is either unused, or bound to one committed outcome. A retried or concurrent request
with the same key fails on the record's unique index, rolls its own work back, and replays the
stored outcome. A refusal (a :class:`DomainError`) is stored too, once the refused work is
rolled back, so a retry gets the same answer. The same key with another request body is
refused with ``idempotency_key_reused``.

:func:`run` runs one request in transactions of its own, on the calling thread;
:func:`run_grouped` is the same for the hot writes, awaited on the event loop, through group
commit (:mod:`tuangou.core.group_commit`), with the work, the key's record and a refusal's
record in a savepoint of the writer's shared transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.core import clock, group_commit
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


def _stored_in(session: Session, scope: str, key: str, request_hash: str) -> Outcome | None:
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


def _stored(scope: str, key: str, request_hash: str) -> Outcome | None:
    with unit_of_work(readonly=True) as session:
        return _stored_in(session, scope, key, request_hash)


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")


@dataclass(frozen=True)
class _Request:
    scope: str
    key: str
    request_hash: str
    instance: str | None

    def record(self, session: Session, status_code: int, body: Any) -> None:
        """The key's row goes in with the change, in the same transaction. A retry of a
        committed request, or a concurrent twin, fails on the unique index here, rolls its
        own work back, and replays the stored outcome."""
        execute(
            session,
            _RECORD,
            {
                "scope": self.scope,
                "key": self.key,
                "request_hash": self.request_hash,
                "status_code": status_code,
                "response": orjson.dumps(body).decode(),
                "created_at": clock.now(),
            },
        )

    def remember(self, session: Session, refusal: DomainError) -> bool:
        """Store a refusal under the key unless the key is already bound; True if stored."""
        stmt = (
            _insert(session)(IdempotencyRecord)
            .values(
                scope=self.scope,
                key=self.key,
                request_hash=self.request_hash,
                status_code=refusal.status,
                response=orjson.dumps(refusal.to_problem(self.instance)).decode(),
                created_at=clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def stored(self, session: Session) -> Outcome | None:
        return _stored_in(session, self.scope, self.key, self.request_hash)


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
    _check_key(key)
    req = _Request(scope, key, request_hash, instance)

    def attempt(session: Session) -> Any:
        body = work(session)
        req.record(session, status_code, body)
        return body

    try:
        return Outcome(status_code, run_in_transaction(attempt), replayed=False)
    except IntegrityError:
        stored = _stored(scope, key, request_hash)
        if stored is None:
            raise
        return stored
    except DomainError as refusal:
        if run_in_transaction(partial(req.remember, refusal=refusal)):
            raise  # the key's first answer
        # The key was already bound (an earlier request, or a concurrent twin): its stored
        # answer is the answer, even if this run was refused for another reason.
        stored = _stored(scope, key, request_hash)
        if stored is None:
            raise
        return stored


async def run_grouped(
    *,
    scope: str,
    key: str | None,
    request_hash: str,
    work: Callable[[Session], Any],
    status_code: int = 200,
    instance: str | None = None,
) -> Outcome:
    """:func:`run` through group commit, awaited on the event loop: the same answers."""
    if key is None:
        return Outcome(status_code, await group_commit.run(work), replayed=False)
    _check_key(key)
    req = _Request(scope, key, request_hash, instance)

    def unit(session: Session) -> Outcome | DomainError:
        try:
            body = work(session)
            req.record(session, status_code, body)
            return Outcome(status_code, body, replayed=False)
        except IntegrityError:
            session.rollback()  # the work's changes go; the key's stored answer is the answer
            stored = req.stored(session)
            if stored is None:
                raise
            return stored
        except DomainError as refusal:
            session.rollback()
            if req.remember(session, refusal):
                return refusal  # the key's first answer (raised once committed)
            stored = req.stored(session)
            return refusal if stored is None else stored

    outcome = await group_commit.run(unit)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome
