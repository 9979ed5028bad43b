"""The address book's pages and the address step of 开团 / 参团: chosen at checkout (the default
preselected, or added and back to the same step), shown on the pay page, the order page, the
operator's order page and the supplier's shipping list; a later edit changes no placed order."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, run_worker, scalar
from tests.web.pages import alerts, form_of, log_in, member, post
from tuangou.accounts import service as accounts
from tuangou.core.db import run_in_transaction

HOME = {
    "name": "李阿姨",
    "phone": "13800138000",
    "region": "浙江省 杭州市 西湖区",
    "detail": "幸福里 3 栋 501",
}


@pytest.fixture
def shop(client: TestClient) -> dict[str, Any]:
    api = Api(client)
    op = api.operator()
    supplier_id, _ = api.supplier(op)
    campaign = api.campaign(op, supplier_id)
    return {"campaign": campaign["id"], "supplier_id": supplier_id}


def _staff(phone: str, role: str, supplier_id: int | None = None) -> None:
    run_in_transaction(
        lambda db: accounts.create_user(
            db,
            phone=phone,
            password="secret123",
            nickname="员工",
            role=role,
            supplier_id=supplier_id,
        )
    )


def _add_address(c: TestClient, fields: dict[str, str], next_url: str = "") -> Any:
    data = {**form_of(c, "/me/addresses/new"), **fields, "next": next_url}
    return c.post("/me/addresses/new", data=data, follow_redirects=False)


def _checked(html: str) -> list[str]:
    return re.findall(r'name="address_id" id="address-\d+" value="(\d+)" checked', html)


def test_a_member_without_an_address_adds_one_and_comes_back_to_the_same_step(
    client: TestClient, shop: dict[str, Any]
) -> None:
    member(client, "13900000001", nickname="新人")  # signed up without an address
    step = f"/c/{shop['campaign']}"
    page = client.get(step).text
    assert "拼团商品送货上门: 请先添加收货地址" in page
    add_url = f"/me/addresses/new?next=/c/{shop['campaign']}"
    assert f'href="{add_url}"' in page
    assert 'id="seat-form"' not in page  # no way to open a team without an address

    # A wrong field is shown next to it, and nothing is stored.
    r = _add_address(client, {**HOME, "phone": "12345"}, step)
    assert r.status_code == 400
    assert 'id="e-phone"' in r.text and "收货人手机号不正确" in r.text
    assert f'value="{step}"' in r.text  # the way back is kept
    assert scalar("SELECT count(*) FROM member_addresses") == 0

    r = _add_address(client, HOME, step)
    assert r.status_code == 303
    entry = scalar("SELECT id FROM member_addresses")
    assert r.headers["location"] == f"{step}?address={entry}"
    page = client.get(r.headers["location"]).text
    assert _checked(page) == [str(entry)]
    assert "幸福里 3 栋 501" in page

    # 开团 with it: the pay page and the order page show the address.
    data = {**form_of(client, step, "key"), "quantity": "1", "address_id": str(entry)}
    r = client.post(f"{step}/open", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/pay/"), alerts(r.text)
    pay = client.get(r.headers["location"]).text
    assert 'id="ship-to"' in pay and "浙江省 杭州市 西湖区 幸福里 3 栋 501" in pay
    order_id = scalar("SELECT id FROM orders")
    order = client.get(f"/orders/{order_id}").text
    assert 'id="ship-to"' in order and "幸福里 3 栋 501" in order and "13800138000" in order

    # Editing the book later does not change the placed order.
    data = {**form_of(client, f"/me/addresses/{entry}/edit"), **HOME, "detail": "新家 8 栋 808"}
    r = client.post(f"/me/addresses/{entry}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me/addresses?done=saved"
    assert "新家 8 栋 808" in client.get("/me/addresses").text
    order = client.get(f"/orders/{order_id}").text
    assert "幸福里 3 栋 501" in order and "新家 8 栋 808" not in order


def test_the_default_is_preselected_and_can_be_changed(
    client: TestClient, shop: dict[str, Any]
) -> None:
    member(client, "13900000002", nickname="老王")
    assert _add_address(client, HOME).headers["location"] == "/me/addresses?done=added"
    office = {**HOME, "region": "浙江省 杭州市 滨江区", "detail": "网商路 599 号"}
    _add_address(client, office)
    home_id, office_id = (r[0] for r in _rows("SELECT id FROM member_addresses ORDER BY id"))
    step = f"/c/{shop['campaign']}"
    assert _checked(client.get(step).text) == [str(home_id)]
    r = post(client, f"/me/addresses/{office_id}/default", {}, form_page="/me/addresses")
    assert r.status_code == 303
    assert "已设为默认地址" in client.get(r.headers["location"]).text
    assert _checked(client.get(step).text) == [str(office_id)]
    r = post(client, f"/me/addresses/{office_id}/delete", {}, form_page="/me/addresses")
    assert r.status_code == 303
    assert _checked(client.get(step).text) == [str(home_id)]  # the one left is the default


def _rows(sql: str) -> list[tuple[Any, ...]]:
    from tests.conftest import rows

    return rows(sql)


def test_another_members_address_is_not_found_and_orders_nothing(
    client: TestClient, shop: dict[str, Any]
) -> None:
    member(client, "13900000003", nickname="甲")
    _add_address(client, HOME)
    theirs = scalar("SELECT id FROM member_addresses")
    client.cookies.clear()
    member(client, "13900000004", nickname="乙")
    _add_address(client, {**HOME, "detail": "乙的家 1 号"})
    assert client.get(f"/me/addresses/{theirs}/edit").status_code == 404
    r = post(client, f"/me/addresses/{theirs}/delete", {}, form_page="/me/addresses")
    assert r.status_code == 404
    step = f"/c/{shop['campaign']}"
    data = {**form_of(client, step, "key"), "quantity": "1", "address_id": str(theirs)}
    r = client.post(f"{step}/open", data=data, follow_redirects=False)
    assert r.status_code == 404
    assert 'id="e-address_id"' in r.text and "地址簿中没有这个地址" in r.text
    assert scalar("SELECT count(*) FROM orders") == 0
    assert scalar("SELECT count(*) FROM member_addresses") == 2


def test_the_supplier_and_the_operator_see_where_to_ship(
    client: TestClient, shop: dict[str, Any]
) -> None:
    step = f"/c/{shop['campaign']}"
    paths = []
    for phone, name, detail in (
        ("13900000005", "开团人", "幸福里 5 栋"),
        ("13900000006", "参团人", "和睦新村 6 幢"),
    ):
        client.cookies.clear()
        member(client, phone, nickname=name)
        _add_address(client, {**HOME, "name": name, "phone": phone, "detail": detail})
        target = paths[0] if paths else step
        action = f"{target}/join" if paths else f"{step}/open"
        r = client.post(
            action, data={**form_of(client, target, "key"), "quantity": "1"}, follow_redirects=False
        )
        assert r.status_code == 303, alerts(r.text)
        data = {**form_of(client, r.headers["location"]), "outcome": "approve"}
        r = client.post(r.headers["location"], data=data, follow_redirects=False)
        assert r.status_code == 303
        run_worker()
        paths.append(r.headers["location"])
    assert scalar("SELECT count(*) FROM orders WHERE status = 'confirmed'") == 2

    client.cookies.clear()
    _staff("13900000007", "supplier", shop["supplier_id"])
    log_in(client, "13900000007")
    page = client.get("/supplier/orders").text
    assert (
        "开团人" in page and "幸福里 5 栋" in page and "参团人" in page and "和睦新村 6 幢" in page
    )
    first = scalar("SELECT id FROM orders ORDER BY id")
    r = post(
        client,
        f"/supplier/orders/{first}/ship",
        {"carrier": "", "tracking_no": ""},
        form_page="/supplier/orders",
    )
    assert r.status_code == 400 and f'id="e-o-{first}-carrier"' in r.text
    r = post(
        client,
        f"/supplier/orders/{first}/ship",
        {"carrier": "顺丰", "tracking_no": "SF1"},
        form_page="/supplier/orders",
    )
    assert r.status_code == 303
    page = client.get("/supplier/orders").text
    assert "已标记为已发货" in page and "幸福里 5 栋" not in page and "和睦新村 6 幢" in page

    client.cookies.clear()
    _staff("13900000008", "operator")
    log_in(client, "13900000008")
    page = client.get(f"/ops/orders/{first}").text
    assert "幸福里 5 栋" in page and "139****0005" in page and "13900000005" not in page
