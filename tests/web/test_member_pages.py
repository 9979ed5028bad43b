"""The member pages over HTTP, on both backends, on the demo's data: the wave (接龙) and its
refusals next to the item, my orders with their timeline, money and pickup code, actions on
an order, after-sales with photos, the inbox, invite links, and 我的 with the leader
application. Each page for its owner, refused to others, forms' field errors and double
submits."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from tests.aftersales.conftest import png
from tests.conftest import run_worker
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, rows, scalar
from tuangou import demo
from tuangou.core import clock

LEADER = demo.LEADERS[0][0]  # 李团长: leads 幸福里邻里团
AUNTIE = demo.MEMBERS[0][0]  # 李阿姨: in that community, an order waiting for pickup
XIAOHONG = demo.MEMBERS[2][0]  # 张小红: in that community, nothing in the open wave yet
LIU = demo.MEMBERS[4][0]  # 刘婷: picked up an order of the completed wave
OUTSIDER = demo.NEIGHBOURS[0][0]  # 孙奶奶: not in 幸福里邻里团

_ALERT = re.compile(r'<p class="error[^"]*" id="e-([^"]+)" role="alert">([^<]*)<')
_BANNER = re.compile(r'<p class="error banner" role="alert">([^<]*)<')
PNG = png()  # a real picture: the bytes are decoded and re-encoded


# ---------------------------------------------------------------- helpers


def post(client: TestClient, path: str, data: dict[str, Any], page: str | None = None) -> Response:
    body: dict[str, Any] = {**form_of(client, page or path, "idem"), **data}
    return client.post(path, data=body, follow_redirects=False)


def errors(html: str) -> dict[str, str]:
    found = dict(_ALERT.findall(html))
    banners = _BANNER.findall(html)
    if banners:
        found["_form"] = banners[0]
    return found


def user_id(phone: str) -> int:
    return int(scalar("SELECT id FROM users WHERE phone = :p", p=phone))


def open_listing(leader_phone: str = LEADER) -> int:
    return int(
        scalar(
            "SELECT wl.id FROM wave_listings wl JOIN waves w ON w.id = wl.wave_id"
            " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
            " WHERE u.phone = :phone AND w.title = :title",
            phone=leader_phone,
            title=demo.WAVE_OPEN,
        )
    )


def share_link(listing_id: int) -> str:
    """The wave's share link (its path), as its leader and members pass it on."""
    token = scalar("SELECT share_token FROM wave_listings WHERE id = :l", l=listing_id)
    return f"/w/{listing_id}?share={token}"


def items_of(listing_id: int) -> dict[str, int]:
    """The open wave's items by their title's first word: {"烟台红富士": id, "农家土鸡蛋": id}."""
    return {
        str(title).split()[0]: int(item_id)
        for item_id, title in rows(
            "SELECT i.id, i.title FROM wave_items i JOIN wave_listings wl"
            " ON wl.wave_id = i.wave_id WHERE wl.id = :l ORDER BY i.id",
            l=listing_id,
        )
    }


def orders_of(phone: str) -> list[tuple[int, str, int]]:
    return [
        (int(i), str(s), int(a))
        for i, s, a in rows(
            "SELECT o.id, o.status, o.amount FROM orders o JOIN users u ON u.id = o.user_id"
            " WHERE u.phone = :p ORDER BY o.id",
            p=phone,
        )
    ]


def wave_order_of(phone: str, title: str) -> int:
    return int(
        scalar(
            "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id JOIN wave_orders i"
            " ON i.order_id = o.id JOIN waves w ON w.id = i.wave_id"
            " WHERE u.phone = :p AND w.title = :t",
            p=phone,
            t=title,
        )
    )


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    return client


# ---------------------------------------------------------------- who sees what


def rules_version(code: str) -> int:
    """The version of a community's rules (群规) that joining accepts."""
    return int(scalar("SELECT rules_version FROM communities WHERE invite_code = :c", c=code))


