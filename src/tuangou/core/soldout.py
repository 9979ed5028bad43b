"""Refusals from memory: what a process saw exhausted (a flash slot sold out, a team campaign
with no free unit, a team with no reservation left), and the routes whose refusal it can give
without the database.

One mechanism for every domain that sells scarce units:

* **Marks.** A domain marks a key (``("flash", 7)``, ``("team-campaign", 3)``) when its guarded
  statement found nothing left, and forgets it when it gives units back (:func:`forget`, which
  also forgets every mark filed under that key: a campaign's teams). A mark is trusted for
  :data:`RECHECK_SECONDS`; then the one request that finds it stale re-reads the truth (the
  domain's ``recheck``, one ``SELECT``) while the others keep answering from the mark
  (:func:`refuse`). So a unit given back in another process is on sale again within about a
  second, and an exhausted key costs each process one read a second, whatever the load. The
  database stays the truth: a mark only ever turns a request away early.
* **Gated routes.** A domain registers a route's method, path pattern and ``decide(match,
  body)`` (:func:`gate_route`); the API's gate (``api.gate.RefusalGate``), in front of the
  routing, asks it and answers the refusal it returns to a member, with no statement and no
  transaction.

Marks live per engine (two databases in one process, as in the tests, never share one).
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from tuangou.core.db import get_engine
from tuangou.core.errors import DomainError

RECHECK_SECONDS = 1.0

Key = Hashable


class _Marks:
    def __init__(self) -> None:
        # key -> (when it was last confirmed, what the domain noted with it, the key it is
        # filed under or None)
        self.marks: dict[Key, tuple[float, Any, Key | None]] = {}
        self.lock = threading.Lock()


_per_engine: weakref.WeakKeyDictionary[Engine, _Marks] = weakref.WeakKeyDictionary()


def _marks() -> _Marks:
    engine = get_engine()
    found = _per_engine.get(engine)
    if found is None:
        found = _per_engine.setdefault(engine, _Marks())
    return found


def mark(key: Key, value: Any = True, *, under: Key | None = None) -> None:
    """``key`` was found exhausted now, with what the domain needs to word its refusal
    (``value``, never None); ``under``: forgetting that key forgets this one too."""
    assert value is not None
    _marks().marks[key] = (time.monotonic(), value, under)


def forget(key: Key) -> None:
    """Units of ``key`` came back (in this process): forget it and what is filed under it."""
    memory = _marks()
    if not memory.marks:
        return  # the common case, on every sale: nothing marked, nothing to take
    with memory.lock:
        memory.marks.pop(key, None)
        for other in [k for k, (_, _, under) in memory.marks.items() if under == key]:
            memory.marks.pop(other, None)


def known(key: Key) -> bool:
    """Whether ``key`` is marked and the mark is not older than the recheck."""
    found = _marks().marks.get(key)
    return found is not None and time.monotonic() - found[0] < RECHECK_SECONDS


def age(key: Key, seconds: float) -> None:
    """Make the mark of ``key`` older by ``seconds`` (what the tests use instead of waiting)."""
    memory = _marks()
    with memory.lock:
        found = memory.marks.get(key)
        if found is not None:
            memory.marks[key] = (found[0] - seconds, found[1], found[2])


def refuse(key: Key, recheck: Callable[[], Any]) -> Any:
    """The value marked with ``key`` if a request on it may be refused from memory, else
    None. A fresh mark: its value. A stale one: the first request to find it re-reads the
    truth with ``recheck()`` (the others meanwhile answer from the mark, renewed for that),
    which returns the new value, or None when units are there (the mark is forgotten).
    No mark: None."""
    memory = _marks()
    found = memory.marks.get(key)
    if found is None:
        return None
    since, value, under = found
    now = time.monotonic()
    if now - since < RECHECK_SECONDS:
        return value
    with memory.lock:
        current = memory.marks.get(key)
        if current != found:  # another request is checking it (or it was forgotten)
            return None if current is None else current[1]
        memory.marks[key] = (now, value, under)
    fresh = recheck()
    with memory.lock:
        if fresh is None:
            memory.marks.pop(key, None)
        elif key in memory.marks:
            memory.marks[key] = (now, fresh, under)
    return fresh


# ---------------------------------------------------------------- gated routes


@dataclass(frozen=True)
class GatedRoute:
    """A route the gate may answer: ``decide(match, body)`` returns the refusal to give, or
    None to let the request through. ``body``: the JSON object of the request (``{}`` when
    there is none or it is not an object), read only when ``reads_body``."""

    method: str
    pattern: re.Pattern[str]
    decide: Callable[[re.Match[str], dict[str, Any]], DomainError | None]
    reads_body: bool = False


_routes: dict[tuple[str, str], GatedRoute] = {}


def gate_route(
    method: str,
    pattern: str,
    decide: Callable[[re.Match[str], dict[str, Any]], DomainError | None],
    *,
    reads_body: bool = False,
) -> None:
    """Register (or replace) a route the gate answers from memory."""
    _routes[(method, pattern)] = GatedRoute(method, re.compile(pattern), decide, reads_body)


def gated_routes() -> list[GatedRoute]:
    return list(_routes.values())
