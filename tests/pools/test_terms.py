"""A supplier's terms on its SKUs (floor price, maximum leader commission) bind the waves
leaders publish with them: a wave outside them is refused with a stable code and changes
nothing; a leader's own goods are exempt; only the supplier (or an operator) sets them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import _auth
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, scalar, snapshot
from tuangou.core import clock


def set_terms(waves: Waves, sku: int, floor: int, most: int, headers: Any = None) -> Any:
    return waves.c.put(
        f"/api/supplier/skus/{sku}/terms",
        json={"floor_price": floor, "max_commission_bps": most},
        headers=headers or waves.supplier,
    )


def publish(waves: Waves, leader: dict[str, Any], items: list[dict[str, Any]], **kw: Any) -> Any:
    body = {
        "community_id": leader["community_id"],
        "pickup_point_id": leader["pickup_point_id"],
        "title": "明日达",
        "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        "items": items,
        **kw,
    }
    return waves.c.post("/api/leader/waves", json=body, headers=_auth(leader))


def refused(waves: Waves, leader: dict[str, Any], items: list[dict[str, Any]], code: str,
            field: str, **kw: Any) -> dict[str, Any]:  # fmt: skip
    before = snapshot()
    body = problem(publish(waves, leader, items, **kw), 422, code, field)
    assert changed_tables(before, snapshot()) == []
    return body


def allocated(sku: int) -> int:
    return int(scalar("SELECT allocated FROM skus WHERE id = :id", id=sku))


def test_the_reported_wave_at_1_fen_and_50_percent_is_refused_and_allocates_nothing(
    waves: Waves,
) -> None:
    """The finding: a ¥19.90 SKU sold at 1 fen with a 50% commission, the supplier's stock
    allocated to it. Refused now, and the SKU's stock stays free."""
    sku = waves.sku(price=1990, title="砀山梨")
    assert set_terms(waves, sku, 1690, 1500).status_code == 200
    leader = waves.leader()
    item = {"sku_id": sku, "price": 1, "moq": 1, "stock": 500}
    body = refused(waves, leader, [item], "price_below_floor", "items[0].price",
                   commission_bps=5000)  # fmt: skip
    assert body["floor_price"] == 1690
    assert allocated(sku) == 0
    # At the floor, but the commission still above the maximum.
    body = refused(waves, leader, [{**item, "price": 1690}], "commission_above_max",
                   "commission_bps", commission_bps=5000)  # fmt: skip
    assert body["max_commission_bps"] == 1500
    # An item's own rate is held to the maximum too.
    refused(waves, leader, [{**item, "price": 1690, "commission_bps": 1501}],
            "commission_above_max", "items[0].commission_bps", commission_bps=1000)  # fmt: skip
    # Every tier is held to the floor, not only the base price.
    refused(waves, leader, [{**item, "price": 1990, "moq": 1, "tiers": [[10, 1689]]}],
            "price_below_floor", "items[0].tiers")  # fmt: skip
    assert allocated(sku) == 0
    # At the terms exactly: accepted, and the stock is allocated.
    r = publish(waves, leader, [{**item, "price": 1990, "tiers": [[10, 1690]]}],
                commission_bps=1500)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["listing"]["commission_bps"] == 1500
    assert allocated(sku) == 500


def test_new_skus_carry_default_terms_a_leader_sees_with_each_sku(waves: Waves) -> None:
    sku = waves.sku(price=1990)
    leader = waves.leader()
    choices = waves.c.get("/api/leader/skus", headers=_auth(leader))
    assert choices.status_code == 200, choices.text
    mine = next(c for c in choices.json() if c["sku_id"] == sku)
    # 70% of the single price, rounded up to a fen; the platform's default 10% commission.
    assert (mine["floor_price"], mine["max_commission_bps"], mine["own"]) == (1393, 1000, False)
    refused(waves, leader, [{"sku_id": sku, "price": 1392, "moq": 1, "stock": 5}],
            "price_below_floor", "items[0].price")  # fmt: skip
    refused(waves, leader, [{"sku_id": sku, "price": 1393, "moq": 1, "stock": 5}],
            "commission_above_max", "commission_bps", commission_bps=1001)  # fmt: skip
    ok = publish(waves, leader, [{"sku_id": sku, "price": 1393, "moq": 1, "stock": 5}])
    assert ok.status_code == 201, ok.text
    # Members, suppliers and operators are no leaders: the list is for leaders.
    assert waves.c.get("/api/leader/skus", headers=waves.supplier).status_code == 403