def test_member_pages_send_a_visitor_to_log_in_and_back(site: TestClient) -> None:
    for path in ("/orders", "/orders/1", "/inbox", "/communities", "/me", "/me/apply"):
        reply = site.get(path, follow_redirects=False)
        assert reply.status_code == 303, path
        assert reply.headers["location"] == "/login?next=" + path.replace("/", "%2F"), path
    # A wave's share link from a group chat opens for anyone; ordering needs a log-in, which
    # comes back to the same link.
    listing = open_listing()
    link = share_link(listing)
    page = site.get(link)
    assert page.status_code == 200
    assert "李团长" in page.text and "幸福里自提点" in page.text
    assert 'href="/login?next=' + link.replace("?", "%3F").replace("=", "%3D") + '"' in page.text
    assert 'type="submit" class="primary">跟团' not in page.text


def test_a_wave_without_its_share_link_is_not_found_for_strangers(site: TestClient) -> None:
    """The listing ids follow each other: without the link's token, a visitor or someone
    outside the community gets the same 404 as for a wave that does not exist, with
    nothing of the wave (its chain list, its pickup point)."""
    listing = open_listing()
    missing = site.get("/w/999999")
    assert missing.status_code == 404
    for who in (None, OUTSIDER):
        if who:
            log_in(site, who)
        for path in (f"/w/{listing}", f"/w/{listing}?share=wrong-token-000000000"):
            page = site.get(path)
            assert page.status_code == 404, (who, path)
            assert "幸福里自提点" not in page.text and "李团长" not in page.text
    # The community's members and its leader see it without the token.
    for who in (AUNTIE, LEADER):
        log_in(site, who)
        page = site.get(f"/w/{listing}")
        assert page.status_code == 200, who
        assert share_link(listing) in page.text  # and can pass the link on


def test_an_order_is_shown_to_its_owner_only(site: TestClient) -> None:
    order_id = wave_order_of(AUNTIE, demo.WAVE_ARRIVED)
    log_in(site, XIAOHONG)
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/aftersale"):
        reply = site.get(path)
        assert reply.status_code == 404, path
        assert "提货码" not in reply.text
    before = orders_of(AUNTIE)
    reply = post(site, f"/orders/{order_id}/cancel", {}, "/me")
    assert reply.status_code == 404
    reply = site.post(
        f"/orders/{order_id}/aftersale",
        data={**form_of(site, "/me", "idem"), "kind": "missing", "description": "x", "line_0": "1"},
        files={"photos": ("a.png", PNG, "image/png")},
    )
    assert reply.status_code == 404
    assert orders_of(AUNTIE) == before
    assert scalar("SELECT COUNT(*) FROM aftersale_cases WHERE order_id = :o", o=order_id) == 0
    # Their own list does not show it either.
    assert f'href="/orders/{order_id}"' not in site.get("/orders").text


# ---------------------------------------------------------------- the wave


def test_a_member_orders_in_a_wave_once_however_often_the_form_is_sent(
    site: TestClient,
) -> None:
    listing = open_listing()
    items = items_of(listing)
    log_in(site, XIAOHONG)
    page = site.get(f"/w/{listing}").text
    # Delivery the day after the cut-off: tomorrow, or (loaded in the last half hour before
    # 23:00, when the demo's wave closes the next night) the day after.
    assert "距截单" in page and "到货" in page
    assert re.search(r"已团 \d+/20 份", page)  # the apples' MOQ progress
    assert re.search(r"<strong>1\.</strong> 李\*姨", page)  # the chain, masked
    assert 'data-total-of="wave-form"' in page and "data-stepper" in page
    assert "你已跟团" not in page  # nothing of hers in the chain yet

    body = {
        **form_of(site, f"/w/{listing}", "idem"),
        f"qty_{items['烟台红富士']}": "2",
        f"qty_{items['农家土鸡蛋']}": "1",
        "remark": "晚上来拿",
    }
    first = site.post(f"/w/{listing}", data=body, follow_redirects=False)
    assert first.status_code == 303, errors(first.text)
    assert first.headers["location"].startswith("/pay/")
    again = site.post(f"/w/{listing}", data=body, follow_redirects=False)
    assert again.headers["location"] == first.headers["location"]
    placed = orders_of(XIAOHONG)
    wave_orders = [o for o in placed if o[1] == "pending_payment"]
    assert len(wave_orders) == 1
    order_id, _, amount = wave_orders[0]
    assert amount == 2 * 2590 + 2290
    payment_id = int(first.headers["location"].rsplit("/", 1)[1])
    assert scalar("SELECT order_id FROM payments WHERE id = :p", p=payment_id) == order_id

    listed = site.get("/orders").text
    assert f'href="/orders/{order_id}"' in listed and "待支付" in listed
    detail = site.get(f"/orders/{order_id}").text
    assert f'href="/pay/{payment_id}"' in detail
    assert "¥74.70" in detail  # 2 × ¥25.90 + ¥22.90
    assert "晚上来拿" in detail


