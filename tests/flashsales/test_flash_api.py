"""Flash sales over HTTP, on both backends: slots, buying, paying, refusals, releases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from tests.api import count, scalar
from tests.conftest import audit_violations, run_worker
from tests.flashsales.conftest import Flash
from tuangou.core import clock, soldout
from tuangou.core.db import get_engine
from tuangou.flashsales import service as flash_service


def test_operator_sets_slots_and_members_see_them(flash: Flash) -> None:
    start = clock.to_local(clock.now() + timedelta(hours=1))
    day = start.date().isoformat()
    body = {
        "sku_id": flash.sku_id,
        "title": "整点秒杀",
        "price": 990,
        "stock": 10,
        "per_order_cap": 1,
        "per_member_cap": 2,
        "day": day,
        "times": [start.strftime("%H:%M"), (start + timedelta(hours=4)).strftime("%H:%M")],
    }
    r = flash.api.c.post("/api/admin/flash", json=body, headers=flash.op)
    if start.hour >= 20:  # the second slot would be on the next day: one slot then
        assert r.status_code in (201, 422), r.text
        body["times"] = body["times"][:1]
        r = flash.api.c.post("/api/admin/flash", json=body, headers=flash.op)
    assert r.status_code == 201, r.text
    made = r.json()
    assert all(s["state"] == "upcoming" and s["available"] == 10 for s in made)
    assert scalar("SELECT allocated FROM skus WHERE id = :id", id=flash.sku_id) == 10 * len(made)
    member = flash.api.signup("小王")
    listed = flash.api.c.get("/api/flash", headers={"Authorization": member["Authorization"]})
    assert listed.status_code == 200
    assert {s["id"] for s in listed.json()} >= {s["id"] for s in made}
    first = listed.json()[0]
    assert first["original_price"] == 2990 and first["price"] == 990
    assert first["starts_in_seconds"] > 0
    # Bad input is refused with its field, and nothing is created.
    bad = {**body, "times": ["25:00"]}
    r = flash.api.c.post("/api/admin/flash", json=bad, headers=flash.op)
    assert r.status_code == 422 and r.json()["field"] == "times"
    r = flash.api.c.post("/api/admin/flash", json={**body, "price": 2990}, headers=flash.op)
    assert r.status_code == 422 and r.json()["field"] == "price"
    overlapping = {**body, "times": ["10:00", "10:30"]}
    r = flash.api.c.post("/api/admin/flash", json=overlapping, headers=flash.op)
    assert r.status_code == 422
    assert count("flash_slots") == len(made)
    # A member may not set slots.
    r = flash.api.c.post(
        "/api/admin/flash", json=body, headers={"Authorization": member["Authorization"]}
    )
    assert r.status_code == 403


def test_buy_pay_and_the_sale_is_confirmed_for_shipping(flash: Flash) -> None:
    slot = flash.slots(stock=3, per_member_cap=2, per_order_cap=2)
    member = flash.api.signup("小李")
    r = flash.buy(member, slot, 2)
    assert r.status_code == 201, r.text
    bought = r.json()
    assert bought["order"]["kind"] == "flash" and bought["order"]["amount"] == 1980
    assert scalar("SELECT held FROM flash_slots WHERE id = :id", id=slot) == 2
    flash.api.pay(bought["pay_url"])
    order = flash.api.order(member, bought["order"]["id"])
    assert order["status"] == "confirmed"
    assert order["address"]["line"] == "幸福里 1 号"
    got = scalar(
        "SELECT available || ',' || held || ',' || sold FROM flash_slots WHERE id = :id", id=slot
    )
    assert got == "1,0,2"
    # The per-member cap: one more unit is refused, and nothing changes.
    r = flash.buy(member, slot, 1)
    assert r.status_code == 409 and r.json()["code"] == "limit_reached"
    assert count("orders", "kind = 'flash'") == 1
    # Over the per-order cap.
    other = flash.api.signup("小赵")
    r = flash.buy(other, slot, 3)
    assert r.status_code == 409 and r.json()["code"] == "limit_reached"
    assert audit_violations() == []


def test_not_started_and_over(flash: Flash) -> None:
    slot = flash.slots(start_in=timedelta(hours=2))
    member = flash.api.signup("小周")
    r = flash.buy(member, slot)
    assert r.status_code == 409 and r.json()["code"] == "not_started"
    clock.advance(timedelta(hours=2, minutes=1))
    assert flash.buy(member, slot).status_code == 201
    clock.advance(timedelta(hours=1))
    r = flash.buy(member, slot)
    assert r.status_code == 409 and r.json()["code"] == "over"
    assert count("orders", "kind = 'flash'") == 1


def test_sold_out_is_answered_without_a_database_write(flash: Flash) -> None:
    slot = flash.slots(stock=1)
    first, second = flash.api.signup("甲"), flash.api.signup("乙")
    assert flash.buy(first, slot).status_code == 201
    r = flash.buy(second, slot)  # the database says sold out: this process remembers
    assert r.status_code == 409 and r.json()["code"] == "sold_out"
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            r = flash.buy(second, slot)
            assert r.status_code == 409 and r.json()["code"] == "sold_out"
        assert statements == []  # no write, and not even a read
        # A request with an Idempotency-Key may retry one that succeeded: the route answers
        # it (here its refusal, bound to the key).
        r = flash.buy(second, slot, key="k1")
        assert r.status_code == 409 and r.json()["code"] == "sold_out"
        assert statements != []
        statements.clear()
        # Nobody but a member is told "sold out": the route's own answers stand.
        url = f"/api/flash/{slot}/buy"
        assert flash.api.c.post(url, json={"quantity": 1}).status_code == 401
        bad = {"Authorization": "Bearer forged"}
        assert flash.api.c.post(url, json={"quantity": 1}, headers=bad).status_code == 401
        r = flash.api.c.post(url, json={"quantity": 1}, headers=flash.op)
        assert r.status_code == 403 and r.json()["code"] == "staff_account"
        statements.clear()
        # Once the mark is old, one read (and no write) checks it again.
        soldout.age(flash_service.sold_out_key(slot), 60)
        r = flash.buy(second, slot)
        assert r.status_code == 409 and r.json()["code"] == "sold_out"
        work = [s.split()[0].upper() for s in statements if not s.upper().startswith("BEGIN")]
        assert work == ["SELECT"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert scalar("SELECT COUNT(*) FROM idempotency_records WHERE key = 'k1'") == 1


def test_a_released_hold_gives_its_unit_back(flash: Flash) -> None:
    slot = flash.slots(stock=1, hold_minutes=5)
    first, second = flash.api.signup("甲"), flash.api.signup("乙")
    bought = flash.buy(first, slot).json()
    assert flash.buy(second, slot).json()["code"] == "sold_out"
    clock.advance(timedelta(minutes=6))
    run_worker()  # the orders' job releases the hold; the kind gives the unit back
    assert flash.api.order(first, bought["order"]["id"])["status"] == "cancelled"
    assert scalar("SELECT available FROM flash_slots WHERE id = :id", id=slot) == 1
    assert scalar("SELECT quantity FROM flash_usage WHERE slot_id = :s", s=slot) == 0
    # The member is told, about this flash sale (not a team buy that has the same id).
    told = flash.api.c.get("/api/notifications", headers={"Authorization": first["Authorization"]})
    assert {n["subject"] for n in told.json()["items"]} == {"秒杀 · 红富士"}
    # This process forgot its mark at the release: the unit is sold again at once.
    r = flash.buy(second, slot)
    assert r.status_code == 201, r.text
    assert audit_violations() == []


def test_another_process_learns_within_the_recheck(flash: Flash) -> None:
    slot = flash.slots(stock=1)
    assert flash.buy(flash.api.signup("甲"), slot).status_code == 201
    late = flash.api.signup("乙")
    assert flash.buy(late, slot).json()["code"] == "sold_out"
    # Units come back behind this process's back (another process released a hold).
    from tests.api import execute

    execute("UPDATE flash_slots SET available = 1, held = 0 WHERE id = :id", id=slot)
    execute("UPDATE orders SET status = 'cancelled' WHERE kind = 'flash'")
    assert flash.buy(late, slot).json()["code"] == "sold_out"  # still the mark
    soldout.age(flash_service.sold_out_key(slot), 60)  # the mark is old: the next one reads
    assert flash.buy(late, slot).status_code == 201


def test_a_late_payment_is_refunded_exactly_once(flash: Flash) -> None:
    slot = flash.slots(stock=1, hold_minutes=5)
    member = flash.api.signup("小孙")
    bought = flash.buy(member, slot).json()
    clock.advance(timedelta(minutes=6))
    run_worker()
    assert flash.api.order(member, bought["order"]["id"])["status"] == "cancelled"
    # The member pays on the gateway's page after the hold was released.
    from urllib.parse import parse_qs, urlparse

    q = {k: v[0] for k, v in parse_qs(urlparse(bought["pay_url"]).query).items()}
    pay = {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"], "outcome": "approve"}
    r = flash.api.c.post("/api/sandbox/pay", json=pay)
    assert r.status_code == 200, r.text
    run_worker()
    from tests.api import execute

    # The gateway repeats its callback: still one refund.
    execute("UPDATE sandbox_charges SET callbacks_due = 1")
    run_worker()
    refunds = scalar(
        "SELECT COUNT(*) FROM refunds WHERE order_id = :o AND reason = 'late_payment'",
        o=bought["order"]["id"],
    )
    assert refunds == 1
    order = flash.api.order(member, bought["order"]["id"])
    assert order["status"] == "cancelled"
    assert order["paid_amount"] == order["refunded_amount"] == 990
    assert scalar("SELECT sold FROM flash_slots WHERE id = :id", id=slot) == 0
    assert audit_violations() == []


def test_an_over_slot_gives_its_allocation_back(flash: Flash) -> None:
    slot = flash.slots(stock=4)
    member = flash.api.signup("小钱")
    flash.api.pay(flash.buy(member, slot).json()["pay_url"])
    assert scalar("SELECT allocated FROM skus WHERE id = :id", id=flash.sku_id) == 4
    clock.advance(timedelta(hours=2))
    run_worker()
    assert scalar("SELECT settled_at IS NOT NULL FROM flash_slots WHERE id = :id", id=slot)
    assert scalar("SELECT allocated FROM skus WHERE id = :id", id=flash.sku_id) == 0
    assert scalar("SELECT stock FROM skus WHERE id = :id", id=flash.sku_id) == 1999
    assert audit_violations() == []