def test_a_leaders_own_goods_are_exempt_and_no_one_elses(waves: Waves) -> None:
    owner, other = waves.leader("自营团长"), waves.leader("别的团长")
    r = waves.c.post(
        "/api/admin/suppliers",
        json={"name": "自营小店", "leader_id": owner["leader_id"]},
        headers=waves.op,
    )
    assert r.status_code == 201, r.text
    assert r.json()["leader_id"] == owner["leader_id"]
    shop = r.json()["id"]
    r = waves.c.post(
        "/api/admin/products", json={"supplier_id": shop, "title": "自家腌菜"}, headers=waves.op
    )
    r = waves.c.post(
        f"/api/admin/products/{r.json()['id']}/skus",
        json={"name": "1罐", "price": 1990, "stock": 100},
        headers=waves.op,
    )
    sku = r.json()["id"]
    item = {"sku_id": sku, "price": 1, "moq": 1, "stock": 10}
    # Another leader is bound by the terms of the owner's goods.
    refused(waves, other, [item], "price_below_floor", "items[0].price", commission_bps=5000)
    # The owner sells their own goods as they please.
    r = publish(waves, owner, [item], commission_bps=5000)
    assert r.status_code == 201, r.text
    own = next(
        c for c in waves.c.get("/api/leader/skus", headers=_auth(owner)).json()
        if c["sku_id"] == sku
    )  # fmt: skip
    assert own["own"] is True
    # A leader runs one supplier record at most, and it must be a leader.
    before = snapshot()
    problem(waves.c.post("/api/admin/suppliers", json={"name": "第二家", "leader_id":
            owner["leader_id"]}, headers=waves.op), 409, "leader_has_supplier")  # fmt: skip
    problem(waves.c.post("/api/admin/suppliers", json={"name": "无主", "leader_id": 999_999},
            headers=waves.op), 404, "leader_not_found")  # fmt: skip
    assert changed_tables(before, snapshot()) == []


def test_terms_raised_after_the_leader_read_them_are_caught_at_publishing(waves: Waves) -> None:
    sku = waves.sku(price=2000)
    leader = waves.leader()
    seen = next(
        c for c in waves.c.get("/api/leader/skus", headers=_auth(leader)).json()
        if c["sku_id"] == sku
    )  # fmt: skip
    assert seen["floor_price"] == 1400
    # The supplier raises its floor and lowers its maximum before the leader publishes.
    assert set_terms(waves, sku, 1800, 800).status_code == 200
    item = {"sku_id": sku, "price": seen["floor_price"], "moq": 1, "stock": 10}
    refused(waves, leader, [item], "price_below_floor", "items[0].price")
    refused(waves, leader, [{**item, "price": 1800}], "commission_above_max", "commission_bps",
            commission_bps=seen["max_commission_bps"])  # fmt: skip
    assert allocated(sku) == 0
    # A wave published before a change keeps its prices; the change binds later waves.
    assert set_terms(waves, sku, 1000, 1000).status_code == 200
    assert publish(waves, leader, [{**item, "price": 1000}]).status_code == 201
    assert set_terms(waves, sku, 1900, 500).status_code == 200
    assert allocated(sku) == 10