def test_wave_refusals_show_next_to_the_item_and_change_nothing(site: TestClient) -> None:
    listing = open_listing()
    items = items_of(listing)
    apples, eggs = f"qty_{items['烟台红富士']}", f"qty_{items['农家土鸡蛋']}"
    log_in(site, XIAOHONG)

    reply = post(site, f"/w/{listing}", {})
    assert reply.status_code == 400
    assert errors(reply.text)["_items"] == "请用 + 选择至少一件商品"

    reply = post(site, f"/w/{listing}", {apples: "两", "remark": "留着"})
    assert reply.status_code == 400
    assert apples in errors(reply.text)
    assert 'value="留着"' in reply.text  # what was typed is kept

    reply = post(site, f"/w/{listing}", {apples: "1", eggs: "4"})  # eggs: 3 per member
    assert reply.status_code == 409, errors(reply.text)
    assert eggs in errors(reply.text) and apples not in errors(reply.text)
    assert errors(reply.text)[eggs] == "每人限购 3 份，您还可以再买 3 份"  # says how many more
    assert 'value="4"' in reply.text
    assert "每人限购 3 份" in site.get(f"/w/{listing}").text  # said before the + stops, too

    with_stock = "UPDATE wave_items SET stock = sold + held WHERE id = :i"
    from tuangou.core.db import unit_of_work

    with unit_of_work() as session:
        session.execute(text(with_stock), {"i": items["烟台红富士"]})
    page = site.get(f"/w/{listing}").text
    assert "已售罄" in page
    reply = post(site, f"/w/{listing}", {apples: "1"})
    assert reply.status_code == 409
    assert errors(reply.text)[apples] == "已售罄"
    assert not [o for o in orders_of(XIAOHONG) if o[1] == "pending_payment"]


def test_a_non_member_is_told_to_join_and_shown_the_invite(site: TestClient) -> None:
    listing = open_listing()
    items = items_of(listing)
    code = scalar(
        "SELECT c.invite_code FROM communities c JOIN wave_listings wl"
        " ON wl.community_id = c.id WHERE wl.id = :l",
        l=listing,
    )
    log_in(site, OUTSIDER)
    before = orders_of(OUTSIDER)
    link = share_link(listing)  # an invitee: the wave's share link was passed on to them
    assert f'href="/join/{code}"' in site.get(link).text
    reply = post(site, link, {f"qty_{items['烟台红富士']}": "1"})
    assert reply.status_code == 403
    assert errors(reply.text)["_form"] == "请先通过邀请链接加入社群"
    assert f'href="/join/{code}"' in reply.text
    assert orders_of(OUTSIDER) == before
    # Joining through the invite makes the invitee a member, who then orders from the link.
    accept = {"accept_rules": "1", "rules_version": str(rules_version(code))}
    assert post(site, f"/join/{code}", accept).status_code == 303
    reply = post(site, link, {f"qty_{items['烟台红富士']}": "1"})
    assert reply.status_code == 303, reply.text
    assert len(orders_of(OUTSIDER)) == len(before) + 1


