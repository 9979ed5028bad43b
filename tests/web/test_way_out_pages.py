"""A way out, and someone to ask, on the member's pages: cancel a paid wave order before the
cut-off and leave a team before it forms (each asks first and says what happens to the money),
联系团长 / 联系客服 on every order, and who decides an after-sale case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_worker
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, rows, scalar
from tests.web.test_member_pages import (
    AUNTIE,
    LEADER,
    OUTSIDER,
    XIAOHONG,
    items_of,
    open_listing,
    orders_of,
    post,
    wave_order_of,
)
from tuangou import demo
from tuangou.core import clock
from tuangou.core.config import reset_settings

UNCLE = demo.MEMBERS[1][0]  # 王叔叔: opened a team and paid; it has not formed
_BANNER = re.compile(r'<p class="error banner" role="alert">([^<]*)<')


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    return client


@pytest.fixture
def service_contact(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TUANGOU_SERVICE_CONTACT", "400-820-8820")
    reset_settings()
    yield "400-820-8820"
    monkeypatch.delenv("TUANGOU_SERVICE_CONTACT")
    reset_settings()


def paid_wave_order(site: TestClient, phone: str, quantity: int = 2) -> int:
    """The member orders apples in the open wave on its page and pays on the pay page."""
    listing = open_listing()
    items = items_of(listing)
    log_in(site, phone)
    placed = post(site, f"/w/{listing}", {f"qty_{items['烟台红富士']}": str(quantity)})
    assert placed.status_code == 303, placed.text
    pay_path = placed.headers["location"]
    paid = site.post(
        pay_path,
        data={**form_of(site, pay_path, "key"), "outcome": "approve"},
        follow_redirects=False,
    )
    assert paid.status_code == 303, paid.text
    run_worker()
    order_id = max(i for i, s, _ in orders_of(phone) if s == "paid")
    return order_id


def team_order_of(phone: str) -> int:
    return int(
        scalar(
            "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id"
            " JOIN team_seats s ON s.order_id = o.id WHERE u.phone = :p ORDER BY o.id",
            p=phone,
        )
    )


def test_a_paid_wave_order_is_cancelled_from_its_page_after_a_confirmation(
    site: TestClient,
) -> None:
    order_id = paid_wave_order(site, XIAOHONG)
    page = site.get(f"/orders/{order_id}").text
    # The button opens what will happen before anything does.
    confirm = page[
        page.index('id="cancel-paid"') : page.index("</details>", page.index('id="cancel-paid"'))
    ]
    assert "<summary" in confirm and "取消订单" in confirm
    assert "¥51.80" in confirm and "原路退回" in confirm and "接龙序号" in confirm
    assert f'action="/orders/{order_id}/withdraw"' in confirm and "确认取消并退款" in confirm

    reply = post(site, f"/orders/{order_id}/withdraw", {}, f"/orders/{order_id}")
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/orders/{order_id}?done=withdrawn"
    after = site.get(reply.headers["location"]).text
    assert "订单已取消, 全部款项将原路退回" in after
    assert "截单前取消订单" in after  # the refund's reason in the money table
    assert 'id="cancel-paid"' not in after
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "refunded"
    assert rows("SELECT reason, amount FROM refunds WHERE order_id = :o", o=order_id) == [
        ("cancelled_by_member", 5180)
    ]
    # Sent again (a double tap): nothing more happens.
    again = post(site, f"/orders/{order_id}/withdraw", {}, "/me")
    assert again.status_code == 303
    assert scalar("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id) == 1
    run_worker()
    inbox = site.get("/inbox").text
    assert "退款 ¥51.80 (截单前取消订单)" in inbox
    assert f'name="next" value="/orders/{order_id}"' in inbox


def test_after_the_cutoff_there_is_no_cancel_and_a_late_post_is_refused(
    site: TestClient,
) -> None:
    order_id = paid_wave_order(site, XIAOHONG)
    clock.set_offset(timedelta(days=2))  # past tonight's cut-off (not settled yet)
    page = site.get(f"/orders/{order_id}").text
    assert 'id="cancel-paid"' not in page
    reply = post(site, f"/orders/{order_id}/withdraw", {}, "/me")
    assert reply.status_code == 409
    assert _BANNER.findall(reply.text) == ["已过截单时间, 订单不能再取消"]
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "paid"


def test_nobody_else_cancels_a_members_order(site: TestClient) -> None:
    order_id = paid_wave_order(site, XIAOHONG)
    log_in(site, OUTSIDER)
    assert post(site, f"/orders/{order_id}/withdraw", {}, "/me").status_code == 404
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "paid"


def test_a_wave_order_names_its_leader_with_a_tel_link_for_the_community(
    site: TestClient,
) -> None:
    order_id = wave_order_of(AUNTIE, demo.WAVE_ARRIVED)
    log_in(site, AUNTIE)
    page = site.get(f"/orders/{order_id}").text
    card = page[page.index('id="contact"') :]
    assert "联系团长" in card and "李团长" in card
    assert f'href="tel:{LEADER}"' in card and "136****0001" in card
    assert LEADER not in card.replace(f"tel:{LEADER}", "")  # the number itself stays masked
    # A member who has left the community sees the masked number only.
    user = scalar("SELECT id FROM users WHERE phone = :p", p=AUNTIE)
    from tests.pools.support import execute

    execute("DELETE FROM community_members WHERE user_id = :u", u=user)
    card = site.get(f"/orders/{order_id}").text
    card = card[card.index('id="contact"') :]
    assert "136****0001" in card and "tel:" not in card


def test_a_team_order_names_customer_service_when_the_operator_set_it(
    site: TestClient, service_contact: str
) -> None:
    order_id = team_order_of(AUNTIE)
    log_in(site, AUNTIE)
    page = site.get(f"/orders/{order_id}").text
    card = page[page.index('id="contact"') :]
    assert "联系客服" in card and 'href="tel:4008208820"' in card and service_contact in card
    assert 'id="leave-team"' not in page  # the team has formed: no way out any more


def test_without_a_service_contact_a_team_order_shows_none(site: TestClient) -> None:
    log_in(site, AUNTIE)
    page = site.get(f"/orders/{team_order_of(AUNTIE)}").text
    assert 'id="contact"' not in page and "联系客服" not in page


def test_a_paid_team_order_leaves_its_team_from_the_order_page(site: TestClient) -> None:
    order_id = team_order_of(UNCLE)
    team_id = scalar("SELECT team_id FROM team_seats WHERE order_id = :o", o=order_id)
    assert scalar("SELECT status FROM teams WHERE id = :t", t=team_id) == "open"
    paid = scalar("SELECT paid_amount FROM orders WHERE id = :o", o=order_id)
    log_in(site, UNCLE)
    page = site.get(f"/orders/{order_id}").text
    confirm = page[
        page.index('id="leave-team"') : page.index("</details>", page.index('id="leave-team"'))
    ]
    assert "退出拼团" in confirm and "原路退回" in confirm and f"¥{paid / 100:.2f}" in confirm
    team_page = site.get(f"/t/{team_id}").text
    assert 'id="leave-team"' in team_page and "原路退回" in team_page

    reply = post(site, f"/orders/{order_id}/leave", {}, f"/orders/{order_id}")
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/orders/{order_id}?done=left"
    after = site.get(reply.headers["location"]).text
    assert "您已退出拼团, 全部款项将原路退回" in after and 'id="leave-team"' not in after
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "refunded"
    assert rows("SELECT reason, amount FROM refunds WHERE order_id = :o", o=order_id) == [
        ("left_team", paid)
    ]


def test_the_after_sale_page_names_who_decides(site: TestClient) -> None:
    log_in(site, AUNTIE)
    wave = site.get(f"/orders/{wave_order_of(AUNTIE, demo.WAVE_ARRIVED)}/aftersale").text
    assert "处理人: 本团团长 李团长" in wave and "联系团长" in wave
    team = site.get(f"/orders/{team_order_of(AUNTIE)}/aftersale").text
    assert "处理人: 平台客服" in team
