"""A coupons world built with direct service calls: a leader's wave with a price ladder,
members of its community with points, and a catalogue."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests.pools.support import (
    Item,
    Person,
    SeededLeader,
    seed_leader,
    seed_members,
    seed_operator,
    seed_sku,
    seed_wave,
)
from tuangou.core.db import run_in_transaction

_keys = itertools.count(1)


def key() -> str:
    return f"k{next(_keys)}"


@dataclass
class World:
    leader: SeededLeader
    members: list[Person]
    wave_id: int
    listing_id: int
    item_id: int  # 1000 fen, 900 from 5 units, 800 from 10


def world(n: int = 2, *, balance: int = 1000, moq: int = 1) -> World:
    from tuangou.points import service as points

    op = seed_operator()
    _, sku = seed_sku(price=1000)
    leader = seed_leader(op.user_id)
    members = seed_members(leader, n)
    wave_id, listing_id, items = seed_wave(
        leader, [Item(sku, price=1000, moq=moq, tiers=((5, 900), (10, 800)))]
    )

    def give(session: Any) -> None:
        for m in members:
            points.award(
                session,
                user_id=m.user_id,
                reason="admin_adjust",
                key=f"seed:{m.user_id}",
                points=balance,
            )

    run_in_transaction(give)
    return World(leader, members, wave_id, listing_id, items[0])


def coupon(**kw: Any) -> int:
    from tuangou.coupons import service as coupons

    data = {
        "name": "满20减3",
        "form": "fixed",
        "amount": 300,
        "points_price": 100,
        "kinds": ("wave", "team", "bargain", "flash"),
        "stock": 100,
        "min_spend": 2000,
        "valid_days": 7,
        "per_member_limit": 5,
        **kw,
    }
    return run_in_transaction(lambda s: coupons.create(s, coupons.CouponData(**data)).id)


def buy(member: Person, coupon_id: int, k: str | None = None) -> int:
    from tuangou.coupons import service as coupons

    return run_in_transaction(
        lambda s: coupons.buy(s, user_id=member.user_id, coupon_id=coupon_id, key=k or key()).id
    )


def order(
    w: World, member: Person, quantity: int, coupon_id: int | None, *, pay: bool = True
) -> int:
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools

    def make(session: Any) -> int:
        placed = pools.place_order(
            session,
            user_id=member.user_id,
            listing_id=w.listing_id,
            quantities={w.item_id: quantity},
            coupon_id=coupon_id,
        )
        if pay:
            assert payments.sandbox_pay_now(session, placed.started.payment) == "paid"
        return placed.order.id

    return run_in_transaction(make)


HOURS_TO_CUTOFF = timedelta(hours=3, seconds=1)
