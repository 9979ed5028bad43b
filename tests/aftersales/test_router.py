"""After-sales over HTTP: report with photos, decide, refund through the ledger."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from tests.aftersales.conftest import Flow, arrive, pick_up, png
from tests.conftest import _auth, audit_violations, rows, run_worker
from tests.pools.support import changed_tables, problem, scalar, snapshot
from tuangou.core import clock


def test_report_with_photos_and_accept_before_pickup_refunds_from_escrow(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)  # 3 apples + 2 pears = 46.00
    neighbour, _ = flow.order(leader, wave, "张大爷", apples=1, pears=0)
    flow.settle()
    photos = [png(1), png(2)]
    ids = []
    for data in photos:
        r = flow.upload(member, data)
        assert r.status_code == 201, r.text
        # Stored as a cleaned JPEG (no metadata), whatever the upload was.
        assert r.json()["content_type"] == "image/jpeg"
        ids.append(r.json()["id"])
    # Not at the pickup point yet: nothing to report on.
    problem(
        flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 1}], ids),
        409,
        "aftersale_not_eligible",
    )
    arrive(order_id)
    r = flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 1}], ids)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "open"
    assert case["amount_requested"] == 1000
    assert [line["quantity"] for line in case["lines"]] == [1]
    assert case["lines"][0]["title"].startswith("苹果")
    assert [p["n"] for p in case["photos"]] == [1, 2]

    # The photos come back to the member and to the leader: the same pictures, re-encoded.
    for who in (member, leader, flow.op):
        for n, data in enumerate(photos, start=1):
            r = flow.c.get(case["photos"][n - 1]["url"], headers=_auth(who))
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "image/jpeg"
            got = Image.open(io.BytesIO(r.content)).convert("L").getpixel((0, 0))
            want = Image.open(io.BytesIO(data)).convert("L").getpixel((0, 0))
            assert isinstance(got, int) and isinstance(want, int) and abs(got - want) <= 2
    # Another member of the same community sees neither the case nor its photos.
    problem(
        flow.c.get(f"/api/aftersales/{case['id']}", headers=_auth(neighbour)),
        404,
        "aftersale_not_found",
    )
    problem(
        flow.c.get(case["photos"][0]["url"], headers=_auth(neighbour)), 404, "aftersale_not_found"
    )
    assert flow.c.get("/api/aftersales", headers=_auth(neighbour)).json() == []
    # The member sees it; the leader finds it in their list with who reported it.
    mine = flow.c.get("/api/aftersales", headers=_auth(member)).json()
    assert [c["id"] for c in mine] == [case["id"]]
    run_worker()  # delivers the notifications
    assert flow.inbox_kinds(leader).count("aftersale.opened") == 1
    theirs = flow.c.get("/api/leader/aftersales", headers=_auth(leader)).json()
    assert [c["id"] for c in theirs] == [case["id"]]
    detail = flow.c.get(f"/api/aftersales/{case['id']}", headers=_auth(leader)).json()
    assert detail["member"]["nickname"] == "李阿姨" and "****" in detail["member"]["phone"]
    assert detail["can_decide"] is True

    # Another leader cannot decide it; nor can the member.
    other = flow.leader("赵团长")
    problem(
        flow.c.post(f"/api/aftersales/{case['id']}/accept", headers=_auth(other)),
        404,
        "aftersale_not_found",
    )
    problem(
        flow.c.post(f"/api/aftersales/{case['id']}/accept", headers=_auth(member)),
        403,
        "not_case_decider",
    )

    before = flow.order_view(member, order_id)
    r = flow.c.post(f"/api/aftersales/{case['id']}/accept", headers=_auth(leader))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["refund_mode"] == "escrow"
    assert r.json()["amount_refunded"] == 1000
    after = flow.order_view(member, order_id)
    assert after["refunded_amount"] == before["refunded_amount"] + 1000
    assert after["in_escrow"] == before["in_escrow"] - 1000
    assert after["status"] == "arrived"
    assert [x["reason"] for x in after["refunds"]] == ["after_sale"]
    # Exactly once: a second decision is refused and refunds nothing.
    for path in ("accept", "reject"):
        problem(
            flow.c.post(
                f"/api/aftersales/{case['id']}/{path}",
                json={"reason": "再来"},
                headers=_auth(flow.op),
            ),
            409,
            "aftersale_decided",
        )
    assert flow.order_view(member, order_id)["refunded_amount"] == after["refunded_amount"]
    run_worker()  # delivers the notifications
    assert "aftersale.accepted" in flow.inbox_kinds(member)
    # The pickup then releases only what is left in escrow; commission on what was kept.
    pick_up(order_id)
    commission = flow.c.get("/api/leader/commission", headers=_auth(leader)).json()
    assert commission["frozen"] == (4600 - 1000) // 10
    assert audit_violations() == []


def test_accept_after_pickup_reverses_the_leaders_commission(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    leader_id = leader["leader_id"]
    frozen = f"leader_frozen:{leader_id}"
    ledger_frozen = "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE account = :a"
    assert scalar(ledger_frozen, a=frozen) == 460  # 10% of 46.00
    r = flow.report(member, order_id, [{"item_id": wave["pear"], "quantity": 1}], kind="missing")
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["amount_requested"] == 800
    # An operator accepts part of it.
    problem(
        flow.c.post(
            f"/api/aftersales/{case['id']}/accept", json={"amount": 801}, headers=_auth(flow.op)
        ),
        409,
        "refund_exceeds_paid",
    )
    r = flow.c.post(
        f"/api/aftersales/{case['id']}/accept", json={"amount": 600}, headers=_auth(flow.op)
    )
    assert r.status_code == 200, r.text
    assert r.json()["refund_mode"] == "reversal"
    assert r.json()["amount_refunded"] == 600
    order = flow.order_view(member, order_id)
    assert order["status"] == "completed"
    assert order["refunded_amount"] == 600
    # The leader gives back the commission on 6.00 of 46.00: 460 × 600 / 4600 = 60.
    assert scalar(ledger_frozen, a=frozen) == 400
    assert scalar("SELECT reversed_amount FROM commissions WHERE order_id = :o", o=order_id) == 60
    commission = flow.c.get("/api/leader/commission", headers=_auth(leader)).json()
    assert commission["frozen"] == 400
    assert commission["history"][0]["reversed_amount"] == 60
    assert audit_violations() == []


def test_reject_with_a_reason_frees_the_units_for_a_new_report(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    lines = [{"item_id": wave["apple"], "quantity": 3}]
    case = flow.report(member, order_id, lines).json()
    # All three apples are claimed by the open case: no more can be claimed.
    problem(
        flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 1}]),
        409,
        "refund_exceeds_paid",
    )
    problem(
        flow.c.post(
            f"/api/aftersales/{case['id']}/reject", json={"reason": " "}, headers=_auth(leader)
        ),
        422,
        "invalid_input",
    )
    r = flow.c.post(
        f"/api/aftersales/{case['id']}/reject",
        json={"reason": "照片看不出破损"},
        headers=_auth(leader),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["reject_reason"] == "照片看不出破损"
    assert r.json()["amount_refunded"] == 0
    problem(
        flow.c.post(f"/api/aftersales/{case['id']}/accept", headers=_auth(leader)),
        409,
        "aftersale_decided",
    )
    run_worker()
    inbox = flow.c.get("/api/notifications", headers={**_auth(member), "Accept-Language": "en"})
    rejected = [n for n in inbox.json()["items"] if n["kind"] == "aftersale.rejected"]
    assert len(rejected) == 1 and "照片看不出破损" in rejected[0]["body"]
    assert flow.order_view(member, order_id)["refunded_amount"] == 0
    # Rejected, the units can be reported again (with better photos).
    r = flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 2}])
    assert r.status_code == 201, r.text
    assert audit_violations() == []


def test_the_window_closes_seven_days_after_pickup(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    clock.advance(timedelta(days=6))
    photos = flow.photo_ids(member, 2)
    clock.advance(timedelta(days=1, hours=1))
    before = flow.order_view(member, order_id)
    problem(
        flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 1}], photos),
        409,
        "aftersale_window_closed",
    )
    assert flow.order_view(member, order_id) == before
    assert flow.c.get("/api/aftersales", headers=_auth(member)).json() == []
    assert audit_violations() == []


def test_amounts_above_what_can_be_refunded_are_refused(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    _, stranger_order = flow.order(leader, wave, "张大爷", apples=1, pears=0)
    flow.settle()
    arrive(order_id)
    arrive(stranger_order)
    apple = wave["apple"]
    photos = flow.photo_ids(member, 2)
    before = snapshot()
    for lines, extra, status, code in (
        ([{"item_id": apple, "quantity": 4}], {}, 409, "refund_exceeds_paid"),  # bought 3
        ([{"item_id": apple, "quantity": 1}], {"amount": 1001}, 409, "refund_exceeds_paid"),
        ([{"item_id": 999999, "quantity": 1}], {}, 422, "invalid_input"),
        ([{"item_id": None, "quantity": 1}], {}, 422, "invalid_input"),
    ):
        problem(flow.report(member, order_id, lines, photos, **extra), status, code)
    problem(
        flow.report(member, stranger_order, [{"item_id": apple, "quantity": 1}], photos),
        404,
        "order_not_found",
    )
    assert changed_tables(before, snapshot()) == []  # no refusal changed anything
    r = flow.report(member, order_id, [{"item_id": apple, "quantity": 1}], photos, amount=500)
    assert r.status_code == 201, r.text
    assert r.json()["amount_requested"] == 500
    pick_up(order_id)
    pick_up(stranger_order)
    assert audit_violations() == []


def test_photos_are_checked_and_belong_to_their_uploader(flow: Flow, photo_dir) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    other, _ = flow.order(leader, wave, "张大爷", apples=1, pears=0)
    flow.settle()
    arrive(order_id)
    problem(flow.upload(member, b"not an image at all"), 422, "photo_invalid")
    problem(flow.upload(member, png(), content_type="text/plain"), 422, "photo_invalid")
    problem(flow.upload(member, png(), content_type="image/jpeg"), 422, "photo_invalid")
    too_big = png() + b"\0" * (5 * 1024 * 1024)
    problem(flow.upload(member, too_big), 422, "photo_invalid")
    problem(
        flow.c.post("/api/uploads", content=png(), headers={"Content-Type": "image/png"}),
        401,
        "unauthenticated",
    )
    assert not any(p.is_file() for p in photo_dir.rglob("*"))  # nothing refused was kept
    lines = [{"item_id": wave["apple"], "quantity": 1}]
    problem(flow.report(member, order_id, lines, photos=[]), 422, "invalid_input")
    problem(
        flow.report(member, order_id, lines, photos=flow.photo_ids(member, 7)), 422, "invalid_input"
    )
    theirs = flow.photo_ids(other)
    problem(flow.report(member, order_id, lines, photos=theirs), 422, "photo_invalid")
    mine = flow.photo_ids(member)
    problem(flow.report(member, order_id, lines, photos=mine + mine), 422, "photo_invalid")
    assert flow.report(member, order_id, lines, photos=mine).status_code == 201
    # A photo is attached once.
    problem(flow.report(member, order_id, lines, photos=mine), 422, "photo_invalid")
    # Stored under random names, never the client's.
    stored = [p.name for p in photo_dir.rglob("*") if p.is_file()]
    assert stored and all(len(name) == 36 and name.endswith(".jpg") for name in stored)
    pick_up(order_id)
    assert audit_violations() == []


def test_operators_see_a_queue_oldest_first_with_ages(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    first, first_order = flow.order(leader, wave)
    second, second_order = flow.order(leader, wave, "张大爷")
    flow.settle()
    arrive(first_order)
    arrive(second_order)
    older = flow.report(first, first_order, [{"item_id": wave["apple"], "quantity": 1}]).json()
    clock.advance(timedelta(hours=2))
    newer = flow.report(second, second_order, [{"item_id": wave["pear"], "quantity": 1}]).json()
    problem(flow.c.get("/api/admin/aftersales", headers=_auth(leader)), 403, "forbidden")
    queue = flow.c.get("/api/admin/aftersales", headers=_auth(flow.op)).json()
    assert [c["id"] for c in queue] == [older["id"], newer["id"]]
    assert queue[0]["age_seconds"] > queue[1]["age_seconds"]
    flow.c.post(
        f"/api/aftersales/{older['id']}/reject", json={"reason": "不符合"}, headers=_auth(flow.op)
    )
    queue = flow.c.get("/api/admin/aftersales", headers=_auth(flow.op)).json()
    assert [c["id"] for c in queue] == [newer["id"]]
    everything = flow.c.get("/api/admin/aftersales?status=all", headers=_auth(flow.op)).json()
    assert {c["id"] for c in everything} == {older["id"], newer["id"]}


def test_a_member_rates_their_pickup_once(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    other, _ = flow.order(leader, wave, "张大爷")
    flow.settle()
    arrive(order_id)
    url = f"/api/wave-orders/{order_id}/rating"
    problem(flow.c.post(url, json={"stars": 5}, headers=_auth(member)), 409, "pickup_not_completed")
    pick_up(order_id)
    problem(flow.c.post(url, json={"stars": 6}, headers=_auth(member)), 422, "invalid_input")
    problem(flow.c.post(url, json={"stars": 5}, headers=_auth(other)), 404, "order_not_found")
    r = flow.c.post(url, json={"stars": 4, "comment": "团长很热情"}, headers=_auth(member))
    assert r.status_code == 201, r.text
    assert r.json()["stars"] == 4
    problem(flow.c.post(url, json={"stars": 1}, headers=_auth(member)), 409, "already_rated")
    assert flow.c.get(url, headers=_auth(leader)).json()["comment"] == "团长很热情"
    problem(flow.c.get(url, headers=_auth(other)), 404, "order_not_found")


def test_a_leader_never_decides_their_own_claim(flow: Flow) -> None:
    """A leader who bought in their own wave, picked up and filed a claim cannot accept it
    (and refund themselves out of the supplier's share): it goes to the operators."""
    leader = flow.leader()
    wave = flow.wave(leader)
    placed = flow.waves.order(leader, wave["listing"], {wave["apple"]: 4})
    order_id = int(placed["order"]["id"])
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    r = flow.report(leader, order_id, [{"item_id": wave["apple"], "quantity": 4}])
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["can_decide"] is False
    refunds = scalar("SELECT COUNT(*) FROM refunds")
    for verb in ("accept", "reject"):
        body = {"reason": "不是我的问题"} if verb == "reject" else {}
        problem(
            flow.c.post(f"/api/aftersales/{case['id']}/{verb}", json=body, headers=_auth(leader)),
            403,
            "own_case",
        )
    assert scalar("SELECT COUNT(*) FROM refunds") == refunds
    assert scalar("SELECT status FROM aftersale_cases WHERE id = :i", i=case["id"]) == "open"
    # Not in the leader's queue; in the operators', where it is decided.
    mine = flow.c.get("/api/leader/aftersales", headers=_auth(leader)).json()
    assert case["id"] not in [c["id"] for c in mine]
    theirs = flow.c.get("/api/admin/aftersales", headers=_auth(flow.op)).json()
    assert case["id"] in [c["id"] for c in theirs]
    r = flow.c.post(f"/api/aftersales/{case['id']}/accept", json={}, headers=_auth(flow.op))
    assert r.status_code == 200, r.text
    [(role, claimant)] = rows(
        "SELECT u.role, c.user_id FROM aftersale_cases c JOIN users u ON u.id = c.decided_by"
        " WHERE c.id = :i",
        i=case["id"],
    )
    assert role == "operator" and claimant == int(leader["user_id"])
    assert audit_violations() == []