def test_a_closed_wave_says_so_and_takes_no_order(site: TestClient) -> None:
    listing = open_listing()
    items = items_of(listing)
    log_in(site, XIAOHONG)
    body = {**form_of(site, f"/w/{listing}", "idem"), f"qty_{items['烟台红富士']}": "1"}
    clock.set_offset(timedelta(days=1))
    page = site.get(f"/w/{listing}").text
    assert "已截单" in page and "data-stepper" not in page
    reply = site.post(f"/w/{listing}", data=body, follow_redirects=False)
    assert reply.status_code == 409
    assert errors(reply.text)["_form"] == "该接龙已截单"
    assert not [o for o in orders_of(XIAOHONG) if o[1] == "pending_payment"]


# ---------------------------------------------------------------- orders


def test_a_pickup_order_shows_its_code_qr_point_timeline_and_money(site: TestClient) -> None:
    order_id = wave_order_of(AUNTIE, demo.WAVE_ARRIVED)
    code = scalar("SELECT code FROM pickups WHERE order_id = :o", o=order_id)
    paid, refunded = rows(
        "SELECT paid_amount, refunded_amount FROM orders WHERE id = :o", o=order_id
    )[0]
    log_in(site, AUNTIE)
    page = site.get(f"/orders/{order_id}").text
    assert f'<p class="code-big" id="pickup-code">{code}</p>' in page
    assert "<svg" in page and "提货码二维码" in page
    assert "幸福里小区 3 栋 1 楼" in page and "08:00-21:00" in page
    assert 'href="geo:30.27,120.15' in page
    for step in ("已支付", "已成团", "已发货", "已到货"):
        assert f'<li class="done">\n      <strong>{step}</strong>' in page, step
    assert '<li class="">\n      <strong>已提货</strong>' in page  # still to come
    assert "在平台托管中, 提货后结算给团长" in page
    # Price protection: the greens reached their cheaper tier; what came back and why.
    assert refunded > 0
    assert "价格保护" in page
    assert f"−¥{refunded // 100}.{refunded % 100:02d}" in page
    kept = paid - refunded
    assert f"<strong>¥{kept // 100}.{kept % 100:02d}</strong>" in page


def test_an_unpaid_order_can_be_cancelled_once(site: TestClient) -> None:
    listing = open_listing()
    items = items_of(listing)
    log_in(site, XIAOHONG)
    placed = post(site, f"/w/{listing}", {f"qty_{items['农家土鸡蛋']}": "1"})
    assert placed.status_code == 303
    (order_id, _, _) = next(o for o in orders_of(XIAOHONG) if o[1] == "pending_payment")
    page = f"/orders/{order_id}"
    reply = post(site, f"{page}/cancel", {}, page)
    assert reply.status_code == 303
    assert "订单已取消" in site.get(reply.headers["location"]).text
    assert dict((i, s) for i, s, _ in orders_of(XIAOHONG))[order_id] == "cancelled"
    again = post(site, f"{page}/cancel", {}, "/me")
    assert again.status_code == 409
    assert "只有未支付的订单可以取消" in again.text


def test_a_shipped_team_order_is_confirmed_received(site: TestClient) -> None:
    from tuangou.core.db import run_in_transaction
    from tuangou.orders import service as orders

    order_id = int(
        scalar(
            "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id"
            " JOIN team_seats s ON s.order_id = o.id WHERE u.phone = :p AND s.is_opener",
            p=AUNTIE,
        )
    )
    clock.set_offset(timedelta(hours=25))  # past the team's deadline: it settles
    run_worker()
    supplier_id = scalar("SELECT supplier_id FROM orders WHERE id = :o", o=order_id)
    run_in_transaction(
        lambda s: orders.ship(
            s, supplier_id=supplier_id, order_id=order_id, carrier="顺丰", tracking_no="SF1"
        )
    )
    log_in(site, AUNTIE)
    page = site.get(f"/orders/{order_id}").text
    assert "确认收货" in page and "已发货" in page and "顺丰" in page
    log_in(site, XIAOHONG)
    assert post(site, f"/orders/{order_id}/confirm", {}, "/me").status_code == 404
    log_in(site, AUNTIE)
    reply = post(site, f"/orders/{order_id}/confirm", {}, f"/orders/{order_id}")
    assert reply.status_code == 303
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "completed"
    assert "已确认收货" in site.get(reply.headers["location"]).text


