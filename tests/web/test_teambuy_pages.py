"""The member's home and team-buy pages through the HTTP app (TestClient), on both backends."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import Api, run_worker
from tests.web.pages import form_of, hidden, log_in
from tuangou.accounts import addresses as address_book
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.orders import service as orders

PASSWORD = "secret123"


def _csrf(html: str) -> str:
    found = hidden(html, "csrf_token")
    assert found, "the page has no form"
    return found


def _key(html: str) -> str:
    found = hidden(html, "key")
    assert found, "the form has no one-time key"
    return found


class Member:
    """A browser of one member: its own cookies, logged in through the log-in page."""

    def __init__(self, client: TestClient, phone: str, nickname: str) -> None:
        self.c = TestClient(client.app, headers={"Accept-Language": "zh-CN"})

        def make(db: Any) -> int:
            user = accounts.create_user(db, phone=phone, password=PASSWORD, nickname=nickname)
            address_book.add_address(
                db,
                user.id,
                name=nickname,
                phone=phone,
                region="浙江省 杭州市 西湖区",
                detail="幸福里 1 号",
            )
            return int(user.id)

        self.user_id = run_in_transaction(make)
        log_in(self.c, phone, PASSWORD)

    def get(self, path: str) -> Any:
        return self.c.get(path, follow_redirects=False)

    def submit(self, page_path: str, action: str, **fields: str) -> Any:
        """Post the form of ``page_path`` (its CSRF token and one-time key) to ``action``."""
        data = {**form_of(self.c, page_path, "key"), **fields}
        return self.c.post(action, data=data, follow_redirects=False)

    def pay(self, pay_path: str, outcome: str = "approve") -> Any:
        return self.submit(pay_path, pay_path, outcome=outcome)


@pytest.fixture
def shop(client: TestClient) -> dict[str, Any]:
    api = Api(client)
    op = api.operator()
    supplier_id, _ = api.supplier(op)
    ladder = api.campaign(
        op,
        supplier_id,
        tiers=[[2, 1990], [3, 1790]],
        max_size=3,
        per_member_limit=2,
        max_quantity_per_order=2,
    )
    pair = api.campaign(op, supplier_id, stock=2)  # one team of two
    return {"ladder": ladder["id"], "pair": pair["id"]}


@pytest.fixture
def people(client: TestClient) -> list[Member]:
    return [
        Member(client, f"1380000{i:04d}", name)
        for i, name in enumerate(["李阿姨", "王叔叔", "张小红"], start=1)
    ]


def _open_and_pay(member: Member, campaign_id: int, **fields: str) -> str:
    """Open a team on the campaign page and pay; returns the team page's path."""
    r = member.submit(f"/c/{campaign_id}", f"/c/{campaign_id}/open", quantity="1", **fields)
    assert r.status_code == 303 and r.headers["location"].startswith("/pay/"), r.text
    r = member.pay(r.headers["location"])
    assert r.status_code == 303 and re.fullmatch(r"/t/\d+", r.headers["location"])
    run_worker()
    return str(r.headers["location"])


def _join_and_pay(member: Member, team_path: str) -> None:
    r = member.submit(team_path, f"{team_path}/join", quantity="1")
    assert r.status_code == 303, r.text
    assert member.pay(r.headers["location"]).headers["location"] == team_path
    run_worker()


def test_pages_need_a_login_except_the_team_page_which_is_the_share_link(
    client: TestClient, shop: dict[str, Any], people: list[Member]
) -> None:
    team = _open_and_pay(people[0], shop["ladder"])
    visitor = TestClient(client.app)
    for path in ("/", f"/c/{shop['ladder']}", "/pay/1"):
        r = visitor.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    page = visitor.get(team)
    assert page.status_code == 200
    assert "还差 1 人成团" in page.text
    assert f'href="/login?next=%2Ft%2F{team.rsplit("/", 1)[1]}"' in page.text  # 参团 logs in first
    assert f'action="{team}/join"' not in page.text


def test_home_lists_live_campaigns_with_picture_price_and_status(
    shop: dict[str, Any], people: list[Member]
) -> None:
    page = people[0].get("/")
    assert page.status_code == 200
    assert f'href="/c/{shop["ladder"]}"' in page.text
    assert "¥19.90" in page.text and "¥30.00" in page.text  # group price beside single price
    assert "/static/demo/placeholder.svg" in page.text  # no picture: a neutral placeholder
    assert "你的社群暂时没有进行中的接龙" in page.text
    campaign = people[0].get(f"/c/{shop['ladder']}").text
    assert '<h2 class="tb-name">苹果 5斤</h2>' in campaign  # the SKU's name said once


