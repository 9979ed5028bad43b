"""The pickup counter's camera and lookup, over HTTP on both backends, on the demo's data:
a picture of a member's QR (as the counter's script or its photo field sends it) is decoded
on the server and verified as a typed code; codes of the wrong length get their own message;
a member who lost their code is found by phone tail and name and handed their order."""

from __future__ import annotations

import io
import re

import segno
from fastapi.testclient import TestClient

from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, rows, scalar
from tests.web.test_leader_pages import (
    LEADER,
    MEMBER,
    leader_ids,
    pickup_result,
    verify,
    waiting_codes,
)
from tests.web.test_leader_pages import web as web  # the demo's data, a page client

_LOOKUP_ORDER = re.compile(r'name="order_id" value="(\d+)"')


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def send_picture(
    client: TestClient, point: int, image: bytes, *, script: bool = False
) -> tuple[int, str]:
    """POST a picture to the counter as the photo field (or, ``script``, the camera's
    script) does: the scan form's CSRF token and one-time key, the picture as a file."""
    fields = form_of(client, f"/leader/pickup?point={point}", "once", need_key=True)
    headers = {"Accept": "application/json"} if script else {}
    reply = client.post(
        "/leader/pickup/scan",
        data={**fields, "pickup_point_id": str(point)},
        files={"image": ("frame.jpg", image, "image/png")},
        headers=headers,
        follow_redirects=False,
    )
    return reply.status_code, reply.text if script else reply.headers.get("location", "")


def test_a_photo_of_the_qr_is_decoded_and_verified(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    code, nickname = waiting_codes(point)[0]
    log_in(web, LEADER)
    status, location = send_picture(web, point, qr_png(code))
    assert (status, location) == (303, f"/leader/pickup?point={point}")
    kind, words = pickup_result(web.get(location).text)
    assert kind == "ok", words
    assert words.startswith(f"✓ {nickname[0]}*{nickname[-1]} · ")
    assert f"提货码 {code}" in words
    assert scalar("SELECT status FROM pickups WHERE code = :c", c=code) == "picked_up"
    assert scalar("SELECT verified_how FROM pickups WHERE code = :c", c=code) == "scan"


def test_the_cameras_frames_are_answered_in_json_until_one_shows_a_qr(web: TestClient) -> None:
    from PIL import Image

    point = leader_ids(LEADER)["point"]
    code, _ = waiting_codes(point)[0]
    log_in(web, LEADER)
    blank = io.BytesIO()
    Image.new("L", (320, 240), 200).save(blank, format="JPEG")
    status, text = send_picture(web, point, blank.getvalue(), script=True)
    assert status == 200 and '"found":false' in text.replace(" ", ""), text
    assert "二维码" in text  # the reason, in the leader's language
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'waiting'") == 4
    status, text = send_picture(web, point, qr_png(code), script=True)
    assert status == 200 and '"found":true' in text.replace(" ", ""), text
    page = web.get(f"/leader/pickup?point={point}").text
    assert pickup_result(page)[0] == "ok"
    assert scalar("SELECT status FROM pickups WHERE code = :c", c=code) == "picked_up"


def test_a_picture_without_a_code_and_codes_of_the_wrong_length_are_red(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    log_in(web, LEADER)
    status, location = send_picture(web, point, b"not a picture")
    assert status == 303
    assert pickup_result(web.get(location).text) == ("bad", "✗ 无法识别这张图片：请重新拍摄")
    for typed in ("12345", "1234567", "12ab"):
        assert verify(web, typed, point) == ("bad", f"✗ 提货码是 6 位数字 提货码 {typed}")
    status, location = send_picture(web, point, qr_png("1234"))
    assert pickup_result(web.get(location).text) == ("bad", "✗ 提货码是 6 位数字 提货码 1234")
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'waiting'") == 4


def test_the_counter_offers_the_camera_without_loading_code_from_elsewhere(
    web: TestClient,
) -> None:
    point = leader_ids(LEADER)["point"]
    log_in(web, LEADER)
    page = web.get(f"/leader/pickup?point={point}").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert all(src.startswith("/static/") for src in scripts), scripts
    assert any(src.startswith("/static/scan.js") for src in scripts)
    assert 'id="scan-form"' in page and 'capture="environment"' in page
    script = web.get("/static/scan.js")
    assert script.status_code == 200
    assert "BarcodeDetector" in script.text and "getUserMedia" in script.text
    assert "http" not in script.text  # nothing fetched from another origin


def test_a_member_who_lost_the_code_is_found_and_handed_over(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    ((order_id, nickname, phone),) = rows(
        "SELECT o.id, u.nickname, u.phone FROM pickups p JOIN orders o ON o.id = p.order_id"
        " JOIN users u ON u.id = o.user_id WHERE p.pickup_point_id = :point"
        " AND p.status = 'waiting' ORDER BY p.id LIMIT 1",
        point=point,
    )
    log_in(web, LEADER)
    tail = str(phone)[-4:]
    page = web.get(f"/leader/pickup?point={point}&phone_tail={tail}&name={nickname[:1]}").text
    assert _LOOKUP_ORDER.findall(page) == [str(order_id)]
    assert f"{nickname[0]}*{nickname[-1]}" in page
    none = web.get(f"/leader/pickup?point={point}&phone_tail={tail}&name=不存在的名字").text
    assert 'id="lookup-none"' in none and not _LOOKUP_ORDER.findall(none)
    bad = web.get(f"/leader/pickup?point={point}&phone_tail=12").text
    assert "请输入手机尾号 4 位数字" in bad and not _LOOKUP_ORDER.findall(bad)
    fields = form_of(web, f"/leader/pickup?point={point}", "once", need_key=True)
    reply = web.post(
        "/leader/pickup/hand-over",
        data={**fields, "pickup_point_id": str(point), "order_id": str(order_id)},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    counter = web.get(reply.headers["location"]).text
    assert pickup_result(counter)[0] == "ok"
    assert "查找核销" in counter  # the collected list says how it was handed over
    how = scalar("SELECT verified_how FROM pickups WHERE order_id = :o", o=order_id)
    assert how == "lookup"
    # Chosen again: the code's own answer, already picked up.
    again = web.post(
        "/leader/pickup/hand-over",
        data={**fields, "once": "x", "pickup_point_id": str(point), "order_id": str(order_id)},
        follow_redirects=False,
    )
    assert pickup_result(web.get(again.headers["location"]).text)[0] == "bad"


def test_members_cannot_use_the_counters_scan_or_hand_over(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    code, _ = waiting_codes(point)[0]
    log_in(web, MEMBER)
    token = form_of(web, "/me")["csrf_token"]
    for path, extra in (
        ("/leader/pickup/scan", {}),
        ("/leader/pickup/hand-over", {"order_id": "1"}),
    ):
        reply = web.post(
            path,
            data={"csrf_token": token, "pickup_point_id": str(point), **extra},
            files={"image": ("f.png", qr_png(code), "image/png")} if "scan" in path else None,
            follow_redirects=False,
        )
        assert reply.status_code in (403, 404), (path, reply.status_code)
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'waiting'") == 4
