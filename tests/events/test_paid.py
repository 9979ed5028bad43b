"""Paid events, on both backends: a seat held for its payment through the one order,
payment and escrow path (the order kind ``event``), released when unpaid (the next in line
promoted with a window of their own), a late payment refunded once, refunds of a cancelled
seat and of a cancelled event made once, the fee released to the leader at check-in or at
the event's end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.communities import auth, inbox, refused
from tests.conftest import Api, audit_violations, rows, run_worker
from tests.events import make_world, seats_row
from tuangou.core import clock

FEE = 3990


def order_of(order_id: int) -> tuple[str, int, int, int]:
    (row,) = rows(
        "SELECT status, paid_amount, refunded_amount, released_amount FROM orders WHERE id = :id",
        id=order_id,
    )
    return str(row[0]), int(row[1]), int(row[2]), int(row[3])


def refunds(order_id: int) -> list[tuple[Any, ...]]:
    return rows("SELECT reason, amount FROM refunds WHERE order_id = :id ORDER BY id", id=order_id)


def test_a_paid_seat_is_held_then_confirmed_by_its_payment(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=1, fee=FEE)
    a = w.member("甲")
    r = w.sign_up(a, event["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["signup"]["status"] == "held" and body["signup"]["code"] is None
    assert body["payment"]["amount"] == FEE and body["pay_url"]
    order_id = body["signup"]["order_id"]
    assert order_of(order_id)[0] == "pending_payment"
    api.pay(body["pay_url"])
    mine = w.get(a, event["id"])["mine"]
    assert mine["status"] == "signed_up" and len(mine["code"]) == 6
    assert order_of(order_id) == ("confirmed", FEE, 0, 0)
    # The door: attendance releases the fee to the leader's own supplier record.
    assert w.check_in(event["id"], mine["code"]).status_code == 200
    status, paid, refunded, released = order_of(order_id)
    assert (status, paid, refunded, released) == ("completed", FEE, 0, FEE)
    (supplier,) = rows("SELECT supplier_id FROM events WHERE id = :id", id=event["id"])
    assert rows("SELECT leader_id FROM suppliers WHERE id = :id", id=supplier[0]) == [
        (w.leader["leader_id"],)
    ]
    run_worker()
    assert any(m["kind"] == "event.signed_up" for m in inbox(api, a))
    assert audit_violations() == []


def test_an_unpaid_hold_is_released_and_the_next_gets_a_window_and_a_late_payment_is_refunded_once(
    api: Api,
) -> None:
    w = make_world(api)
    event = w.create(seats=1, fee=FEE, hold_minutes=10)
    a, b = w.member("甲"), w.member("乙")
    first = w.sign_up(a, event["id"]).json()
    assert w.sign_up(b, event["id"]).json()["signup"]["position"] == 1
    clock.advance(timedelta(minutes=11))
    run_worker()
    run_worker()
    assert w.get(a, event["id"])["mine"]["status"] == "released"
    mine_b = w.get(b, event["id"])["mine"]
    assert mine_b["status"] == "held" and mine_b["promoted"] is True
    assert order_of(first["signup"]["order_id"])[0] == "cancelled"
    assert seats_row(event["id"]) == (1, 1)
    promoted = [m for m in inbox(api, b) if m["kind"] == "event.promoted"]
    assert len(promoted) == 1 and "¥39.90" in promoted[0]["body"]
    # A's payment arrives after the release: refunded in full, once, and A holds no seat.
    api.pay(first["pay_url"])
    run_worker()
    assert refunds(first["signup"]["order_id"]) == [("late_payment", FEE)]
    assert w.get(a, event["id"])["mine"]["status"] == "released"
    # B pays in their own window (a payment of the promoted seat's order, from the page's
    # path: a new attempt of the order).
    r = api.c.post(f"/api/orders/{mine_b['order_id']}/payments", headers=auth(b))
    assert r.status_code == 201, r.text
    api.pay(r.json()["pay_url"])
    assert w.get(b, event["id"])["mine"]["status"] == "signed_up"
    assert seats_row(event["id"]) == (1, 1)
    assert audit_violations() == []


def test_a_paid_seat_cancelled_before_closing_is_refunded_once_and_seats_the_next(
    api: Api,
) -> None:
    w = make_world(api)
    event = w.create(seats=1, fee=FEE)
    a, b = w.member("甲"), w.member("乙")
    first = w.sign_up(a, event["id"]).json()
    api.pay(first["pay_url"])
    w.sign_up(b, event["id"])
    r = w.cancel(a, event["id"])
    assert r.status_code == 200, r.text
    order_id = first["signup"]["order_id"]
    assert order_of(order_id) == ("refunded", FEE, FEE, 0)
    assert refunds(order_id) == [("cancelled_by_member", FEE)]
    refused(w.cancel(a, event["id"]), 409, "not_signed_up")
    run_worker()
    assert refunds(order_id) == [("cancelled_by_member", FEE)]
    assert w.get(b, event["id"])["mine"]["status"] == "held"
    assert audit_violations() == []


def test_cancelling_an_event_tells_everyone_and_refunds_paid_seats_once(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=2, fee=FEE)
    a, b, c = w.member("甲"), w.member("乙"), w.member("丙")
    paid = w.sign_up(a, event["id"]).json()
    api.pay(paid["pay_url"])
    unpaid = w.sign_up(b, event["id"]).json()
    w.sign_up(c, event["id"])  # waitlisted
    r = api.c.post(f"/api/leader/events/{event['id']}/cancel", headers=auth(w.leader))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    refused(
        api.c.post(f"/api/leader/events/{event['id']}/cancel", headers=auth(w.leader)),
        409,
        "event_not_editable",
    )
    from tuangou.events import tasks

    assert tasks.settle_cancelled() == 3
    assert tasks.settle_cancelled() == 0  # the job run again does nothing
    run_worker()
    assert refunds(paid["signup"]["order_id"]) == [("event_cancelled", FEE)]
    assert order_of(paid["signup"]["order_id"]) == ("refunded", FEE, FEE, 0)
    assert order_of(unpaid["signup"]["order_id"])[0] == "cancelled"
    assert refunds(unpaid["signup"]["order_id"]) == []
    assert seats_row(event["id"]) == (2, 0)
    for who in (a, b, c):
        told = [m for m in inbox(api, who) if m["kind"] == "event.cancelled"]
        assert len(told) == 1, who
    refused(w.sign_up(w.member("丁"), event["id"]), 409, "event_not_open")
    # The unpaid seat's payment, arriving now, is refunded as late, once.
    api.pay(unpaid["pay_url"])
    run_worker()
    assert refunds(unpaid["signup"]["order_id"]) == [("late_payment", FEE)]
    assert audit_violations() == []


def test_at_the_end_a_no_shows_fee_goes_to_the_leader_once(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=2, fee=FEE, start_in=timedelta(hours=3))
    a = w.member("甲")
    paid = w.sign_up(a, event["id"]).json()
    api.pay(paid["pay_url"])
    clock.advance(timedelta(hours=6))
    run_worker()
    run_worker()
    assert rows("SELECT status FROM events WHERE id = :id", id=event["id"]) == [("over",)]
    assert order_of(paid["signup"]["order_id"]) == ("completed", FEE, 0, FEE)
    refused(w.check_in(event["id"], w.get(a, event["id"])["mine"]["code"]), 409, "not_signed_up")
    assert audit_violations() == []
