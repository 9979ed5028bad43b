"""Recommendations over a database, on both backends: nothing recommended is unorderable
(over seeded worlds of live, sold-out, paused, closed and other communities' offers), the
cold start's sources, the versions (the newest good model served, a failed training keeps
the old one, the last few kept), the worker's schedule, and the API."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api, scalar
from tests.pools.support import (
    Item,
    Person,
    SeededLeader,
    execute,
    problem,
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_sku_of,
    seed_wave,
)
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.recommend import rules

ADDRESS = {"name": "收货人", "phone": "13900000000", "line": "幸福里 1 号"}


@dataclass
class World:
    here: SeededLeader
    there: SeededLeader
    locals: list[Person]  # members of ``here``
    outsider: Person  # in ``there`` only
    loner: Person  # in no community, no history
    campaigns: list[int] = field(default_factory=list)
    listings: list[int] = field(default_factory=list)  # listings of ``here``


def _campaign(sku_id: int, *, stock: int = 100, **extra: Any) -> int:
    from tuangou.teams import service as teams

    return run_in_transaction(
        lambda s: (
            teams.create_campaign(
                s,
                teams.CampaignInput(
                    sku_id=sku_id,
                    title=f"拼团 {sku_id}",
                    starts_at=clock.now() - timedelta(minutes=1),
                    ends_at=clock.now() + timedelta(days=2),
                    tiers=[(2, 800)],
                    stock=stock,
                    **extra,
                ),
            ).id
        )
    )


def _buy_alone(member: Person, campaign_id: int) -> int:
    from tuangou.payments import service as payments
    from tuangou.teams import service as teams

    def buy(s: Any) -> int:
        solo = teams.buy_alone(s, user_id=member.user_id, campaign_id=campaign_id, address=ADDRESS)
        assert payments.sandbox_pay_now(s, solo.started.payment) == "paid"
        return int(solo.order.id)

    return run_in_transaction(buy)


def build(seed: int) -> World:
    """A seeded world: two communities; products on team buys (some sold out, paused or
    limited) and on waves (open, closed, sold-out items, another community's); members
    with histories of their own."""
    rnd = random.Random(seed)
    op = seed_operator()
    here, there = seed_leader(op.user_id, "李团长"), seed_leader(op.user_id, "王团长")
    locals_ = seed_members(here, 6)
    (outsider,) = seed_members(there, 1)
    loner = run_in_transaction(lambda s: _loner(s))
    world = World(here, there, locals_, outsider, loner)
    supplier, first = seed_sku(title="商品0")
    skus = [first, *(seed_sku_of(supplier, title=f"商品{n}") for n in range(1, 10))]
    for n, sku in enumerate(skus[:5]):
        state = rnd.choice(["live", "live", "sold_out", "paused", "limited"])
        cid = _campaign(sku, stock=1 if state == "sold_out" else 100, per_member_limit=1)
        world.campaigns.append(cid)
        if state == "sold_out":
            _buy_alone(locals_[n % 6], cid)
        elif state == "paused":
            from tuangou.teams import service as teams

            run_in_transaction(lambda s, c=cid: teams.set_campaign_status(s, c, "paused"))
        elif state == "limited":
            _buy_alone(locals_[0], cid)  # member 0 used their one unit
    wave_skus = skus[5:]
    for n in range(3):
        chosen = rnd.sample(wave_skus, 2)
        stocks = [rnd.choice([1, 50]) for _ in chosen]
        wave, listing, items = seed_wave(
            here,
            [Item(s, stock=q, per_member_limit=3) for s, q in zip(chosen, stocks, strict=True)],
        )
        world.listings.append(listing)
        for item, q in zip(items, stocks, strict=True):
            buyer = locals_[rnd.randrange(6)]
            seed_paid_order(buyer, listing, {item: q if q == 1 else 1})
        if n == 2 and rnd.random() < 0.7:
            execute("UPDATE waves SET cutoff_at = :t WHERE id = :w", t=clock.now(), w=wave)
    seed_wave(there, [Item(wave_skus[0])])  # another community's: never for ``here``
    # Histories: each local member bought a few things on open waves.
    for member in locals_:
        listing = world.listings[rnd.randrange(2)]
        items = read(lambda s, li=listing: _items(s, li))
        if items:
            seed_paid_order(member, listing, {rnd.choice(items): 1})
    return world


def _loner(s: Any) -> Person:
    from tuangou.accounts import service as accounts

    user = accounts.create_user(s, phone="16999999999", password=None, nickname="新人")
    return Person(user.id, accounts.issue_token(user), "16999999999")


def _items(s: Any, listing_id: int) -> list[int]:
    from tuangou.pools import service as pools

    wave_id = pools.get_listing(s, listing_id).wave_id
    return [i.id for i in pools.items_of(s, wave_id) if i.sold + i.held < i.stock]


def rows_of(user_id: int, **kw: Any) -> Any:
    from tuangou.recommend import service as recommend

    return read(lambda s: recommend.recommend(s, user_id, **kw))


def assert_orderable(user_id: int, found: Any) -> None:
    """Each recommendation is orderable by this member now (read from the tables, as a
    witness), and none is a product of their own active order."""
    now = clock.now()
    active = {
        r
        for (r,) in _sql(
            "SELECT s.product_id FROM orders o JOIN skus s ON s.id = o.sku_id WHERE o.user_id = :u"
            " AND o.status IN ('pending_payment','paid','confirmed','shipped','arrived')"
            " UNION SELECT s.product_id FROM orders o JOIN wave_order_lines l ON l.order_id = o.id"
            " JOIN skus s ON s.id = l.sku_id WHERE o.user_id = :u"
            " AND o.status IN ('pending_payment','paid','confirmed','shipped','arrived')",
            u=user_id,
        )
    }
    for r in found.items:
        offer = r.offer
        assert offer.product_id not in active
        if offer.kind == "campaign":
            status, live, free, limit = _sql(
                "SELECT status, starts_at <= :now AND ends_at > :now,"
                " stock - sold - held - reserved, per_member_limit FROM team_campaigns"
                " WHERE id = :c",
                c=offer.ref_id,
                now=now,
            )[0]
            used = scalar(
                "SELECT quantity FROM campaign_usage WHERE campaign_id = :c AND user_id = :u",
                c=offer.ref_id,
                u=user_id,
            )
            assert status == "active" and live and free > 0
            assert (used or 0) < limit
        else:
            wave_status, before_cutoff, community = _sql(
                "SELECT w.status, w.cutoff_at > :now, l.community_id FROM wave_listings l"
                " JOIN waves w ON w.id = l.wave_id WHERE l.id = :l",
                l=offer.ref_id,
                now=now,
            )[0]
            assert wave_status == "open" and before_cutoff
            assert scalar(
                "SELECT count(*) FROM community_members WHERE community_id = :c AND user_id = :u",
                c=community,
                u=user_id,
            )
            open_items = _sql(
                "SELECT i.id FROM wave_items i JOIN skus s ON s.id = i.sku_id"
                " WHERE i.wave_id = :w AND s.product_id = :p AND i.status = 'open'"
                " AND i.sold + i.held < i.stock",
                w=offer.wave_id,
                p=offer.product_id,
            )
            assert open_items
            # And the member can really order it (rolled back).
            _really_order(user_id, offer.ref_id, int(open_items[0][0]))


class _Rollback(Exception):
    pass


def _really_order(user_id: int, listing_id: int, item_id: int) -> None:
    from tuangou.pools import service as pools

    def place(s: Any) -> None:
        pools.place_order(s, user_id=user_id, listing_id=listing_id, quantities={item_id: 1})
        raise _Rollback()

    with pytest.raises(_Rollback):
        run_in_transaction(place)


def _sql(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from tests.conftest import rows

    return rows(sql, **params)


def test_nothing_recommended_is_unorderable(db: str) -> None:
    from tuangou.recommend import service as recommend

    world = build(1)
    people = [*world.locals, world.outsider, world.loner]
    for who in people:
        assert_orderable(who.user_id, rows_of(who.user_id))
    assert recommend.train().status == "good"
    for who in people:
        found = rows_of(who.user_id)
        assert_orderable(who.user_id, found)
        # Another community's wave is never offered.
        if who in world.locals:
            assert all(
                r.offer.kind == "campaign" or r.offer.ref_id in world.listings for r in found.items
            )
    assert any(rows_of(w.user_id).items for w in world.locals)
    # After an order: the order's products are left out, the rest is as orderable.
    member = world.locals[3]
    order_id = scalar(
        "SELECT id FROM orders WHERE user_id = :u ORDER BY id DESC LIMIT 1", u=member.user_id
    )
    in_order = {
        p
        for (p,) in _sql(
            "SELECT s.product_id FROM wave_order_lines l JOIN skus s ON s.id = l.sku_id"
            " WHERE l.order_id = :o",
            o=order_id,
        )
    }
    found = rows_of(member.user_id, context=rules.Context.AFTER_ORDER, order_id=order_id)
    assert not in_order & {r.offer.product_id for r in found.items}
    assert_orderable(member.user_id, found)


def test_cold_start_then_the_newest_good_model_and_a_failed_training_keeps_it(db: str) -> None:
    from tuangou.recommend import service as recommend

    world = build(3)
    # Cold start: no model yet; the community's popularity, or everyone's for a loner.
    before = rows_of(world.locals[1].user_id)
    assert (before.source, before.model_version) == ("community_popularity", None)
    assert rows_of(world.loner.user_id).source == "popularity"
    assert (recommend.train().version, rows_of(world.locals[1].user_id).source) == (1, "model")
    # The model does not know a member without purchases: back to popularity.
    cold = rows_of(world.loner.user_id)
    assert (cold.source, cold.model_version) == ("popularity", 1)
    member = world.locals[2].user_id
    assert recommend.train().version == 2
    assert rows_of(member).model_version == 2

    def boom(*_: Any) -> Any:
        raise RuntimeError("the trainer fell over")

    failed = recommend.train(fit=boom)
    assert (failed.version, failed.status) == (3, "failed")
    assert "fell over" in failed.error
    assert scalar("SELECT factors FROM recommend_models WHERE version = 3") is None
    assert rows_of(member).model_version == 2
    # Failures keep coming: the newest good one is kept even past the last few versions.
    for _ in range(rules.KEEP_VERSIONS + 1):
        recommend.train(fit=boom)
    kept = [v for (v,) in _sql("SELECT version FROM recommend_models ORDER BY version")]
    assert 2 in kept and len(kept) == rules.KEEP_VERSIONS + 1
    assert rows_of(member).model_version == 2
    good = recommend.train()
    assert rows_of(member).model_version == good.version
    kept = [v for (v,) in _sql("SELECT version FROM recommend_models ORDER BY version")]
    assert kept == list(range(good.version - rules.KEEP_VERSIONS + 1, good.version + 1))
    row = _sql(
        "SELECT algorithm, members, items, interactions, trained_at FROM recommend_models"
        " WHERE version = :v",
        v=good.version,
    )[0]
    assert row[0] == "als" and row[1] >= 2 and row[2] >= 2 and row[3] >= row[1]


def test_too_little_data_is_a_failed_version(db: str) -> None:
    from tuangou.recommend import service as recommend

    done = recommend.train()
    assert done.status == "failed" and "too little data" in done.error
    assert rows_of(seed_operator().user_id).model_version is None


def test_the_worker_trains_on_its_schedule(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuangou.core.config import reset_settings
    from tuangou.recommend import tasks

    assert tasks.train_due() == 0  # the tests' default: never by the worker
    monkeypatch.setenv("TUANGOU_RECOMMEND_TRAIN_HOURS", "24")
    reset_settings()
    try:
        assert tasks.train_due() == 1
        assert tasks.train_due() == 0  # not due again for a day
        clock.set_offset(timedelta(hours=25))
        assert tasks.train_due() == 1
    finally:
        monkeypatch.delenv("TUANGOU_RECOMMEND_TRAIN_HOURS")
        reset_settings()
    # (nothing bought yet: each run is a failed version, recorded all the same)
    assert scalar("SELECT count(*) FROM recommend_models") == 2


def test_the_api(db: str, api: Api) -> None:
    from tuangou.recommend import service as recommend

    world = build(7)
    recommend.train()
    member = world.locals[4]
    r = api.c.get("/api/recommendations", headers=member.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["context"] == "home" and body["source"] == "model" and body["model_version"] == 1
    assert body["items"], body
    for item in body["items"]:
        assert item["link"] in ({f"/c/{item['campaign_id']}", f"/w/{item['listing_id']}"})
        assert item["reason_text"] in {zh for _, zh in rules.REASON_WORDS.values()}
        assert isinstance(item["price"], int)
    problem(
        api.c.get("/api/recommendations?context=sideways", headers=member.headers),
        422,
        "invalid_input",
    )
    own = scalar("SELECT id FROM orders WHERE user_id = :u LIMIT 1", u=member.user_id)
    r = api.c.get(
        f"/api/recommendations?context=after_order&order_id={own}", headers=member.headers
    )
    assert r.status_code == 200 and r.json()["context"] == "after_order"
    other = scalar("SELECT id FROM orders WHERE user_id <> :u LIMIT 1", u=member.user_id)
    r = api.c.get(
        f"/api/recommendations?context=after_order&order_id={other}", headers=member.headers
    )
    assert r.status_code == 404, r.text
    assert api.c.get("/api/recommendations").status_code == 401