def test_opening_a_team_creates_one_order_and_a_double_submit_replays_it(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a = people[0]
    page = a.get(f"/c/{shop['ladder']}")
    assert "2人 ¥19.90" in page.text and "3人 ¥17.90" in page.text
    form = {"csrf_token": _csrf(page.text), "key": _key(page.text), "quantity": "1"}
    first = a.c.post(f"/c/{shop['ladder']}/open", data=form, follow_redirects=False)
    again = a.c.post(f"/c/{shop['ladder']}/open", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    with unit_of_work(readonly=True) as db:
        assert len(orders.list_for_user(db, a.user_id)) == 1
    pay = a.get(first.headers["location"])
    assert "¥19.90" in pay.text and "确认支付" in pay.text and "模拟拒付" in pay.text


def test_field_errors_keep_what_was_typed_and_change_nothing(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a = people[0]
    r = a.submit(f"/c/{shop['ladder']}", f"/c/{shop['ladder']}/open", quantity="5")
    assert r.status_code == 400
    assert 'id="e-quantity"' in r.text and 'value="5"' in r.text
    r = a.c.post(f"/c/{shop['ladder']}/open", data={"quantity": "1"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    with unit_of_work(readonly=True) as db:
        assert orders.list_for_user(db, a.user_id) == []


def test_paying_shows_confirming_until_the_callback_then_the_team_forms_for_everyone(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a, b, c = people
    r = a.submit(f"/c/{shop['ladder']}", f"/c/{shop['ladder']}/open", quantity="1")
    pay_path = r.headers["location"]
    assert b.get(pay_path).status_code == 404  # only the payer sees their payment
    tap = {"csrf_token": _csrf(a.get(pay_path).text), "outcome": "approve"}
    r = a.c.post(pay_path, data=tap, follow_redirects=False)
    team = r.headers["location"]
    page = a.get(team)
    assert "支付确认中" in page.text and "data-poll" in page.text
    again = a.c.post(pay_path, data=tap, follow_redirects=False)
    assert again.headers["location"] == team  # a second tap charges nothing again
    run_worker()
    page = a.get(team)
    assert "支付确认中" not in page.text and "还差 1 人成团" in page.text
    assert f'href="{team}/share"' in page.text  # 邀请好友 for a member of the team

    page = b.get(team)
    assert f'action="{team}/join"' in page.text  # 参团 for the others
    _join_and_pay(b, team)
    for member in (a, b):
        page = member.get(team)
        assert "✓ 已成团" in page.text
        assert "1. 李*姨" in page.text and "2. 王*叔" in page.text
    page = c.get(team)  # formed, a seat left: still joinable, at the next tier
    assert "再来 1 人，每人只需 ¥17.90" in page.text
    assert f'action="{team}/join"' in page.text


def test_a_refused_join_is_a_clear_message_not_a_stack_trace(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a, b, c = people
    team = _open_and_pay(a, shop["pair"])  # stock 2: both units are the team's now
    own = a.c.post(
        f"{team}/join",
        data={"csrf_token": _csrf(a.get(team).text), "key": "k1", "quantity": "1"},
        follow_redirects=False,
    )
    assert own.status_code == 409 and 'role="alert"' in own.text
    # No new team can open, but the open team's seat is there to join: it is offered.
    page = c.get(f"/c/{shop['pair']}")
    assert "暂不能开新团" in page.text and f"/c/{shop['pair']}/open" not in page.text
    assert f'href="{team}"' in page.text
    token = _csrf(c.get("/login").text)
    data = {"csrf_token": token, "key": "k2", "quantity": "1"}
    r = c.c.post(f"/c/{shop['pair']}/open", data=data, follow_redirects=False)
    assert r.status_code == 409 and "暂不能开新团" in r.text
    _join_and_pay(b, team)  # the reserved seat: the team forms, full, and settles
    page = c.get(f"/c/{shop['pair']}")
    assert "已售罄" in page.text and "/open" not in page.text  # no 开团 button, a clear word
    # A form sent anyway (an old tab) gets the same clear answer, and nothing changes.
    data["key"] = "k3"
    r = c.c.post(f"/c/{shop['pair']}/open", data=data, follow_redirects=False)
    assert r.status_code == 409 and "已售罄" in r.text, r.text
    data["key"] = "k4"
    r = c.c.post(f"/c/{shop['pair']}/solo", data=data, follow_redirects=False)
    assert r.status_code == 409 and "已售罄" in r.text


def test_the_campaign_page_offers_open_teams_first_then_opening_or_buying_alone(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a, b, _ = people
    path = f"/c/{shop['pair']}"  # stock 2, teams of two, 单独购买 allowed (the default)
    page = b.get(path).text
    assert "可开团 1 个" in page
    assert (
        f'formaction="{path}/solo"' in page
        and '<span>单独购买</span><span class="tb-solo-price">¥30.00</span>' in page
    )
    assert f'action="{path}/open"' in page
    team = _open_and_pay(a, shop["pair"])
    page = b.get(path).text
    # The open team comes first, above the product; no new team can open; no unit is free
    # to buy alone (the one left is the team's reserved seat).
    assert page.index("可参加的团") < page.index('class="card tb-product"')
    assert f'href="{team}"' in page
    assert "暂不能开新团" in page and f"{path}/open" not in page and f"{path}/solo" not in page


def test_buying_alone_on_the_page_pays_and_confirms_the_order(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a = people[0]
    path = f"/c/{shop['ladder']}"
    r = a.submit(path, f"{path}/solo", quantity="2")
    assert r.status_code == 303 and r.headers["location"].startswith("/pay/"), r.text
    pay_page = a.get(r.headers["location"]).text
    assert "¥60.00" in pay_page  # 2 × the single price
    r = a.pay(r.headers["location"])
    assert r.status_code == 303 and re.fullmatch(r"/orders/\d+", r.headers["location"])
    run_worker()
    order_id = int(r.headers["location"].rsplit("/", 1)[1])
    with unit_of_work(readonly=True) as db:
        order = orders.get(db, order_id)
        assert (order.status, order.final_unit_price, order.quantity) == ("confirmed", 3000, 2)
    # Above the per-member limit (2): refused next to the quantity, nothing made.
    r = a.submit(path, f"{path}/solo", quantity="1")
    assert r.status_code == 409 and 'role="alert"' in r.text


def test_a_declined_payment_can_be_tried_again(shop: dict[str, Any], people: list[Member]) -> None:
    a = people[0]
    r = a.submit(f"/c/{shop['ladder']}", f"/c/{shop['ladder']}/open", quantity="1")
    pay_path = r.headers["location"]
    r = a.pay(pay_path, outcome="decline")
    assert r.headers["location"] == pay_path
    run_worker()
    page = a.get(pay_path)
    assert "支付被拒绝" in page.text
    r = a.submit(pay_path, f"{pay_path}/retry")
    assert r.status_code == 303 and r.headers["location"] != pay_path
    team = a.pay(r.headers["location"]).headers["location"]
    run_worker()
    assert "还差 1 人成团" in a.get(team).text


def test_an_expired_hold_is_explained_and_cannot_be_paid(
    shop: dict[str, Any], people: list[Member]
) -> None:
    a = people[0]
    r = a.submit(f"/c/{shop['ladder']}", f"/c/{shop['ladder']}/open", quantity="1")
    pay_path = r.headers["location"]
    page = a.get(pay_path)
    clock.set_offset(timedelta(minutes=16))
    run_worker()
    tap = {"csrf_token": _csrf(page.text), "outcome": "approve"}
    r = a.c.post(pay_path, data=tap, follow_redirects=False)
    assert r.status_code == 409 and "订单已超时未支付" in r.text


def test_a_failed_team_explains_the_refund(shop: dict[str, Any], people: list[Member]) -> None:
    a = people[0]
    team = _open_and_pay(a, shop["ladder"])
    clock.set_offset(timedelta(hours=25))
    run_worker()
    page = a.get(team)
    assert '<p class="result bad" role="status">未成团</p>' in page.text
    assert "未在时限内成团：全额退款" in page.text and "¥19.90" in page.text


def test_share_page_and_poster(shop: dict[str, Any], people: list[Member]) -> None:
    a = people[0]
    team = _open_and_pay(a, shop["ladder"])
    page = a.get(f"{team}/share")
    assert page.status_code == 200
    assert f'value="http://testserver{team}"' in page.text and "data-copy" in page.text
    assert '<svg role="img"' in page.text and f'src="{team}/poster.png"' in page.text
    poster = a.get(f"{team}/poster.png")  # a PNG, which WeChat saves on a long press
    assert poster.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(poster.content))
    assert image.format == "PNG" and image.size == (750, 1200)
    # Its QR code is the share link's: decoded from the picture itself.
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [f"http://testserver{team}"]
    assert a.get("/t/999999").status_code == 404


def test_share_links_use_the_public_url_when_one_is_set(
    shop: dict[str, Any], people: list[Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy the request's own address is not the one members can reach."""
    from pydantic import ValidationError

    from tuangou.core.config import Settings, reset_settings

    a = people[0]
    team = _open_and_pay(a, shop["ladder"])
    monkeypatch.setenv("TUANGOU_PUBLIC_URL", "https://tuan.example.org/")
    reset_settings()
    try:
        page = a.get(f"{team}/share")
        assert f'value="https://tuan.example.org{team}"' in page.text
        assert "testserver" not in page.text
    finally:
        monkeypatch.delenv("TUANGOU_PUBLIC_URL")
        reset_settings()
    assert f'value="http://testserver{team}"' in a.get(f"{team}/share").text
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url="tuan.example.org")


def test_the_campaign_page_shows_a_page_of_open_teams_and_links_to_the_next(
    client: TestClient, people: list[Member]
) -> None:
    from tests.teams.test_open_teams_paging import _seed

    campaign_id = _seed(13, joiners=(0, 1))
    page = people[0].get(f"/c/{campaign_id}").text
    first = re.findall(r'href="(/t/\d+)"', page)
    assert len(first) == len(set(first)) == 10
    assert "显示 10 / 共 13 个团" in page
    more = re.search(r'href="(/c/\d+\?teams=[^"#]+)#open-teams"', page)
    assert more, "no link to the next page of teams"
    rest = people[0].get(more.group(1).replace("&amp;", "&")).text
    later = re.findall(r'href="(/t/\d+)"', rest)
    assert len(later) == 3 and not set(later) & set(first)
    assert "?teams=" not in rest  # the last page links nowhere further
