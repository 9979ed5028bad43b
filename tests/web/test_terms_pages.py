"""The supplier's terms on the pages, on both backends, on the demo's data: the supplier sets
the floor price and the maximum commission of its SKUs on its page (no other supplier can),
and the leader's wave form shows them and puts a refusal next to the field it concerns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, post, rows, scalar
from tests.web.test_leader_pages import LEADER, field_errors, leader_ids
from tuangou import demo
from tuangou.core import clock


@pytest.fixture
def web(client: TestClient) -> TestClient:
    assert demo.load()["loaded"] is True
    return client


def apples() -> int:
    return int(scalar("SELECT id FROM skus WHERE name = '3斤装'"))


def terms(sku: int) -> tuple[int, int]:
    ((floor, most),) = rows(
        "SELECT floor_price, max_commission_bps FROM skus WHERE id = :id", id=sku
    )
    return int(floor), int(most)


def save_terms(client: TestClient, sku: int, floor: str, most: str) -> Response:
    body = {**form_of(client, "/login"), "floor_price": floor, "max_commission": most}
    return client.post(f"/supplier/skus/{sku}/terms", data=body, follow_redirects=False)


def test_the_supplier_sets_its_terms_on_its_page(web: TestClient) -> None:
    sku = apples()
    web.cookies.clear()
    landing = post(web, "/login", {"phone": demo.SUPPLIER_PHONE, "password": demo.PASSWORD})
    assert landing.headers["location"] == "/supplier/products"  # a supplier lands on its page
    page = web.get("/supplier/products")
    assert page.status_code == 200
    assert f'id="sku-{sku}-floor_price" name="floor_price" value="21.90"' in page.text
    assert f'id="sku-{sku}-max_commission" name="max_commission" value="15"' in page.text
    # Bad terms are refused next to their field, and change nothing.
    reply = save_terms(web, sku, "25.91", "12")  # above the single price of ¥25.90
    assert reply.status_code == 400
    assert list(field_errors(reply.text)) == [f"sku-{sku}-floor_price"]
    reply = save_terms(web, sku, "24.90", "60")
    assert reply.status_code == 400
    assert list(field_errors(reply.text)) == [f"sku-{sku}-max_commission"]
    assert terms(sku) == (2190, 1500)
    # Good terms are saved.
    reply = save_terms(web, sku, "24.90", "12.5")
    assert reply.status_code == 303 and reply.headers["location"] == "/supplier/products"
    assert terms(sku) == (2490, 1250)
    assert 'value="12.5"' in web.get("/supplier/products").text


def test_no_one_but_the_supplier_sets_its_terms_on_a_page(web: TestClient) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.core.db import run_in_transaction

    def other_supplier(session: Any) -> None:
        shop = catalog.create_supplier(session, name="别家果园")
        accounts.create_user(
            session, phone="13911112222", password=demo.PASSWORD, nickname="别家", role="supplier",
            supplier_id=shop.id,
        )  # fmt: skip

    run_in_transaction(other_supplier)
    sku = apples()
    log_in(web, "13911112222")
    assert "3斤装" not in web.get("/supplier/products").text
    assert save_terms(web, sku, "0.01", "50").status_code == 403
    log_in(web, LEADER)
    assert web.get("/supplier/products").status_code == 403
    assert save_terms(web, sku, "0.01", "50").status_code == 403
    assert terms(sku) == (2190, 1500)


def _wave_form(client: TestClient, **changes: Any) -> dict[str, Any]:
    tomorrow = clock.to_local(clock.now() + timedelta(days=1))
    form = {
        **form_of(client, "/leader/waves/new", "once"),
        "title": "明晚到 · 烟台苹果",
        "community_id": leader_ids(LEADER)["community"],
        "pickup_point_id": leader_ids(LEADER)["point"],
        "cutoff_at": tomorrow.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (tomorrow.date() + timedelta(days=1)).isoformat(),
        "commission": "10",
        "items[0].sku_id": apples(),
        "items[0].price": "25.90",
        "items[0].moq": "10",
        "items[0].stock": "100",
        "items[0].per_member_limit": "5",
        "items[0].tiers": "",
    }
    form.update(changes)
    return form


def test_the_leaders_wave_form_shows_the_terms_and_refuses_next_to_the_field(
    web: TestClient,
) -> None:
    allocated = "SELECT allocated FROM skus WHERE name = '3斤装'"
    waves, held = scalar("SELECT COUNT(*) FROM waves"), scalar(allocated)
    log_in(web, LEADER)
    form = web.get("/leader/waves/new").text
    assert "最低 ¥21.90，佣金最高 15%" in form
    assert 'name="commission"' in form

    def publish(**changes: Any) -> Response:
        data = _wave_form(web, **changes)
        return web.post("/leader/waves/new", data=data, follow_redirects=False)

    reply = publish(**{"items[0].price": "0.01"}, commission="50")
    assert reply.status_code == 422
    assert field_errors(reply.text) == {"items[0].price": "售价低于供应商为该规格设定的最低价"}
    reply = publish(**{"items[0].tiers": "20:21.89"})
    assert field_errors(reply.text) == {"items[0].tiers": "售价低于供应商为该规格设定的最低价"}
    reply = publish(commission="15.01")
    assert reply.status_code == 422
    assert field_errors(reply.text) == {"commission": "佣金高于供应商为该规格设定的上限"}
    reply = publish(commission="abc")
    assert reply.status_code == 400 and list(field_errors(reply.text)) == ["commission"]
    assert scalar("SELECT COUNT(*) FROM waves") == waves
    assert scalar(allocated) == held
    # Within the terms, at their limits: published.
    reply = publish(**{"items[0].tiers": "20:21.90"}, commission="15")
    assert reply.status_code == 303, field_errors(reply.text)
    assert scalar("SELECT COUNT(*) FROM waves") == waves + 1
    assert scalar("SELECT commission_bps FROM waves ORDER BY id DESC LIMIT 1") == 1500
