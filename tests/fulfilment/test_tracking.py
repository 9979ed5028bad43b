"""Delivery tracking of a wave's goods to a pickup point: the supplier ships with the carrier
and tracking number (已发货), the manual carrier moves it by hand to 运输中 and 已到达, forward
only; a polled carrier is asked by the worker; members see the steps of their order.
Arrival is the carrier's word: the leader's receipt stays its own step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import run_worker
from tests.fulfilment.conftest import Scenario, auth, problem, rows
from tuangou.core import clock
from tuangou.fulfilment import rules
from tuangou.fulfilment import service as fulfilment
from tuangou.fulfilment.rules import TrackingStatus


def _step(s: Scenario, point: int, status: str, who: dict[str, str] | None = None) -> object:
    return s.w.c.post(
        f"/api/supplier/waves/{s.wave_id}/pickup-points/{point}/tracking/steps",
        json={"status": status},
        headers=who or s.w.supplier,
    )


def _ship(s: Scenario, point: int, carrier: str = "顺丰速运", number: str = "SF100") -> None:
    r = s.w.c.post(
        f"/api/supplier/waves/{s.wave_id}/shipments",
        json={"pickup_point_ids": [point], "carrier": carrier, "tracking_no": number},
        headers=s.w.supplier,
    )
    assert r.status_code == 200, r.text


def _number(s: Scenario, point: int, carrier: str, number: str, who: dict[str, str]) -> Any:
    return s.w.c.put(
        f"/api/supplier/waves/{s.wave_id}/pickup-points/{point}/tracking",
        json={"carrier": carrier, "tracking_no": number},
        headers=who,
    )


def _tracking(s: Scenario, name: str) -> dict[str, object]:
    r = s.w.c.get(f"/api/wave-orders/{s.orders[name]}/tracking", headers=auth(s.member(name)))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_steps_only_move_forward_and_members_see_them(scenario: Scenario) -> None:
    s, w = scenario, scenario.w
    a, b = s.a["pickup_point_id"], s.b["pickup_point_id"]
    problem(_step(s, a, "in_transit"), 409, "shipment_not_shipped")  # nothing shipped yet
    assert _tracking(s, "李阿姨")["status"] is None
    _ship(s, a)
    seen = _tracking(s, "李阿姨")
    assert (seen["status"], seen["carrier"], seen["tracking_no"]) == (
        "shipped",
        "顺丰速运",
        "SF100",
    )
    assert [st["done"] for st in seen["steps"]] == [True, False, False]  # type: ignore[union-attr]

    clock.advance(timedelta(hours=1))
    r = _step(s, a, "in_transit")
    assert r.status_code == 200, r.text
    problem(_step(s, a, "in_transit"), 409, "tracking_step_not_forward")  # not again
    body = problem(_step(s, a, "shipped"), 409, "tracking_step_not_forward")  # never back
    assert body["current"] == "in_transit"
    problem(_step(s, a, "lost"), 422, "invalid_tracking")
    problem(_step(s, b, "arrived"), 409, "shipment_not_shipped")  # B's goods not shipped
    clock.advance(timedelta(hours=1))
    assert _step(s, a, "arrived").status_code == 200
    problem(_step(s, a, "in_transit"), 409, "tracking_step_not_forward")

    seen = _tracking(s, "张大爷")
    steps = seen["steps"]
    assert [(st["status"], st["done"]) for st in steps] == [  # type: ignore[union-attr]
        ("shipped", True),
        ("in_transit", True),
        ("arrived", True),
    ]
    times = [st["at"] for st in steps]  # type: ignore[union-attr]
    assert times == sorted(times) and len(set(times)) == 3
    # Arrival is not the leader's receipt: the orders wait for it, then get their codes.
    assert seen["received_at"] is None
    assert w.order_status(s.orders["李阿姨"]) == "shipped"
    assert w.receive(s.a, s.wave_id).status_code == 200
    assert _tracking(s, "李阿姨")["received_at"] is not None
    # B's member sees nothing shipped; no one sees another's order.
    assert _tracking(s, "王奶奶")["status"] is None
    r = w.c.get(f"/api/wave-orders/{s.orders['李阿姨']}/tracking", headers=auth(s.member("王奶奶")))
    problem(r, 404, "order_not_found")
    assert rows("SELECT status, source FROM shipment_tracking_events ORDER BY id") == [
        ("shipped", "manual"),
        ("in_transit", "manual"),
        ("arrived", "manual"),
    ]

    # B's goods: another supplier is told there is no such wave; a leader may not move them;
    # the supplier corrects the number; an operator moves them on the supplier's behalf.
    _ship(s, b)
    _, other = w.api.supplier(w.op, name="别家果园")
    problem(_step(s, b, "in_transit", other), 404, "wave_not_found")
    problem(_number(s, b, "假快递", "X1", other), 404, "wave_not_found")
    problem(_step(s, b, "in_transit", auth(s.b)), 403, "forbidden")
    r = _number(s, b, "中通快递", "ZT9", w.supplier)
    assert r.status_code == 200 and r.json()["carrier"] == "中通快递", r.text
    problem(_step(s, b, "arrived", w.op), 403, "forbidden")  # not as the supplier…
    r = w.c.post(  # … but on its behalf; past 运输中: recorded at the same instant
        f"/api/admin/waves/{s.wave_id}/pickup-points/{b}/tracking/steps",
        json={"status": "arrived"},
        headers=w.op,
    )
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    assert [st["done"] for st in steps] == [True, True, True]
    assert steps[1]["at"] == steps[2]["at"]
    problem(_number(s, b, "中通快递", "ZT10", w.supplier), 409, "tracking_step_not_forward")
    assert _tracking(s, "王奶奶")["tracking_no"] == "ZT9"


class FakeCarrier:
    """A carrier whose parcels report what the test says."""

    polled = True

    def __init__(self) -> None:
        self.events: dict[str, list[fulfilment.CarrierEvent]] = {}
        self.asked: list[str] = []

    def track(self, tracking_no: str) -> list[fulfilment.CarrierEvent]:
        self.asked.append(tracking_no)
        return list(self.events.get(tracking_no, []))


@pytest.fixture
def fake() -> object:
    carrier = FakeCarrier()
    fulfilment.register_carrier("fake", carrier)
    yield carrier
    fulfilment.unregister_carrier("fake")


def test_the_worker_polls_a_carrier_and_takes_its_steps(
    scenario: Scenario, fake: FakeCarrier
) -> None:
    s = scenario
    a = s.a["pickup_point_id"]
    _ship(s, a, carrier="Fake", number="FK1")
    run_worker()
    assert fake.asked == ["FK1"] and _tracking(s, "李阿姨")["status"] == "shipped"
    moved = clock.now() + timedelta(minutes=5)
    fake.events["FK1"] = [fulfilment.CarrierEvent(TrackingStatus.IN_TRANSIT, moved, "上海分拨")]
    run_worker()
    assert fake.asked == ["FK1"]  # asked again only after the poll interval
    clock.advance(timedelta(minutes=31))
    run_worker()
    seen = _tracking(s, "李阿姨")
    assert seen["status"] == "in_transit" and seen["manual"] is False
    arrived = clock.now()
    fake.events["FK1"].append(fulfilment.CarrierEvent(TrackingStatus.ARRIVED, arrived))
    clock.advance(timedelta(minutes=31))
    run_worker()
    assert _tracking(s, "李阿姨")["status"] == "arrived"
    assert rows("SELECT status, source, note FROM shipment_tracking_events ORDER BY id") == [
        ("shipped", "manual", ""),
        ("in_transit", "carrier", "上海分拨"),
        ("arrived", "carrier", ""),
    ]
    clock.advance(timedelta(minutes=31))
    run_worker()
    assert fake.asked == ["FK1"] * 3  # arrived: never asked again

    # B's goods, shipped, never arrive: refunded after the deadline, they take no more steps.
    b = s.b["pickup_point_id"]
    _ship(s, b)
    clock.advance(timedelta(days=5))
    run_worker()
    problem(_step(s, b, "arrived"), 409, "undelivered_refunded")


def test_the_step_rules() -> None:
    T = TrackingStatus
    assert rules.tracking_steps_to(None, "shipped") == (T.SHIPPED,)
    assert rules.tracking_steps_to("shipped", "arrived") == (T.IN_TRANSIT, T.ARRIVED)
    assert rules.tracking_steps_to("in_transit", "arrived") == (T.ARRIVED,)
    for current, to in (
        (None, "arrived"),
        ("shipped", "shipped"),
        ("arrived", "in_transit"),
        ("in_transit", "shipped"),
    ):
        with pytest.raises(rules.TrackingMoveRefused):
            rules.tracking_steps_to(current, to)
    assert rules.tracking_text_problem("", "SF1") == "carrier"
    assert rules.tracking_text_problem("顺丰", " ") == "tracking_no"
    assert rules.tracking_text_problem("顺丰", "SF1") is None
