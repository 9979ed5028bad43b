"""The pickup counter's other ways in, over HTTP on both backends: a picture of the member's
QR decoded on the server (then verified exactly as a typed code), and a lookup by phone tail
and name for a member who lost their code, handed over through the same verification."""

from __future__ import annotations

import io
from typing import Any

import segno

from tests.conftest import audit_violations
from tests.fulfilment.conftest import Scenario, auth, problem, scalar


def qr_png(text: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_jpeg(text: str) -> bytes:
    from PIL import Image

    picture = Image.open(io.BytesIO(qr_png(text))).convert("RGB")
    framed = Image.new("RGB", (picture.width + 200, picture.height + 120), (200, 190, 170))
    framed.paste(picture, (120, 40))  # off-centre, on a background, as a camera frame is
    out = io.BytesIO()
    framed.save(out, format="JPEG", quality=80)
    return out.getvalue()


def scan(s: Scenario, leader: dict[str, Any], image: bytes, point: int | None = None) -> Any:
    point = leader["pickup_point_id"] if point is None else point
    return s.w.c.post(
        f"/api/leader/pickup-points/{point}/scan",
        content=image,
        headers={**auth(leader), "Content-Type": "image/jpeg"},
    )


def received(s: Scenario) -> None:
    for leader in (s.a, s.b):
        assert s.w.receive(leader, s.wave_id).status_code == 200


def test_a_scanned_qr_is_verified_as_a_typed_code(scenario: Scenario) -> None:
    s, w = scenario, scenario.w
    received(s)
    li_code = w.code(s.member("李阿姨"), s.orders["李阿姨"])
    r = scan(s, s.a, qr_jpeg(li_code))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["result"], body["code"], body["name"], body["seq"]) == (
        "valid",
        li_code,
        "李*姨",
        1,
    )
    assert w.order_status(s.orders["李阿姨"]) == "completed"
    how = scalar("SELECT verified_how FROM pickups WHERE order_id = :o", o=s.orders["李阿姨"])
    assert how == "scan"
    # The same QR again: the same answers as the typed code gets.
    used = problem(scan(s, s.a, qr_png(li_code)), 409, "pickup_code_used")
    assert used["name"] == "李*姨"
    wang_code = w.code(s.member("王奶奶"), s.orders["王奶奶"])
    problem(scan(s, s.a, qr_png(wang_code)), 409, "wrong_pickup_point")
    # A typed code is recorded as typed.
    zhang_code = w.code(s.member("张大爷"), s.orders["张大爷"])
    assert w.verify(s.a, zhang_code).status_code == 200
    how = scalar("SELECT verified_how FROM pickups WHERE order_id = :o", o=s.orders["张大爷"])
    assert how == "code"
    assert audit_violations() == []


def test_pictures_without_a_code_are_refused_and_change_nothing(scenario: Scenario) -> None:
    s, w = scenario, scenario.w
    received(s)
    problem(scan(s, s.a, b"not a picture"), 422, "pickup_scan_invalid")
    problem(scan(s, s.a, b""), 422, "pickup_scan_invalid")
    problem(scan(s, s.a, b"\xff\xd8" + b"0" * (2 * 1024 * 1024)), 422, "pickup_scan_invalid")
    blank = io.BytesIO()
    from PIL import Image

    Image.new("L", (320, 240), 255).save(blank, format="JPEG")
    problem(scan(s, s.a, blank.getvalue()), 422, "pickup_scan_unreadable")
    # A QR that holds no pickup code: the code's own message, with what was read.
    other = problem(scan(s, s.a, qr_png("hello")), 422, "pickup_code_length")
    assert other["scanned"] == "hello"
    short = problem(scan(s, s.a, qr_png("12345")), 422, "pickup_code_length")
    assert short["digits"] == 6
    # Only the leader of the pickup point scans there; a member not at all.
    li_code = w.code(s.member("李阿姨"), s.orders["李阿姨"])
    problem(
        scan(s, s.b, qr_png(li_code), point=s.a["pickup_point_id"]), 404, "pickup_point_not_found"
    )
    member = s.member("李阿姨")
    problem(scan(s, member, qr_png(li_code), point=s.a["pickup_point_id"]), 403, "not_a_leader")
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'picked_up'") == 0
    assert w.order_status(s.orders["李阿姨"]) == "arrived"


def lookup(
    s: Scenario, leader: dict[str, Any], tail: str, name: str = "", point: Any = None
) -> Any:
    point = leader["pickup_point_id"] if point is None else point
    return s.w.c.get(
        f"/api/leader/pickup-points/{point}/lookup",
        params={"phone_tail": tail, "name": name},
        headers=auth(leader),
    )


def test_a_lost_code_is_found_by_phone_tail_and_name_and_handed_over(scenario: Scenario) -> None:
    s, w = scenario, scenario.w
    received(s)
    li, zhang = s.member("李阿姨"), s.member("张大爷")
    tail = li["phone"][-4:]
    r = lookup(s, s.a, tail)
    assert r.status_code == 200, r.text
    assert [row["order_id"] for row in r.json()["rows"]] == [s.orders["李阿姨"]]
    assert r.json()["rows"][0]["name"] == "李*姨"
    assert [x["order_id"] for x in lookup(s, s.a, tail, "李").json()["rows"]] == [
        s.orders["李阿姨"]
    ]
    assert lookup(s, s.a, tail, "张").json()["rows"] == []  # the name must match too
    assert lookup(s, s.a, zhang["phone"][-4:], "张大爷").json()["rows"][0]["seq"] == 2
    # 王奶奶 collects at leader B's point: not found at A's.
    assert lookup(s, s.a, s.member("王奶奶")["phone"][-4:]).json()["rows"] == []
    problem(lookup(s, s.a, "12"), 422, "invalid_input")
    problem(lookup(s, s.a, "12ab"), 422, "invalid_input")
    problem(lookup(s, s.b, tail, point=s.a["pickup_point_id"]), 404, "pickup_point_not_found")

    def hand_over(leader: dict[str, Any], order_id: int, point: Any = None) -> Any:
        point = leader["pickup_point_id"] if point is None else point
        return w.c.post(
            "/api/leader/pickups/hand-over",
            json={"pickup_point_id": point, "order_id": order_id},
            headers=auth(leader),
        )

    # Another point's order cannot be handed over here, and a member cannot hand over.
    problem(hand_over(s.a, s.orders["王奶奶"]), 404, "pickup_not_found")
    problem(hand_over(li, s.orders["李阿姨"], s.a["pickup_point_id"]), 403, "not_a_leader")
    assert w.order_status(s.orders["王奶奶"]) == "arrived"
    r = hand_over(s.a, s.orders["李阿姨"])
    assert r.status_code == 200, r.text
    assert (r.json()["result"], r.json()["name"]) == ("valid", "李*姨")
    assert w.order_status(s.orders["李阿姨"]) == "completed"
    how = scalar("SELECT verified_how FROM pickups WHERE order_id = :o", o=s.orders["李阿姨"])
    assert how == "lookup"
    # Handed over: it no longer waits, and a second hand-over is the code's "used".
    assert lookup(s, s.a, tail).json()["rows"] == []
    problem(hand_over(s.a, s.orders["李阿姨"]), 409, "pickup_code_used")
    listed = w.c.get(
        f"/api/leader/pickup-points/{s.a['pickup_point_id']}/pickups", headers=auth(s.a)
    ).json()
    assert [x["verified_how"] for x in listed["collected"]] == ["lookup"]
    assert audit_violations() == []
