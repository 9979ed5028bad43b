"""The whole life of a wave after cut-off, over HTTP: ship, receive, codes, verify, money.

Escrow holds each member's money until their pickup is verified; then the supplier, the
leader's commission (10% by default, frozen for the after-sale window) and the fee are paid.
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Api, audit_violations, run_worker
from tests.fulfilment.conftest import (
    Scenario,
    auth,
    balance,
    build,
    problem,
    rows,
    scalar,
    settle,
)
from tuangou.core import clock


def test_lifecycle_two_communities_from_shipment_to_commission_withdrawal(api: Api) -> None:
    s = build(api)
    w = s.w
    li, zhang, wang = (s.member(n) for n in ("李阿姨", "张大爷", "王奶奶"))
    # Before the cut-off nothing can be shipped or received.
    problem(w.ship(s.wave_id), 409, "wave_not_settled")
    problem(w.receive(s.a, s.wave_id), 409, "wave_not_settled")
    settle(s)
    assert audit_violations() == []

    # The supplier's manifest for A's pickup point: 跟团号, masked names, items, remarks.
    r = w.c.get(
        f"/api/supplier/waves/{s.wave_id}/manifests/{s.a['pickup_point_id']}", headers=w.supplier
    )
    assert r.status_code == 200, r.text
    manifest = r.json()
    assert manifest["pickup_point"]["name"] == "幸福里 3 栋便利店"
    assert manifest["pickup_point"]["address"] == "幸福里 3 栋便利店 1 楼"
    assert [(o["seq"], o["name"], o["remark"]) for o in manifest["orders"]] == [
        (1, "李*姨", "放门口"),
        (2, "张*爷", ""),
    ]
    assert [(i["title"], i["quantity"]) for i in manifest["orders"][1]["items"]] == [
        ("烟台苹果 1份", 1),
        ("砀山梨 1份", 1),
    ]
    assert [(t["title"], t["quantity"]) for t in manifest["totals"]] == [
        ("烟台苹果 1份", 3),
        ("砀山梨 1份", 1),
    ]
    assert li["phone"] not in r.text and zhang["phone"] not in r.text

    # The supplier ships to A only: A's orders are shipped, B's still confirmed.
    r = w.ship(s.wave_id, [s.a["pickup_point_id"]])
    assert r.status_code == 200, r.text
    assert [(x["pickup_point_id"], x["orders_shipped"]) for x in r.json()["shipments"]] == [
        (s.a["pickup_point_id"], 2)
    ]
    assert [w.order_status(s.orders[n]) for n in ("李阿姨", "张大爷", "王奶奶")] == [
        "shipped",
        "shipped",
        "confirmed",
    ]
    # Before arrival the member sees where to collect, but no code yet.
    view = w.pickup(li, s.orders["李阿姨"])
    assert view["status"] == "not_arrived" and view["code"] is None
    assert view["pickup_point"]["name"] == "幸福里 3 栋便利店"
    assert view["pickup_point"]["map_url"].startswith("geo:31.2304,121.4737?q=")

    # Leader A confirms receipt: codes issued and the members told, in both languages.
    r = w.receive(s.a, s.wave_id)
    assert r.status_code == 200, r.text
    assert r.json()["orders_arrived"] == 2 and r.json()["received_at"]
    problem(w.receive(s.a, s.wave_id), 409, "already_received")  # exactly once
    run_worker()  # the outbox delivers the notifications
    codes = {n: w.code(s.member(n), s.orders[n]) for n in ("李阿姨", "张大爷")}
    assert all(len(c) == 6 and c.isdigit() for c in codes.values())
    assert codes["李阿姨"] != codes["张大爷"]
    view = w.pickup(li, s.orders["李阿姨"])
    assert view["status"] == "waiting" and view["order_status"] == "arrived"
    assert view["pickup_point"]["opening_hours"] == "9:00-21:00"
    assert [(i["title"], i["quantity"]) for i in view["items"]] == [("烟台苹果 1份", 2)]
    zh = [n for n in w.inbox(li) if n["kind"] == "pickup.arrived"]
    assert len(zh) == 1
    assert f"已到货, 提货码 {codes['李阿姨']}" in zh[0]["body"]
    assert "幸福里 3 栋便利店" in zh[0]["body"] and "1 楼" in zh[0]["body"]
    en = [n for n in w.inbox(li, "en") if n["kind"] == "pickup.arrived"]
    assert f"Arrived; pickup code {codes['李阿姨']}" in en[0]["body"]
    # Nobody else's code is shown to a member.
    problem(
        w.c.get(f"/api/wave-orders/{s.orders['李阿姨']}/pickup", headers=auth(zhang)),
        404,
        "order_not_found",
    )

    # Leader B receives goods the supplier never marked shipped: confirmed → arrived.
    r = w.receive(s.b, s.wave_id)
    assert r.status_code == 200, r.text
    assert w.order_status(s.orders["王奶奶"]) == "arrived"
    codes["王奶奶"] = w.code(wang, s.orders["王奶奶"])
    # Shipping everything now skips both points: their goods are already there.
    r = w.ship(s.wave_id)
    assert r.status_code == 200, r.text
    assert {x["skipped"] for x in r.json()["shipments"]} == {"received"}

    # The counter's list before anyone came: two uncollected, last four digits only.
    r = w.c.get(
        f"/api/leader/pickup-points/{s.a['pickup_point_id']}/pickups",
        params={"wave_id": s.wave_id},
        headers=auth(s.a),
    )
    assert r.status_code == 200, r.text
    day = r.json()
    assert day["counts"] == {"collected": 0, "uncollected": 2, "closed": 0}
    assert [(x["seq"], x["name"], x["phone_last4"]) for x in day["uncollected"]] == [
        (1, "李*姨", li["phone"][-4:]),
        (2, "张*爷", zhang["phone"][-4:]),
    ]
    assert li["phone"] not in r.text and codes["李阿姨"] not in r.text

    # Nothing released yet: every fen still in escrow.
    assert balance(f"supplier_payable:{w.supplier_id}") == 0
    for name, order_id in s.orders.items():
        assert balance("escrow", order_id) == s.kept[name]

    # Verify every code at its own pickup point.
    for name, leader in (("李阿姨", s.a), ("张大爷", s.a), ("王奶奶", s.b)):
        r = w.verify(leader, codes[name])
        assert r.status_code == 200, r.text
        assert r.json()["result"] == "valid"
        assert w.order_status(s.orders[name]) == "completed"
    problem(w.verify(s.a, codes["李阿姨"]), 409, "pickup_code_used")
    run_worker()
    assert any(n["kind"] == "pickup.completed" and "已提货" in n["title"] for n in w.inbox(li))

    r = w.c.get(
        f"/api/leader/pickup-points/{s.a['pickup_point_id']}/pickups",
        params={"wave_id": s.wave_id},
        headers=auth(s.a),
    )
    assert r.json()["counts"] == {"collected": 2, "uncollected": 0, "closed": 0}
    assert w.pickup(li, s.orders["李阿姨"])["status"] == "picked_up"

    # Escrow released: the supplier gets 90%, each leader 10% of what their members kept.
    kept_a = s.kept["李阿姨"] + s.kept["张大爷"]  # 3500
    kept_b = s.kept["王奶奶"]  # 2700
    for order_id in s.orders.values():
        assert balance("escrow", order_id) == 0
    assert balance(f"leader_frozen:{s.a['leader_id']}") == kept_a // 10 == 350
    assert balance(f"leader_frozen:{s.b['leader_id']}") == kept_b // 10 == 270
    assert balance(f"supplier_payable:{w.supplier_id}") == (kept_a + kept_b) * 9 // 10 == 5580
    assert audit_violations() == []

    # The commission is frozen through the after-sale window, then available.
    mine = w.c.get("/api/leader/commission", headers=auth(s.a)).json()
    assert (mine["frozen"], mine["available"], mine["withdrawn"]) == (350, 0, 0)
    assert sorted(c["order_id"] for c in mine["history"]) == sorted(
        [s.orders["李阿姨"], s.orders["张大爷"]]
    )
    r = w.c.post("/api/leader/withdrawals", json={"amount": 1}, headers=auth(s.a))
    problem(r, 409, "withdrawal_exceeds_available")
    clock.advance(timedelta(days=7, minutes=1))
    run_worker()
    mine = w.c.get("/api/leader/commission", headers=auth(s.a)).json()
    assert (mine["frozen"], mine["available"], mine["withdrawn"]) == (0, 350, 0)
    r = w.c.post("/api/leader/withdrawals", json={"amount": 351}, headers=auth(s.a))
    problem(r, 409, "withdrawal_exceeds_available")
    r = w.c.post("/api/leader/withdrawals", json={"amount": 300}, headers=auth(s.a))
    assert r.status_code == 201, r.text
    r = w.c.post(f"/api/admin/withdrawals/{r.json()['id']}/approve", headers=w.op)
    assert r.status_code == 200, r.text
    mine = w.c.get("/api/leader/commission", headers=auth(s.a)).json()
    assert (mine["frozen"], mine["available"], mine["withdrawn"]) == (0, 50, 300)
    assert balance(f"leader_available:{s.a['leader_id']}") == 50
    assert audit_violations() == []


def test_verify_answers_valid_used_wrong_point_and_unknown(scenario: Scenario) -> None:
    s, w = scenario, scenario.w
    for leader in (s.a, s.b):
        assert w.receive(leader, s.wave_id).status_code == 200
    li_code = w.code(s.member("李阿姨"), s.orders["李阿姨"])
    wang_code = w.code(s.member("王奶奶"), s.orders["王奶奶"])

    r = w.verify(s.a, li_code)
    assert r.status_code == 200, r.text
    valid = r.json()
    assert valid["result"] == "valid" and valid["name"] == "李*姨" and valid["seq"] == 1
    assert valid["items"] == [{"title": "烟台苹果 1份", "quantity": 2}]

    used = problem(w.verify(s.a, li_code), 409, "pickup_code_used")
    assert used["detail"] == f"已提货 {used['picked_up_local']}"
    assert used["picked_up_at"] == valid["picked_up_at"]
    assert len(used["picked_up_local"]) == 5 and used["picked_up_local"][2] == ":"

    wrong = problem(w.verify(s.a, wang_code), 409, "wrong_pickup_point")
    assert wrong["detail"] == "不是本提货点的订单"
    assert wrong["pickup_point"]["name"] == "阳光花园快递站"
    assert w.order_status(s.orders["王奶奶"]) == "arrived"  # nothing happened to it

    taken = {c for (c,) in rows("SELECT code FROM pickups")}
    unknown = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in taken)
    problem(w.verify(s.a, unknown), 404, "pickup_code_unknown")
    short = problem(w.verify(s.a, "12345"), 422, "pickup_code_length")
    assert (short["detail"], short["digits"]) == ("提货码是 6 位数字", 6)
    problem(w.verify(s.a, "12ab"), 422, "pickup_code_length")
    # Spaces a leader typed are fine.
    zhang_code = w.code(s.member("张大爷"), s.orders["张大爷"])
    r = w.verify(s.a, f"{zhang_code[:3]} {zhang_code[3:]}")
    assert r.status_code == 200 and r.json()["seq"] == 2

    # The day's list without a wave: what waits here, and what was collected today.
    r = w.c.get(f"/api/leader/pickup-points/{s.a['pickup_point_id']}/pickups", headers=auth(s.a))
    assert r.status_code == 200, r.text
    assert [x["seq"] for x in r.json()["collected"]] == [1, 2]
    assert r.json()["uncollected"] == []
    # Only the leader owning the pickup point verifies there; members cannot at all.
    problem(w.verify(s.b, wang_code, point=s.a["pickup_point_id"]), 404, "pickup_point_not_found")
    problem(
        w.verify(s.member("李阿姨"), wang_code, point=s.b["pickup_point_id"]), 403, "not_a_leader"
    )
    assert w.order_status(s.orders["王奶奶"]) == "arrived"
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'picked_up'") == 2
    assert audit_violations() == []


def test_who_may_ship_receive_and_read_manifests(scenario: Scenario, api: Api) -> None:
    s, w = scenario, scenario.w
    _, other_supplier = api.supplier(w.op, name="别家农场")
    problem(w.ship(s.wave_id, who=other_supplier), 404, "wave_not_found")
    problem(
        w.c.get(
            f"/api/supplier/waves/{s.wave_id}/manifests/{s.a['pickup_point_id']}",
            headers=other_supplier,
        ),
        404,
        "wave_not_found",
    )
    problem(
        w.c.get(
            f"/api/supplier/waves/{s.wave_id}/manifests/{s.a['pickup_point_id']}",
            headers=auth(s.a),
        ),
        403,
        "forbidden",
    )
    r = w.c.get(f"/api/supplier/waves/{s.wave_id}/manifests/{s.b['pickup_point_id']}", headers=w.op)
    assert r.status_code == 200 and [o["seq"] for o in r.json()["orders"]] == [1]
    problem(w.ship(s.wave_id, [999999]), 404, "pickup_point_not_in_wave")
    problem(w.ship(s.wave_id, [999999], who=auth(s.a)), 403, "forbidden")
    # Leader B cannot confirm receipt at A's pickup point.
    problem(w.receive(s.b, s.wave_id, point=s.a["pickup_point_id"]), 404, "pickup_point_not_found")
    for order_id in s.orders.values():
        assert w.order_status(order_id) == "confirmed"
    assert scalar("SELECT COUNT(*) FROM shipments") == 0
    # Shipping twice ships once.
    assert w.ship(s.wave_id).json()["shipments"][0]["orders_shipped"] == 2
    again = w.ship(s.wave_id).json()["shipments"]
    assert [x["orders_shipped"] for x in again] == [0, 0]
    r = w.c.get(f"/api/supplier/waves/{s.wave_id}/shipments", headers=w.supplier)
    assert [x["shipped_at"] is not None for x in r.json()] == [True, True]
    assert scalar("SELECT COUNT(*) FROM shipments") == 2
    assert audit_violations() == []


def test_the_audit_sees_a_pickup_that_disagrees_with_its_order(scenario: Scenario) -> None:
    """The audit's fulfilment check is not blind: a pickup marked collected while its order
    was never completed (escrow never released) is reported."""
    from tests.api import execute

    s, w = scenario, scenario.w
    assert w.receive(s.a, s.wave_id).status_code == 200
    assert audit_violations() == []
    execute("UPDATE pickups SET status = 'picked_up' WHERE order_id = :id", id=s.orders["李阿姨"])
    found = audit_violations()
    assert any(f"order {s.orders['李阿姨']} is arrived" in v for v in found), found