def test_a_picked_up_order_is_rated_once(site: TestClient) -> None:
    order_id = wave_order_of(LIU, demo.WAVE_COMPLETED)
    page = f"/orders/{order_id}"
    log_in(site, LIU)
    assert "评价提货" in site.get(page).text
    reply = post(site, f"{page}/rate", {"stars": "9"}, page)
    assert reply.status_code == 400 and "stars" in errors(reply.text)
    assert scalar("SELECT COUNT(*) FROM pickup_ratings") == 0
    reply = post(site, f"{page}/rate", {"stars": "4", "comment": "很方便"}, page)
    assert reply.status_code == 303
    shown = site.get(page).text
    assert "★★★★ 很方便" in shown and "评价提货</h2>" not in shown
    assert scalar("SELECT stars FROM pickup_ratings WHERE order_id = :o", o=order_id) == 4


# ---------------------------------------------------------------- after-sales


def test_after_sale_with_photos_is_reported_once_and_shown_with_its_photos(
    site: TestClient,
) -> None:
    order_id = wave_order_of(AUNTIE, demo.WAVE_ARRIVED)
    path = f"/orders/{order_id}/aftersale"
    log_in(site, AUNTIE)
    assert 'enctype="multipart/form-data"' in site.get(path).text

    def send(data: dict[str, str], photos: int, hidden: dict[str, str] | None = None) -> Response:
        files = [("photos", (f"p{n}.png", PNG, "image/png")) for n in range(photos)]
        body = {**(hidden or form_of(site, path, "idem")), **data}
        return site.post(path, data=body, files=files or None, follow_redirects=False)

    good = {"kind": "damaged", "description": "两个梨摔坏了", "line_0": "1"}
    reply = send({**good, "description": ""}, 2)
    assert reply.status_code == 400 and "description" in errors(reply.text)
    reply = send(good, 0)
    assert errors(reply.text)["photos"] == "请上传 1 至 6 张照片"
    reply = send(good, 7)
    assert errors(reply.text)["photos"] == "请上传 1 至 6 张照片"
    reply = send({**good, "line_0": "0"}, 1)
    assert "_lines" in errors(reply.text)
    assert "两个梨摔坏了" in reply.text  # what was typed is kept
    assert scalar("SELECT COUNT(*) FROM aftersale_cases WHERE order_id = :o", o=order_id) == 0

    hidden = form_of(site, path, "idem")
    first = send(good, 2, hidden)
    assert first.status_code == 303, errors(first.text)
    second = send(good, 2, hidden)  # the same form sent twice
    assert second.status_code == 303
    assert scalar("SELECT COUNT(*) FROM aftersale_cases WHERE order_id = :o", o=order_id) == 1
    case_id = scalar("SELECT id FROM aftersale_cases WHERE order_id = :o", o=order_id)
    assert scalar("SELECT COUNT(*) FROM aftersale_photos WHERE case_id = :c", c=case_id) == 2

    page = site.get(first.headers["location"]).text
    assert "两个梨摔坏了" in page and "待处理" in page and "破损" in page
    photo = site.get(f"{path}/{case_id}/photos/2")
    # The picture comes back cleaned: re-encoded as JPEG, without its metadata.
    assert photo.status_code == 200 and photo.content.startswith(b"\xff\xd8\xff")
    log_in(site, XIAOHONG)
    assert site.get(f"{path}/{case_id}/photos/2").status_code in (403, 404)


# ---------------------------------------------------------------- inbox, communities, 我的


