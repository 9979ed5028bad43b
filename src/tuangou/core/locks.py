"""The one lock order of the platform, written down once.

Every write path that changes more than one row takes its row locks in this order, and,
inside one rank, in ascending id. Two transactions that lock rows in the same order can wait
for each other but never deadlock: that is the whole point. The order:

====  ==========  ==========================================================================
rank  name        rows
====  ==========  ==========================================================================
1     PAYMENT     payment attempts (``payments``)
2     GROUP       a team (``teams``); its seats are changed only by whoever holds it
2b    BARGAIN     a bargain (``bargains``): its price, cuts and helps
3     ORDER       orders (``orders``)
4     LIMIT       a member's counter in a campaign or a wave item (``campaign_usage``,
                  ``wave_usage``, ``bargain_usage``)
5     STOCK       the units of a team or bargain campaign (``team_campaigns``,
                  ``bargain_campaigns``), an event's seats (``events``): the hottest row, so it
                  comes last in a join and a confirmation and is held only to the commit
6     ITEM        the units of a wave item (``wave_items``)
7     SKU         a SKU's physical stock and allocation (``skus``)
8     COUNTER     a wave listing's chain-number counter (``wave_listings``)
9     MEMBER      a member's account (``users``): taken by a new order last (is the account
                  still open?) and by the account's deletion alone
====  ==========  ==========================================================================

So a join takes its team's seat, then the member's limit, then the campaign's stock; a
confirmation takes its payments, then their teams, then their orders, then the campaigns'
stock; releasing an unpaid order takes its team, the order, the member's limit, the stock;
leaving and settling take the team, then every order of the team, the members' limits and the
campaign, up front, before they change any of them. Rows a transaction inserts are its own
and take no place in the order. Rows guarded by a lock above them (a team's seats, and its
orders while it is live, are changed only by whoever holds the team) may be taken in any order
under it.

Two helpers route the paths through this order:

* :func:`lock` takes row locks up front (``SELECT … ORDER BY id FOR UPDATE`` on PostgreSQL;
  nothing on SQLite, whose writers take turns on one database lock);
* :func:`note` says that the next guarded statement locks rows of a rank (a guarded UPDATE
  locks the rows it changes).

With ``TUANGOU_CHECK_LOCK_ORDER`` on (the tests turn it on), both check the order on every
call and raise :class:`LockOrderViolation` when a path takes a lock below one it already
holds. A lock taken again is always fine. Off (the default), they cost nothing.

Retries after a deadlock or a serialization failure are counted in
:mod:`tuangou.core.db` (:func:`~tuangou.core.db.retry_count`); the concurrency tests on
PostgreSQL demand zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from sqlalchemy import Column, ColumnElement, Table, select
from sqlalchemy.orm import QueryableAttribute, Session

from tuangou.core.config import get_settings


class Rank(IntEnum):
    PAYMENT = 1
    GROUP = 2
    BARGAIN = 3  # (2b in the table above: after a team, before an order)
    ORDER = 4
    LIMIT = 5
    STOCK = 6
    ITEM = 7
    SKU = 8
    COUNTER = 9
    MEMBER = 10


class LockOrderViolation(AssertionError):
    """A path took a row lock below one it already held (a deadlock waiting to happen)."""


_HELD = "tuangou.locks.held"
_SETUP = "tuangou.locks.setup"
_TOP = "tuangou.locks.top"
Lock = tuple[Rank, int]


def checking() -> bool:
    return get_settings().check_lock_order


def note(
    session: Session, rank: Rank, keys: int | Iterable[int], *, under: Lock | None = None
) -> None:
    """Record that the caller is about to lock the rows ``keys`` of ``rank`` (checked mode).

    ``under`` names a lock the caller already holds that guards these rows: every path that
    locks them takes it first (the orders of a live team, under the team). Such rows may be
    taken in any order while it is held."""
    if not get_settings().check_lock_order or session.info.get(_SETUP):
        return
    wanted = sorted({keys} if isinstance(keys, int) else set(keys))
    held: set[tuple[int, int]] = session.info.setdefault(_HELD, set())
    if under is not None:
        parent = (int(under[0]), int(under[1]))
        if parent not in held:
            raise LockOrderViolation(
                f"{rank.name} {wanted} locked under {under[0].name} {under[1]}, not held"
            )
        held.update((int(rank), int(key)) for key in wanted)
        return
    top: tuple[int, int] | None = session.info.get(_TOP)
    for key in wanted:
        item = (int(rank), int(key))
        if item in held:
            continue
        if top is not None and item < top:
            raise LockOrderViolation(
                f"{rank.name} {key} locked after {Rank(top[0]).name} {top[1]}"
                " (see tuangou.core.locks for the order)"
            )
        held.add(item)
        top = item
    session.info[_TOP] = top


def lock(
    session: Session,
    rank: Rank,
    column: Column[int] | QueryableAttribute[int],
    keys: Iterable[int],
    *criteria: ColumnElement[bool],
    under: Lock | None = None,
) -> None:
    """Lock the rows of ``column``'s table whose ``column`` is in ``keys`` (and that meet
    ``criteria``), in ascending order, before changing any of them. On PostgreSQL this is a
    ``SELECT … FOR UPDATE``; on SQLite nothing (the write lock covers every row)."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    note(session, rank, wanted, under=under)
    if session.get_bind().dialect.name == "sqlite":
        return
    col = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
    tbl = col.table
    assert isinstance(tbl, Table)
    pk = next(iter(tbl.primary_key.columns))
    session.execute(
        select(pk)
        .where(col.in_(wanted), *criteria)
        .order_by(col, pk)
        .with_for_update()
        .execution_options(synchronize_session=False)
    ).all()


def setup(session: Session) -> None:
    """Say that this transaction is set-up work doing many use cases one after the other
    (the demo data, a test's fixtures), not one use case: the order binds each use case,
    so it is not checked here. Never for a request or a job."""
    session.info[_SETUP] = True


def reset(session: Session) -> None:
    """Forget what the session holds (its transaction ended)."""
    session.info.pop(_HELD, None)
    session.info.pop(_TOP, None)
