"""A member orders in a wave (接龙) on a phone, pays, and after the cut-off, delivery and
receipt finds the pickup code on the order page; the leader verifies it at the pickup
counter and the member's order shows 已提货. In a real browser, on the demo's data."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.conftest import rows
from tests.web.browser import Site, check_page, person
from tuangou import demo

MEMBER = demo.MEMBERS[2][0]  # 张小红: in 幸福里邻里团, nothing in the open wave yet
LEADER = demo.LEADERS[0][0]  # 李团长 leads 幸福里邻里团


def top_up(wave_id: int) -> None:
    """Neighbours order too (through the service), so that both items reach their MOQ."""
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools

    apples, eggs = (i for (i,) in rows("SELECT id FROM wave_items WHERE wave_id = :w", w=wave_id))
    ((listing,),) = rows(
        "SELECT wl.id FROM wave_listings wl JOIN leaders l ON l.id = wl.leader_id"
        " JOIN users u ON u.id = l.user_id WHERE wl.wave_id = :w AND u.phone = :p",
        w=wave_id,
        p=LEADER,
    )
    wanted = {demo.MEMBERS[4][0]: {apples: 5, eggs: 3}, demo.MEMBERS[0][0]: {apples: 2}}

    def order(session: Any) -> None:
        by_phone = {u.phone: u for u in accounts.list_users(session, limit=1000)}
        for phone, quantities in wanted.items():
            placed = pools.place_order(
                session, user_id=by_phone[phone].id, listing_id=listing, quantities=quantities
            )
            payments.sandbox_pay_now(session, placed.started.payment)

    run_in_transaction(order)


def deliver(wave_id: int) -> None:
    """The supplier ships and the leader confirms receipt, through the services."""
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction
    from tuangou.fulfilment import service as fulfilment
    from tuangou.pools import service as pools

    def work(session: Any) -> None:
        wave = pools.get_wave(session, wave_id)
        staff = accounts.list_users(session, role="supplier", limit=10)[0]
        fulfilment.ship(session, wave_id=wave_id, supplier_id=wave.supplier_id, user_id=staff.id)
        leader = next(u for u in accounts.list_users(session, limit=1000) if u.phone == LEADER)
        ((point,),) = rows(
            "SELECT wl.pickup_point_id FROM wave_listings wl JOIN leaders l"
            " ON l.id = wl.leader_id WHERE wl.wave_id = :w AND l.user_id = :u",
            w=wave_id,
            u=leader.id,
        )
        fulfilment.receive(session, user_id=leader.id, wave_id=wave_id, pickup_point_id=point)

    run_in_transaction(work)


def reload_until(page: Page, selector: str, pattern: str, seconds: float = 15) -> None:
    """Reload until the page shows ``pattern`` in ``selector`` (a callback lands meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        if re.search(pattern, page.locator(selector).first.inner_text()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {pattern!r}")
        page.wait_for_timeout(300)
        page.reload()


def test_a_member_orders_in_a_wave_and_picks_up_with_the_code(browser: Browser, site: Site) -> None:
    ((wave_id, listing),) = rows(
        "SELECT w.id, wl.id FROM waves w JOIN wave_listings wl ON wl.wave_id = w.id"
        " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
        " WHERE w.title = :t AND u.phone = :p",
        t=demo.WAVE_OPEN,
        p=LEADER,
    )
    with person(browser, site, MEMBER) as member:
        member.goto("/communities")
        expect(member.get_by_role("link", name=demo.WAVE_OPEN)).to_be_visible()
        check_page(member, "member-communities")
        member.get_by_role("link", name=demo.WAVE_OPEN).click()
        expect(member).to_have_url(f"{site.url}/w/{listing}")
        expect(member.get_by_text("距截单")).to_be_visible()
        expect(member.get_by_text("李团长")).to_be_visible()
        check_page(member, "member-wave")

        apples = member.locator("li.wave-item", has_text="烟台红富士")
        eggs = member.locator("li.wave-item", has_text="农家土鸡蛋")
        apples.get_by_role("button", name="增加一份").click()
        apples.get_by_role("button", name="增加一份").click()
        eggs.get_by_role("button", name="增加一份").click()
        expect(member.locator("[data-total-of]")).to_have_text("¥74.70")
        member.get_by_label("给团长的备注 (选填)").fill("晚上来拿")
        member.get_by_role("button", name="跟团", exact=True).click()

        expect(member).to_have_url(re.compile(r"/pay/\d+$"))
        member.locator("button[name=outcome][value=approve]").click()
        expect(member).to_have_url(re.compile(r"/orders/\d+$"))
        order_id = int(member.url.rsplit("/", 1)[1])
        reload_until(member, "#order-status", "待截单")
        expect(member.locator(".timeline li.done").first).to_contain_text("已支付")
        expect(member.get_by_text("在平台托管中, 提货后结算给团长")).to_be_visible()

        member.goto("/orders")
        expect(member.locator(f'a[href="/orders/{order_id}"]')).to_contain_text("待截单")
        check_page(member, "member-orders")

        # The chain now shows the member's order (masked name).
        member.goto(f"/w/{listing}")
        expect(member.locator(".chain-list")).to_contain_text("张*红")

        # Neighbours order too; the cut-off passes; the worker settles the wave.
        top_up(wave_id)
        site.travel(timedelta(days=1))
        site.run_jobs()
        member.goto(f"/orders/{order_id}")
        expect(member.locator("#order-status")).to_have_text("已成团")
        deliver(wave_id)
        site.run_jobs()  # the member is told: the code is in the inbox

        member.goto(f"/orders/{order_id}")
        ((code,),) = rows("SELECT code FROM pickups WHERE order_id = :o", o=order_id)
        expect(member.locator("#pickup-code")).to_have_text(code)
        expect(member.locator("svg.qr title")).to_have_text("提货码二维码")
        expect(member.get_by_text("幸福里小区 3 栋 1 楼")).to_be_visible()
        expect(member.locator(".timeline li.done", has_text="已到货")).to_be_visible()
        check_page(member, "member-order")

        member.goto("/me")
        expect(member.locator("#unread-count")).to_be_visible()
        check_page(member, "member-me")
        member.get_by_role("link", name=re.compile("消息")).click()
        expect(member.get_by_text(code).first).to_be_visible()
        check_page(member, "member-inbox")

        # The leader verifies the code at the pickup counter.
        with person(browser, site, LEADER) as leader:
            leader.goto("/leader/pickup")
            leader.get_by_label("提货码", exact=True).fill(code)
            leader.get_by_role("button", name="核销", exact=True).click()
            expect(leader.locator("#pickup-result")).to_have_attribute("data-result", "ok")
            expect(leader.locator("#pickup-result")).to_contain_text("张*红")

        member.goto(f"/orders/{order_id}")
        expect(member.locator("#order-status")).to_have_text("已完成")
        expect(member.locator(".timeline li.done", has_text="已提货")).to_be_visible()
        expect(member.get_by_text("评价提货")).to_be_visible()
