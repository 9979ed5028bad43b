"""Helpers of the wave tests: a whole-database snapshot (a refusal changes nothing), and
seeding through the services (fast set-up for the concurrency tests)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from tests.conftest import rows as rows  # re-exported for this area's tests
from tests.conftest import scalar as scalar
from tuangou.core import clock

# ---------------------------------------------------------------- reading the database


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal before and after means nothing changed."""
    from tuangou.core.db import Base, unit_of_work

    with unit_of_work(readonly=True) as session:
        return {
            t.name: sorted((tuple(r) for r in session.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def execute(sql: str, **params: Any) -> int:
    from tuangou.core.db import unit_of_work

    with unit_of_work() as session:
        return int(session.execute(text(sql), params).rowcount)  # type: ignore[attr-defined]


def problem(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 refusal with this status, code (and field)."""
    assert r.status_code == status, (r.status_code, r.text)
    body = dict(r.json())
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, body
    return body


# ---------------------------------------------------------------- seeding through the services

_phones = itertools.count(1)


def _phone() -> str:
    return f"16{next(_phones) % 10**9:09d}"


@dataclass(frozen=True)
class Person:
    user_id: int
    token: str
    phone: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class SeededLeader:
    person: Person
    leader_id: int
    pickup_point_id: int
    community_id: int
    invite_code: str


def seed_operator() -> Person:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> Person:
        phone = _phone()
        user = accounts.create_user(
            session, phone=phone, password=None, nickname="运营", role="operator"
        )
        return Person(user.id, accounts.issue_token(user), phone)

    return run_in_transaction(make)


def seed_sku(*, price: int = 1000, stock: int = 1_000_000, title: str = "苹果") -> tuple[int, int]:
    """(supplier id, sku id) of a new supplier's product."""
    from tuangou.catalog import service as catalog
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> tuple[int, int]:
        supplier = catalog.create_supplier(session, name=f"果园{_phone()}")
        product = catalog.create_product(session, supplier_id=supplier.id, title=title)
        sku = catalog.create_sku(
            session, product_id=product.id, name="1份", price=price, stock=stock
        )
        return supplier.id, sku.id

    return run_in_transaction(make)


def seed_sku_of(supplier_id: int, *, price: int = 1000, title: str = "梨") -> int:
    from tuangou.catalog import service as catalog
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> int:
        product = catalog.create_product(session, supplier_id=supplier_id, title=title)
        return catalog.create_sku(
            session, product_id=product.id, name="1份", price=price, stock=1_000_000
        ).id

    return run_in_transaction(make)


def seed_leader(operator_id: int, name: str = "王团长") -> SeededLeader:
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> SeededLeader:
        phone = _phone()
        user = accounts.create_user(session, phone=phone, password=None, nickname=name)
        application = communities.apply(
            session,
            user.id,
            communities.PickupPointInput(
                name=f"{name}的自提点", address="幸福里 3 栋", latitude=31.2, longitude=121.4
            ),
        )
        approval = communities.approve_application(session, application.id, operator_id=operator_id)
        community = communities.create_community(session, user.id, name=f"{name}的小区")
        return SeededLeader(
            Person(user.id, accounts.issue_token(user), phone),
            approval.leader.id,
            approval.pickup_point.id,
            community.id,
            community.invite_code,
        )

    return run_in_transaction(make)


def seed_members(leader: SeededLeader, n: int, *, name: str = "邻居") -> list[Person]:
    """``n`` members (no password: no slow hashing) who joined the leader's community."""
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> list[Person]:
        made = []
        for _ in range(n):
            phone = _phone()
            user = accounts.create_user(
                session, phone=phone, password=None, nickname=f"{name}{phone[-3:]}"
            )
            communities.join_by_invite(session, leader.invite_code, user.id)
            made.append(Person(user.id, accounts.issue_token(user), phone))
        return made

    return run_in_transaction(make)


@dataclass(frozen=True)
class Item:
    sku_id: int
    price: int = 1000
    moq: int = 1
    stock: int = 10_000
    per_member_limit: int = 10
    tiers: tuple[tuple[int, int], ...] = ()


def _wave_input(
    items: list[Item], cutoff_at: datetime, delivery: date | None, commission_bps: int
) -> Any:
    from tuangou.pools import service as pools

    return pools.WaveInput(
        title="明日达",
        cutoff_at=cutoff_at,
        delivery_date=delivery or (cutoff_at + timedelta(days=1)).date(),
        items=[
            pools.ItemInput(
                sku_id=i.sku_id,
                price=i.price,
                moq=i.moq,
                stock=i.stock,
                per_member_limit=i.per_member_limit,
                tiers=list(i.tiers),
            )
            for i in items
        ],
        commission_bps=commission_bps,
        hold_minutes=120,
    )


def seed_wave(
    leader: SeededLeader,
    items: list[Item],
    *,
    cutoff_at: datetime | None = None,
    delivery: date | None = None,
) -> tuple[int, int, list[int]]:
    """A leader's wave in their community: (wave id, listing id, item ids)."""
    from tuangou.core.db import run_in_transaction
    from tuangou.pools import service as pools

    cutoff = cutoff_at or clock.now() + timedelta(hours=3)

    def make(session: Any) -> tuple[int, int, list[int]]:
        wave, listing = pools.publish_wave(
            session,
            user_id=leader.person.user_id,
            community_id=leader.community_id,
            pickup_point_id=leader.pickup_point_id,
            data=_wave_input(items, cutoff, delivery, 1000),
        )
        return wave.id, listing.id, [i.id for i in pools.items_of(session, wave.id)]

    return run_in_transaction(make)


def seed_catalogue_wave(
    supplier_id: int, items: list[Item], *, cutoff_at: datetime | None = None
) -> tuple[int, list[int]]:
    from tuangou.core.db import run_in_transaction
    from tuangou.pools import service as pools

    cutoff = cutoff_at or clock.now() + timedelta(hours=3)

    def make(session: Any) -> tuple[int, list[int]]:
        wave = pools.create_catalogue_wave(
            session,
            user_id=0,
            supplier_id=supplier_id,
            data=_wave_input(items, cutoff, None, 1200),
        )
        return wave.id, [i.id for i in pools.items_of(session, wave.id)]

    return run_in_transaction(make)


def adopt(leader: SeededLeader, wave_id: int) -> int:
    from tuangou.core.db import run_in_transaction
    from tuangou.pools import service as pools

    return run_in_transaction(
        lambda s: (
            pools.adopt_wave(
                s,
                user_id=leader.person.user_id,
                wave_id=wave_id,
                community_id=leader.community_id,
                pickup_point_id=leader.pickup_point_id,
            ).id
        )
    )


def seed_paid_order(member: Person, listing_id: int, quantities: dict[int, int]) -> int:
    """An order placed and paid at once on the sandbox (its later callback is a duplicate)."""
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools

    def make(session: Any) -> int:
        placed = pools.place_order(
            session, user_id=member.user_id, listing_id=listing_id, quantities=quantities
        )
        assert payments.sandbox_pay_now(session, placed.started.payment) == "paid"
        return placed.order.id

    return run_in_transaction(make)