def test_the_inbox_lists_notifications_and_me_shows_the_unread_count(site: TestClient) -> None:
    run_worker()  # the demo's events reach the inboxes
    unread = scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = :u AND read_at IS NULL",
        u=user_id(AUNTIE),
    )
    assert unread > 0
    log_in(site, AUNTIE)
    me = site.get("/me").text
    assert f'id="unread-count" aria-label="{unread} 条未读">{unread}</span>' in me
    inbox = site.get("/inbox").text
    assert "已到货" in inbox and f"{unread} 条未读" in inbox
    log_in(site, XIAOHONG)
    assert post(site, "/inbox/read", {}, "/inbox").status_code == 303
    log_in(site, AUNTIE)  # someone else marking their inbox read changed nothing here
    assert f">{unread}</span>" in site.get("/me").text
    assert post(site, "/inbox/read", {}, "/inbox").status_code == 303
    assert "没有未读消息" in site.get("/me").text


def test_communities_list_their_open_waves(site: TestClient) -> None:
    log_in(site, AUNTIE)
    page = site.get("/communities").text
    assert "幸福里邻里团" in page and "李团长" in page
    assert f'href="/w/{open_listing()}"' in page
    assert demo.WAVE_ARRIVED not in page  # closed waves are not listed as open


def test_joining_a_community_from_an_invite_link(site: TestClient) -> None:
    code = scalar("SELECT invite_code FROM communities WHERE name = '幸福里邻里团'")
    bad = site.get("/join/nosuchcode1")
    assert bad.status_code == 404 and "邀请链接" in bad.text
    visitor = site.get(f"/join/{code}").text
    assert "幸福里邻里团" in visitor and "幸福里自提点" in visitor and "李*长" in visitor
    assert f'href="/login?next=/join/{code}"' in visitor
    log_in(site, OUTSIDER)
    assert (
        '<button type="submit" class="primary wide">加入</button>' in site.get(f"/join/{code}").text
    )
    # The rules (群规) are shown, and joining needs the box ticked.
    assert 'name="accept_rules"' in site.get(f"/join/{code}").text
    assert post(site, f"/join/{code}", {}, f"/join/{code}").status_code == 400
    accept = {"accept_rules": "1", "rules_version": str(rules_version(code))}
    reply = post(site, f"/join/{code}", accept, f"/join/{code}")
    assert reply.status_code == 303 and reply.headers["location"] == "/communities"
    assert "幸福里邻里团" in site.get("/communities").text
    assert "您已经是本社群成员" in site.get(f"/join/{code}").text
    assert post(site, f"/join/{code}", {}, "/me").status_code == 303  # no-op
    assert (
        scalar(
            "SELECT COUNT(*) FROM community_members m JOIN communities c"
            " ON c.id = m.community_id WHERE c.invite_code = :c AND m.user_id = :u",
            c=code,
            u=user_id(OUTSIDER),
        )
        == 1
    )


def test_me_edits_the_profile_with_field_errors(site: TestClient) -> None:
    log_in(site, XIAOHONG)
    page = site.get("/me").text
    assert 'value="张小红"' in page and 'href="/me/apply"' in page and 'href="/leader"' not in page
    assert 'action="/logout"' in page
    # The addresses live in the address book, one tap away.
    assert 'href="/me/addresses"' in page
    reply = post(site, "/me", {"nickname": ""})
    assert reply.status_code == 400
    assert errors(reply.text)["nickname"] == "请填写此项"
    assert scalar("SELECT nickname FROM users WHERE phone = :p", p=XIAOHONG) == "张小红"
    reply = post(site, "/me", {"nickname": "小红"})
    assert reply.status_code == 303
    assert scalar("SELECT nickname FROM users WHERE phone = :p", p=XIAOHONG) == "小红"
    log_in(site, LEADER)
    assert 'href="/leader"' in site.get("/me").text
    log_in(site, demo.OPERATOR_PHONE)
    assert 'href="/ops"' in site.get("/me").text


