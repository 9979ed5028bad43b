"""End-to-end tests over HTTP, and helpers they share.

The helpers read and write the database behind the API directly, as an independent witness
(counting rows, reading ledger balances) or to stage a fault the API cannot make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from tests.conftest import Api
from tests.conftest import rows as rows
from tests.conftest import scalar as scalar


def execute(query: str, **params: Any) -> int:
    """A raw write (to stage a fault); returns the number of rows changed."""
    from tuangou.core.db import unit_of_work

    with unit_of_work() as session:
        return int(session.execute(text(query), params).rowcount)  # type: ignore[attr-defined]


def count(table: str, where: str = "1 = 1", **params: Any) -> int:
    return int(scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", **params))


def balance(account: str, order_id: int | None = None) -> int:
    from tuangou.core.db import unit_of_work
    from tuangou.ledger import service as ledger

    with unit_of_work(readonly=True) as session:
        return ledger.balance(session, account, order_id=order_id)


def auth(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


@dataclass
class World:
    """An operator, a supplier with its staff, one campaign and some members."""

    op: dict[str, str]
    supplier_id: int
    supplier: dict[str, str]
    campaign: dict[str, Any]
    members: list[dict[str, str]] = field(default_factory=list)


def world(api: Api, members: int = 2, **campaign: Any) -> World:
    op = api.operator()
    sid, staff = api.supplier(op)
    c = api.campaign(op, sid, **campaign)
    return World(op, sid, staff, c, [api.signup(f"团员{i}") for i in range(members)])


def settled_pair(api: Api, **campaign: Any) -> tuple[World, list[int]]:
    """Two members open and fill a 2-person team, which settles at once.

    Returns the world and the two orders' ids (opener first), both ``confirmed``.
    """
    w = world(api, 2, **campaign)
    opened = api.open(w.members[0], w.campaign["id"])
    joined = api.join(w.members[1], opened["team"]["id"])
    order_ids = [opened["order"]["id"], joined["order"]["id"]]
    for who, oid in zip(w.members, order_ids, strict=True):
        assert api.order(who, oid)["status"] == "confirmed"
    return w, order_ids
