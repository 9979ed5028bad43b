"""我的 → 隐私与数据: download one's data, delete one's account (blocked, confirmed, done)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, scalar
from tests.web.pages import alerts, form_of, member


@pytest.fixture
def order(client: TestClient) -> dict[str, int]:
    """A member logged in on the pages with an unpaid team order (an open thing)."""
    api = Api(client)
    op = api.operator()
    supplier_id, _ = api.supplier(op)
    campaign = api.campaign(op, supplier_id)
    user_id = member(
        client,
        "13900000031",
        nickname="小林",
        address={"name": "小林", "phone": "13900000031", "line": "幸福里 1 号"},
    )
    r = client.post(
        f"/api/campaigns/{campaign['id']}/teams",
        json={"quantity": 1},
        headers={"Authorization": f"Bearer {_token(client)}"},
    )
    assert r.status_code == 201, r.text
    return {"user_id": user_id, "order_id": r.json()["order"]["id"], "op_token": 0}


def _token(client: TestClient) -> str:
    r = client.post("/api/auth/login", json={"phone": "13900000031", "password": "secret123"})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_me_links_the_privacy_page_and_the_export_downloads(
    client: TestClient, order: dict[str, int]
) -> None:
    assert 'href="/me/privacy"' in client.get("/me").text
    page = client.get("/me/privacy")
    assert page.status_code == 200
    assert "下载我的数据" in page.text and "注销账号" in page.text
    r = client.get("/me/privacy/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        orders = json.loads(archive.read("orders.json"))["orders"]
    assert [o["id"] for o in orders] == [order["order_id"]]


def test_an_open_order_blocks_the_deletion_on_the_page(
    client: TestClient, order: dict[str, int]
) -> None:
    page = client.get("/me/privacy").text
    assert f'href="/orders/{order["order_id"]}"' in page and 'id="deletion-blockers"' in page
    data = {**form_of(client, "/me/privacy"), "confirm": "注销账号"}
    r = client.post("/me/privacy/delete", data=data, follow_redirects=False)
    assert r.status_code == 400
    assert alerts(r.text), r.text[:500]
    assert scalar("SELECT deleted_at FROM users WHERE id = :id", id=order["user_id"]) is None


def test_a_confirmed_deletion_logs_out_and_anonymises(
    client: TestClient, order: dict[str, int]
) -> None:
    client.post(
        f"/api/orders/{order['order_id']}/cancel",
        headers={"Authorization": f"Bearer {_token(client)}"},
    )
    data = {**form_of(client, "/me/privacy"), "confirm": "wrong"}
    r = client.post("/me/privacy/delete", data=data, follow_redirects=False)
    assert r.status_code == 400 and 'id="e-confirm"' in r.text
    # A forged post (no CSRF token) changes nothing.
    r = client.post("/me/privacy/delete", data={"confirm": "注销账号"}, follow_redirects=False)
    assert r.status_code == 403
    data = {**form_of(client, "/me/privacy"), "confirm": "注销账号"}
    r = client.post("/me/privacy/delete", data=data, follow_redirects=False)
    assert r.status_code == 200, alerts(r.text)
    assert "账号已注销" in r.text
    assert scalar("SELECT nickname FROM users WHERE id = :id", id=order["user_id"]) == "已注销用户"
    # Logged out: 我的 asks for a log-in again.
    assert client.get("/me", follow_redirects=False).status_code in (302, 303, 307)
