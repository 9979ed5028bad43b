"""With WeChat Pay and Alipay configured, the member's pay page says which gateway pays, sends
them on to it, and lets them choose the other; the order page says which gateway paid. Over
HTTP (TestClient), on both backends; no network (the gateways' test doubles)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from tests.payments.gateways import (
    FakeAlipay,
    FakeWechat,
    alipay,
    alipay_notice,
    unconfigure,
    wechat,
)
from tests.web import test_member_pages as mp
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of
from tuangou.payments.rules import yuan

site = mp.site
__all__ = ["alipay", "site", "unconfigure", "wechat"]  # fixtures


def test_the_member_chooses_the_gateway_and_sees_which_paid(
    site: TestClient, wechat: FakeWechat, alipay: FakeAlipay
) -> None:
    listing = mp.open_listing()
    items = mp.items_of(listing)
    log_in(site, mp.XIAOHONG)
    placed = mp.post(site, f"/w/{listing}", {f"qty_{items['农家土鸡蛋']}": "1"})
    pay_path = placed.headers["location"]
    payment_id = int(pay_path.rsplit("/", 1)[1])
    assert mp.scalar("SELECT gateway FROM payments WHERE id = :p", p=payment_id) == "wechat"
    assert wechat.requests == []  # nothing is sent to the gateway while ordering

    page = site.get(pay_path).text
    assert 'id="pay-gateway">支付方式 <strong>微信支付</strong>' in page
    assert f'href="/pay/{payment_id}/go"' in page and "使用 微信支付<" in page
    assert 'value="alipay"' in page and "使用 支付宝<" in page
    assert "模拟拒付" not in page and "沙箱" not in page

    go = site.get(f"/pay/{payment_id}/go", follow_redirects=False)
    assert go.status_code == 303 and go.headers["location"].startswith("https://wx.tenpay.com/")
    assert len(wechat.requests) == 1

    # A gateway that is not on is refused, and nothing changes.
    before = mp.scalar("SELECT count(*) FROM payments")
    bad = {**form_of(site, pay_path), "gateway": "paypal"}
    r = site.post(f"/pay/{payment_id}/gateway", data=bad, follow_redirects=False)
    assert r.status_code == 400 and "不支持" in r.text
    assert mp.scalar("SELECT count(*) FROM payments") == before

    body = {**form_of(site, pay_path), "gateway": "alipay"}
    chose = site.post(f"/pay/{payment_id}/gateway", data=body, follow_redirects=False)
    assert chose.status_code == 303, chose.text
    new_path = chose.headers["location"]
    new_id = int(new_path.rsplit("/", 1)[1])
    ref, amount = mp.rows("SELECT gateway_ref, amount FROM payments WHERE id = :p", p=new_id)[0]
    page = site.get(new_path).text
    assert "支付方式 <strong>支付宝</strong>" in page and 'value="wechat"' in page
    go = site.get(f"/pay/{new_id}/go", follow_redirects=False)
    assert go.status_code == 303
    cashier = go.headers["location"]
    assert cashier.startswith("https://openapi.alipay.com/gateway.do?")
    assert parse_qs(urlparse(cashier).query)["method"] == ["alipay.trade.wap.pay"]

    order_id = mp.scalar("SELECT order_id FROM payments WHERE id = :p", p=new_id)
    r = site.post(
        "/api/payments/webhooks/alipay",
        content=alipay_notice(ref, yuan(amount)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.text == "success"
    order: Any = site.get(f"/orders/{order_id}").text
    assert (
        '<tr id="order-gateway"><th scope="row">支付方式</th><td class="num">支付宝</td>' in order
    )
