"""Flash sales on the pages, on both backends, on the demo's data: members see today's slots
and buy through the form (then pay), the operator sets slots on /ops/flash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.web.pages import alerts, form_of, rows, scalar
from tests.web.pages import demo_log_in as log_in
from tuangou import demo
from tuangou.core import clock


@pytest.fixture
def web(client: TestClient) -> TestClient:
    assert demo.load()["loaded"] is True
    return client


def live_slot() -> int:
    """A slot on sale now (the demo makes one unless a fixed one is on)."""
    now = clock.now()
    found = rows(
        "SELECT id FROM flash_slots WHERE starts_at <= :now AND ends_at > :now ORDER BY id",
        now=now,
    )
    if found:
        return int(found[0][0])
    start = clock.to_local(now - timedelta(minutes=1))
    from tuangou.core.db import run_in_transaction
    from tuangou.flashsales import service as flash

    sku = int(scalar("SELECT sku_id FROM flash_slots ORDER BY id LIMIT 1"))
    (slot,) = run_in_transaction(
        lambda s: flash.create_slots(
            s,
            flash.SlotsInput(
                sku_id=sku,
                title="秒杀",
                price=990,
                stock=5,
                per_order_cap=1,
                per_member_cap=1,
                day=start.date(),
                times=[start.strftime("%H:%M")],
                minutes=5,
            ),
        )
    )
    return int(slot.id)


def test_a_member_sees_the_slots_and_buys_through_the_form(web: TestClient) -> None:
    slot = live_slot()
    log_in(web, demo.MEMBERS[4][0])
    page = web.get("/flash")
    assert page.status_code == 200
    assert demo.FLASH_TITLE in page.text and "¥9.90" in page.text
    assert f'href="/flash/{slot}"' in page.text
    page = web.get(f"/flash/{slot}")
    assert page.status_code == 200 and 'action="/flash/' in page.text
    body = {**form_of(web, f"/flash/{slot}", "key", need_key=True), "quantity": "1"}
    reply = web.post(f"/flash/{slot}/buy", data=body, follow_redirects=False)
    assert reply.status_code == 303, alerts(reply.text)
    assert reply.headers["location"].startswith("/pay/")
    # The same form sent twice (a double tap) is the same order.
    again = web.post(f"/flash/{slot}/buy", data=body, follow_redirects=False)
    assert again.headers["location"] == reply.headers["location"]
    # Another purchase passes the per-member cap: refused on the page, nothing made.
    body = {**form_of(web, f"/flash/{slot}", "key", need_key=True), "quantity": "1"}
    refused = web.post(f"/flash/{slot}/buy", data=body, follow_redirects=False)
    assert refused.status_code == 409
    assert alerts(refused.text)
    mine = scalar(
        "SELECT COUNT(*) FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE o.kind = 'flash' AND o.campaign_id = :s AND u.phone = :p",
        s=slot,
        p=demo.MEMBERS[4][0],
    )
    assert mine == 1
    # In English too.
    web.cookies.set("lang", "en")
    assert "Flash sales" in web.get("/flash").text


def test_the_operator_sets_slots_on_its_page(web: TestClient) -> None:
    log_in(web, demo.OPERATOR_PHONE)
    page = web.get("/ops/flash")
    assert page.status_code == 200 and demo.FLASH_TITLE in page.text
    sku = int(scalar("SELECT sku_id FROM flash_slots ORDER BY id LIMIT 1"))
    day = (clock.local_date(clock.now()) + timedelta(days=2)).isoformat()
    before = int(scalar("SELECT COUNT(*) FROM flash_slots"))
    form = {
        **form_of(web, "/ops/flash"),
        "sku_id": str(sku),
        "title": "周末秒杀",
        "price": "8.80",
        "stock": "10",
        "per_order_cap": "1",
        "per_member_cap": "2",
        "day": day,
        "times": "10:00, 14:00",
        "minutes": "30",
        "hold_minutes": "5",
    }
    bad = web.post("/ops/flash", data={**form, "times": "10:00, 10:15"}, follow_redirects=False)
    assert bad.status_code == 400 and alerts(bad.text)
    assert int(scalar("SELECT COUNT(*) FROM flash_slots")) == before
    done = web.post("/ops/flash", data=form, follow_redirects=False)
    assert done.status_code == 303 and "done=saved" in done.headers["location"]
    assert int(scalar("SELECT COUNT(*) FROM flash_slots")) == before + 2