def test_applying_to_be_a_leader(site: TestClient) -> None:
    log_in(site, XIAOHONG)
    base = {"name": "2栋自提点", "address": "幸福里 2 栋", "opening_hours": "9:00-20:00"}
    reply = post(site, "/me/apply", {**base, "latitude": "", "longitude": "120.1"})
    assert reply.status_code == 400 and "latitude" in errors(reply.text)
    assert 'value="2栋自提点"' in reply.text
    reply = post(site, "/me/apply", {**base, "latitude": "95", "longitude": "120.1"})
    assert reply.status_code == 400 and "latitude" in errors(reply.text)
    assert scalar("SELECT COUNT(*) FROM leader_applications WHERE name = '2栋自提点'") == 0
    reply = post(site, "/me/apply", {**base, "latitude": "30.2", "longitude": "120.1"})
    assert reply.status_code == 303
    assert "审核中" in site.get("/me").text
    reply = post(site, "/me/apply", {**base, "latitude": "30.2", "longitude": "120.1"})
    assert reply.status_code == 400 and "_form" in errors(reply.text)
    assert scalar("SELECT COUNT(*) FROM leader_applications WHERE name = '2栋自提点'") == 1


@pytest.mark.parametrize("phone", [demo.OPERATOR_PHONE, demo.SUPPLIER_PHONE])
def test_staff_accounts_neither_buy_nor_apply_to_lead(site: TestClient, phone: str) -> None:
    """Operators and suppliers' staff keep a member account for buying (docs/SECURITY.md):
    every buying or applying page refuses them with a clear message, and nothing is stored."""
    listing = open_listing()
    apples = items_of(listing)["烟台红富士"]
    code = scalar("SELECT invite_code FROM communities WHERE name = '幸福里邻里团'")
    campaign = scalar("SELECT MIN(id) FROM team_campaigns")
    team = scalar("SELECT MIN(id) FROM teams")
    tables = ("orders", "payments", "leader_applications", "community_members", "team_seats")
    before = {t: scalar(f"SELECT COUNT(*) FROM {t}") for t in tables}
    log_in(site, phone)
    point = {"name": "2栋自提点", "address": "幸福里 2 栋", "latitude": "30.2", "longitude": "120"}
    for path, data in (
        (f"/w/{listing}", {f"qty_{apples}": "1"}),
        (f"/c/{campaign}/open", {"quantity": "1"}),
        (f"/t/{team}/join", {"quantity": "1"}),
        (f"/join/{code}", {}),
        ("/me/apply", point),
    ):
        reply = post(site, path, data, "/me")
        assert reply.status_code == 403, (path, reply.status_code)
        assert "运营和供应商账号不能下单或申请当团长，请用团员账号" in reply.text, path
    refused = site.get("/me/apply")
    assert refused.status_code == 403 and "请用团员账号" in refused.text
    assert {t: scalar(f"SELECT COUNT(*) FROM {t}") for t in tables} == before
    # The rest of their account is theirs: the profile page still works.
    assert site.get("/me").status_code == 200


def test_a_member_in_the_chain_is_told_so_with_their_number(site: TestClient) -> None:
    listing = open_listing()
    log_in(site, AUNTIE)
    page = site.get(f"/w/{listing}").text
    [(order_id, seq)] = rows(
        "SELECT i.order_id, i.seq FROM wave_orders i JOIN orders o ON o.id = i.order_id"
        " WHERE i.listing_id = :l AND o.user_id = :u AND i.seq IS NOT NULL",
        l=listing,
        u=user_id(AUNTIE),
    )
    banner = page[page.index('id="you-joined"') :]
    assert "你已跟团" in banner
    assert f'<a href="/orders/{order_id}">跟团号 {seq}</a>' in banner
    # The API says which entries of the chain are the caller's, and nobody else's order id.
    login = site.post("/api/auth/login", json={"phone": AUNTIE, "password": demo.PASSWORD})
    token = {"Authorization": f"Bearer {login.json()['token']}"}
    chain = site.get(f"/api/listings/{listing}", headers=token).json()["chain"]
    assert [(e["seq"], e["order_id"]) for e in chain if e["mine"]] == [(seq, order_id)]
    assert all(e["order_id"] is None for e in chain if not e["mine"])