def test_a_change_between_the_check_and_the_allocation_is_caught_by_the_guarded_write(
    waves: Waves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terms are read, checked, and checked again by the write that allocates the
    stock: a change committed in between (here, made right after the check) is refused."""
    from sqlalchemy import text
    from sqlalchemy.orm import object_session

    from tuangou.catalog import service as catalog

    sku = waves.sku(price=2000)
    leader = waves.leader()
    check = catalog.check_terms

    def check_then_raise_the_floor(found: Any, **kw: Any) -> None:
        check(found, **kw)
        session = object_session(found)
        assert session is not None
        session.execute(text("UPDATE skus SET floor_price = 1950 WHERE id = :id"), {"id": found.id})

    monkeypatch.setattr(catalog, "check_terms", check_then_raise_the_floor)
    body = problem(
        publish(waves, leader, [{"sku_id": sku, "price": 1500, "moq": 1, "stock": 10}]),
        422,
        "price_below_floor",
        "items[0].price",
    )
    assert body["floor_price"] == 1950
    monkeypatch.undo()
    assert allocated(sku) == 0
    assert scalar("SELECT floor_price FROM skus WHERE id = :id", id=sku) == 1400  # rolled back


def test_only_the_supplier_or_an_operator_sets_a_skus_terms(waves: Waves) -> None:
    sku = waves.sku(price=1990)
    _, stranger = waves.api.supplier(waves.op, name="别家果园")
    leader = waves.leader()
    before = snapshot()
    problem(set_terms(waves, sku, 1, 5000, headers=stranger), 403, "not_your_sku")
    problem(set_terms(waves, sku, 1, 5000, headers=_auth(leader)), 403, "forbidden")
    problem(waves.c.put(f"/api/supplier/skus/{sku}/terms",
                        json={"floor_price": 1, "max_commission_bps": 5000}), 401,
            "unauthenticated")  # fmt: skip
    problem(set_terms(waves, 999_999, 1, 5000), 404, "sku_not_found")
    # Bad terms: a floor above the single price or below 1 fen, a commission beyond 50%.
    problem(set_terms(waves, sku, 1991, 1000), 422, "invalid_input", "floor_price")
    problem(set_terms(waves, sku, 0, 1000), 422, "invalid_input")
    problem(set_terms(waves, sku, 1000, 5001), 422, "invalid_input")
    assert changed_tables(before, snapshot()) == []
    # The supplier reads its SKUs with their terms, and sets them.
    r = set_terms(waves, sku, 1500, 1200)
    assert r.status_code == 200, r.text
    assert (r.json()["floor_price"], r.json()["max_commission_bps"]) == (1500, 1200)
    products = waves.c.get("/api/supplier/products", headers=waves.supplier).json()
    assert [(s["id"], s["floor_price"]) for p in products for s in p["skus"]] == [(sku, 1500)]
    assert waves.c.get("/api/supplier/products", headers=stranger).json() == []
    # An operator may set them on the supplier's behalf.
    r = waves.c.put(
        f"/api/admin/skus/{sku}/terms",
        json={"floor_price": 1600, "max_commission_bps": 1100},
        headers=waves.op,
    )
    assert r.status_code == 200, r.text
    assert scalar("SELECT floor_price FROM skus WHERE id = :id", id=sku) == 1600


def test_a_suppliers_catalogue_wave_is_its_own_offer(waves: Waves) -> None:
    """A catalogue wave is the supplier's own offer (its price and the commission it pays):
    its terms bind the leaders' waves, not the supplier's."""
    sku = waves.sku(price=1000)
    assert set_terms(waves, sku, 900, 500).status_code == 200
    r = waves.c.post(
        "/api/supplier/waves",
        json={
            "title": "产地直发",
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
            "commission_bps": 1500,
            "items": [{"sku_id": sku, "price": 800, "moq": 1, "stock": 10}],
        },
        headers=waves.supplier,
    )
    assert r.status_code == 201, r.text


def test_the_upgrade_gives_existing_skus_the_default_terms(tmp_path: Any) -> None:
    """Revision 0010 backfills every SKU: 70% of its single price (rounded up to a fen) and
    a 10% maximum commission; no supplier is a leader's own."""
    import sqlite3

    from alembic import command

    from tuangou.core import migrate
    from tuangou.core.db import make_engine

    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    cfg = migrate.config()
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
    db = sqlite3.connect(path)
    db.executescript(
        """
        INSERT INTO suppliers (id, name, contact, created_at) VALUES (1, 's', '', '2026-01-01');
        INSERT INTO products (id, supplier_id, title, description, image_url, created_at)
            VALUES (1, 1, 't', '', '', '2026-01-01');
        INSERT INTO skus (id, product_id, name, price, stock, allocated, created_at) VALUES
            (1, 1, 'a', 1990, 10, 0, '2026-01-01'), (2, 1, 'b', 1, 10, 0, '2026-01-01'),
            (3, 1, 'c', 1000, 10, 0, '2026-01-01');
        """
    )
    db.commit()
    db.close()
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    db = sqlite3.connect(path)
    assert db.execute(
        "SELECT id, floor_price, max_commission_bps FROM skus ORDER BY id"
    ).fetchall() == [(1, 1393, 1000), (2, 1, 1000), (3, 700, 1000)]
    assert db.execute("SELECT leader_id FROM suppliers").fetchall() == [(None,)]
    db.close()
    engine.dispose()
