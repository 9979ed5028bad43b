"""The supplier quality record against figures computed by hand on a small world, and the
operator's thresholds that flag a supplier, on both backends.

The world (tests.fulfilment.conftest): the supplier's catalogue wave of apples and pears,
resold by leaders A and B; 李阿姨 and 张大爷 order at A, 王奶奶 at B (3 paid orders). A
second wave of the supplier nobody orders fails its MOQ. A's goods are shipped before the
delivery date and collected; B's never come (refunded as undelivered after the deadline).
李阿姨 reviews her apples 5★, 张大爷 his apples 2★ and pears 3★. After-sale cases: one
damaged (open) and one wrong (accepted) count; one missing (rejected) does not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Api, run_worker
from tests.fulfilment.conftest import Scenario, auth, build, problem, rows, settle
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.quality import errors
from tuangou.quality import service as quality


def _case(order_id: int, user_id: int, kind: str, status: str) -> None:
    with unit_of_work() as session:
        session.execute(
            text(
                "INSERT INTO aftersale_cases (order_id, user_id, order_kind, kind, description,"
                " status, amount_requested, amount_refunded, created_at)"
                " VALUES (:o, :u, 'wave', :k, '坏了', :s, 100, 0, :t)"
            ),
            {"o": order_id, "u": user_id, "k": kind, "s": status, "t": clock.now()},
        )


def _review(s: Scenario, name: str, item: int, rating: int) -> None:
    order_id = s.orders[name]
    ((line_id,),) = rows(
        "SELECT id FROM wave_order_lines WHERE order_id = :o AND item_id = :i", o=order_id, i=item
    )
    r = s.w.c.post(
        f"/api/orders/{order_id}/reviews",
        json={"line_id": line_id, "rating": rating, "text": ""},
        headers=auth(s.member(name)),
    )
    assert r.status_code == 201, r.text


def _world(api: Api) -> Scenario:
    s = build(api)
    w = s.w
    # A second wave of the supplier: nobody orders, so no item reaches its MOQ.
    w.catalogue_wave([{"sku_id": w.sku("烟台樱桃"), "price": 5000, "moq": 3, "stock": 10}])
    settle(s)
    assert w.ship(s.wave_id, [s.a["pickup_point_id"]]).status_code == 200  # before the date
    assert w.receive(s.a, s.wave_id).status_code == 200
    for name in ("李阿姨", "张大爷"):
        assert w.verify(s.a, w.code(s.member(name), s.orders[name])).status_code == 200
    _review(s, "李阿姨", s.apples, 5)
    _review(s, "张大爷", s.apples, 2)
    _review(s, "张大爷", s.pears, 3)
    li, zhang = (int(s.member(n)["user_id"]) for n in ("李阿姨", "张大爷"))
    _case(s.orders["张大爷"], zhang, "damaged", "open")
    _case(s.orders["李阿姨"], li, "wrong", "accepted")
    _case(s.orders["李阿姨"], li, "missing", "rejected")  # unfounded: not counted
    clock.advance(timedelta(days=5))  # B's delivery deadline passes: refunded, late
    run_worker()
    assert w.order_status(s.orders["王奶奶"]) == "refunded"
    return s


def _record(s: Scenario) -> dict[str, Any]:
    r = s.w.c.get(f"/api/admin/quality/suppliers/{s.w.supplier_id}", headers=s.w.op)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_record_matches_figures_computed_by_hand_and_thresholds_flag_it(api: Api) -> None:
    s = _world(api)
    _thresholds_flag_with_their_reasons(s)
    r = s.w.c.put("/api/admin/quality/thresholds", json=DEFAULTS, headers=s.w.op)
    assert r.status_code == 200, r.text
    body = _record(s)
    window = body["window"]
    assert window["orders"] == 3
    assert window["aftersale_cases"] == 2
    assert window["aftersale_rate_bps"] == 6667  # 2 / 3
    assert {r["kind"]: (r["cases"], r["rate_bps"]) for r in window["aftersale_by_reason"]} == {
        "missing": (0, 0),
        "damaged": (1, 3333),
        "wrong": (1, 3333),
    }
    assert window["reviews"] == 3
    assert window["rating"] == 3.33  # (5 + 2 + 3) / 3
    assert {d["stars"]: d["reviews"] for d in window["rating_distribution"]} == {
        1: 0,
        2: 1,
        3: 1,
        4: 0,
        5: 1,
    }
    assert (window["shipments_due"], window["shipments_on_time"]) == (2, 1)  # A on time, B late
    assert window["on_time_rate_bps"] == 5000
    assert (window["waves"], window["failed_moq_waves"]) == (2, 1)
    assert window["failed_moq_share_bps"] == 5000
    assert window["partly_failed_moq_waves"] == 0
    assert body["all_time"] == window
    # Too few of each for the default thresholds (5 orders, shipments, waves, reviews).
    assert body["flagged"] is False and body["flags"] == []

    # Past the window, the window is empty and all time keeps everything.
    r = s.w.c.put(
        "/api/admin/quality/thresholds",
        json={**_defaults(s), "window_days": 7},
        headers=s.w.op,
    )
    assert r.status_code == 200, r.text
    clock.advance(timedelta(days=8))
    body = _record(s)
    assert body["window"]["orders"] == 0 and body["window"]["reviews"] == 0
    assert body["window"]["aftersale_rate_bps"] is None and body["window"]["rating"] is None
    assert body["all_time"]["orders"] == 3 and body["all_time"]["rating"] == 3.33


DEFAULTS = {
    "window_days": 90,
    "max_aftersale_bps": 500,
    "min_rating_tenths": 40,
    "min_reviews": 5,
    "min_on_time_bps": 9000,
    "max_failed_moq_bps": 3000,
    "min_sample": 5,
}


def _defaults(s: Scenario) -> dict[str, Any]:
    r = s.w.c.get("/api/admin/quality/thresholds", headers=s.w.op)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _thresholds_flag_with_their_reasons(s: Scenario) -> None:
    w = s.w
    t = _defaults(s)
    assert t == DEFAULTS
    # Out of bounds: refused, nothing saved.
    r = w.c.put("/api/admin/quality/thresholds", json={**t, "min_rating_tenths": 60}, headers=w.op)
    problem(r, 422, "invalid_input")
    problem(w.c.put("/api/admin/quality/thresholds", json=t, headers=auth(s.a)), 403, "forbidden")
    assert _defaults(s) == t

    r = w.c.put(
        "/api/admin/quality/thresholds",
        json={**t, "min_sample": 2, "min_reviews": 3},
        headers=w.op,
    )
    assert r.status_code == 200, r.text
    body = _record(s)
    assert body["flagged"] is True
    assert [(f["reason"], f["value"], f["limit"]) for f in body["flags"]] == [
        ("aftersale_rate", 6667, 500),
        ("rating", 333, 400),
        ("on_time", 5000, 9000),
        ("failed_moq", 5000, 3000),
    ]
    # Looser thresholds: one reason left.
    r = w.c.put(
        "/api/admin/quality/thresholds",
        json={
            **t,
            "min_sample": 2,
            "min_reviews": 3,
            "max_aftersale_bps": 7000,
            "min_rating_tenths": 33,
            "min_on_time_bps": 5000,
        },
        headers=w.op,
    )
    assert r.status_code == 200, r.text
    assert [f["reason"] for f in _record(s)["flags"]] == ["failed_moq"]
    listed = w.c.get("/api/admin/quality/suppliers", headers=w.op).json()
    assert listed[0]["supplier_id"] == w.supplier_id and listed[0]["flagged"] is True

    # Leaders see the record; the supplier its own; a member nothing.
    mine = w.c.get("/api/supplier/quality", headers=w.supplier).json()
    seen = w.c.get(f"/api/leader/suppliers/{w.supplier_id}/quality", headers=auth(s.b)).json()
    assert mine["flags"] == seen["flags"] == _record(s)["flags"]
    member = auth(s.member("李阿姨"))
    r = w.c.get(f"/api/leader/suppliers/{w.supplier_id}/quality", headers=member)
    problem(r, 403, "not_a_leader")


def test_the_service_refuses_thresholds_out_of_bounds(db: str) -> None:
    for bad in (
        {"window_days": 3},
        {"max_aftersale_bps": 10001},
        {"min_rating_tenths": 9},
        {"min_sample": 0},
    ):
        chosen = quality.Thresholds(**{**vars(quality.DEFAULTS), **bad})
        try:
            run_in_transaction(lambda s, c=chosen: quality.set_thresholds(s, c, user_id=1))
        except errors.InvalidThresholds as exc:
            assert exc.extra["field"] == next(iter(bad))
        else:
            raise AssertionError(f"{bad} was saved")
        assert rows("SELECT id FROM quality_thresholds") == []
