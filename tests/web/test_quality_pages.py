"""Supplier quality (品控) and delivery tracking on the pages, on the demo's data, on both
backends: the operator's record and thresholds (a bad value is refused next to its field and
saves nothing), the record on the leader's catalogue card with the flag and its reasons,
the supplier's waves with the delivery steps moved by hand, and the steps on the member's
order page and the leader's arrivals."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, rows, scalar
from tests.web.test_leader_pages import field_errors
from tests.web.test_member_pages import wave_order_of
from tuangou import demo

ZHOU = demo.NEIGHBOURS[1][0]  # 周先生: his order of the wave in transit
SECOND_LEADER = demo.LEADERS[1][0]  # its pickup point


def _thresholds(client: TestClient, **values: str) -> object:
    body = {
        **form_of(client, "/ops/quality"),
        "window_days": "90",
        "max_aftersale": "5",
        "min_rating": "4.0",
        "min_reviews": "5",
        "min_on_time": "90",
        "max_failed_moq": "30",
        "min_sample": "5",
        **values,
    }
    return client.post("/ops/quality/thresholds", data=body, follow_redirects=False)


def test_quality_and_tracking_on_the_pages(client: TestClient) -> None:
    assert demo.load()["loaded"] is True
    farm = int(scalar("SELECT id FROM suppliers WHERE name = '阳光果园合作社'"))

    # The operator: every supplier's record, not flagged by the default thresholds.
    log_in(client, demo.OPERATOR_PHONE)
    page = client.get("/ops/quality")
    assert page.status_code == 200
    card = re.search(rf'id="supplier-{farm}".*?</li>', page.text, re.S)
    assert card and "阳光果园合作社" in card.group(0) and "无品控标记" in card.group(0)
    detail = client.get(f"/ops/quality/{farm}")
    assert detail.status_code == 200 and "破损" in detail.text and "全部时间" in detail.text
    # A rating threshold above 5 stars is refused next to its field; nothing is saved.
    reply = _thresholds(client, min_rating="6")
    assert reply.status_code == 400  # type: ignore[attr-defined]
    assert list(field_errors(reply.text)) == ["min_rating"]  # type: ignore[attr-defined]
    assert rows("SELECT id FROM quality_thresholds") == []
    # Stricter thresholds flag the farm: its 4.25★ is below 4.5 over its 4 reviews.
    reply = _thresholds(client, min_rating="4.5", min_reviews="3")
    assert reply.status_code == 303  # type: ignore[attr-defined]
    assert reply.headers["location"] == "/ops/quality?done=saved#thresholds"  # type: ignore[attr-defined]
    assert rows("SELECT min_rating_tenths, min_reviews FROM quality_thresholds") == [(45, 3)]
    page = client.get("/ops/quality?done=saved").text
    card = re.search(rf'id="supplier-{farm}".*?</li>', page, re.S)
    assert card and "已标记" in card.group(0) and "评分 4.25 低于 4.5" in card.group(0)

    # The leader sees the record, flag and reason on the catalogue card before adopting.
    log_in(client, demo.LEADERS[0][0])
    catalogue = client.get("/leader/catalogue").text
    summary = re.search(rf'data-supplier="{farm}".*?</div>', catalogue, re.S)
    assert summary, catalogue[:2000]
    assert (
        "已标记" in summary.group(0) and "评分" in summary.group(0) and "售后率" in summary.group(0)
    )

    # The member's order page shows where the goods are: shipped, in transit.
    order_id = wave_order_of(ZHOU, demo.WAVE_IN_TRANSIT)
    log_in(client, ZHOU)
    order = client.get(f"/orders/{order_id}").text
    steps = re.search(r'id="delivery-tracking".*?</section>', order, re.S)
    assert steps and "SF1402785531" in steps.group(0)
    done = re.findall(r'<li class="(done)?" data-step="(\w+)"', steps.group(0))
    assert done == [("done", "shipped"), ("done", "in_transit"), ("", "arrived")]

    # The supplier moves it to 已到达 on its waves page; the leader then sees it arrived.
    log_in(client, demo.SUPPLIER_PHONE)
    waves = client.get("/supplier/waves")
    assert waves.status_code == 200 and demo.WAVE_IN_TRANSIT in waves.text
    wave_id = int(scalar("SELECT id FROM waves WHERE title = :t", t=demo.WAVE_IN_TRANSIT))
    point = int(scalar("SELECT pickup_point_id FROM shipments WHERE wave_id = :w", w=wave_id))
    step = f"/supplier/waves/{wave_id}/points/{point}/step"
    assert f'action="{step}"' in waves.text
    moved = client.post(
        step,
        data={**form_of(client, "/supplier/waves"), "status": "arrived"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    again = client.post(step, data={**form_of(client, "/supplier/waves"), "status": "in_transit"})
    assert again.status_code == 409 and "只能向前" in again.text  # never back
    assert scalar("SELECT tracking_status FROM shipments WHERE wave_id = :w", w=wave_id) == (
        "arrived"
    )
    own = client.get("/supplier/quality")
    assert own.status_code == 200 and "品控记录" in own.text and "准时发货率" in own.text
    log_in(client, SECOND_LEADER)
    today = client.get("/leader").text
    assert demo.WAVE_IN_TRANSIT in today
    arrival = re.search(r'data-step="arrived"', today)
    assert arrival and 'class="done" data-step="arrived"' in today
