"""The leader console's pages over HTTP, on both backends, on the demo's data: each page for
its leader, refusals for members and for other leaders, the pickup counter's results, and
the forms' field errors and double submits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.web.pages import csrf, form_of, rows, scalar
from tests.web.pages import demo_log_in as log_in
from tuangou import demo
from tuangou.core import clock

LEADER, SUB_LEADER, THIRD_LEADER = (phone for phone, *_ in demo.LEADERS)
MEMBER = demo.MEMBERS[0][0]  # 李阿姨: a member of the first leader's community, not a leader

_ALERT = re.compile(r'<p class="error[^"]*" id="e-([^"]+)" role="alert">([^<]*)<')
_RESULT = re.compile(r'<div id="pickup-result" class="result (ok|bad)".*?</div>', re.S)
_TAG = re.compile(r"<[^>]+>")


# ---------------------------------------------------------------- helpers


def post(client: TestClient, path: str, data: dict[str, Any], form_page: str) -> Response:
    """POST a form as the browser does: with the session's CSRF token and the page's
    one-time key (unless the test gives its own)."""
    body = {**form_of(client, form_page, "once"), **data}
    return client.post(path, data=body, follow_redirects=False)


def field_errors(html: str) -> dict[str, str]:
    return {name.replace("&#34;", '"'): message for name, message in _ALERT.findall(html)}


def pickup_result(html: str) -> tuple[str, str]:
    """("ok" | "bad", the result's text) as the counter shows it after a verification."""
    found = _RESULT.search(html)
    assert found, "no result on the counter"
    words = " ".join(_TAG.sub(" ", found.group(0)).split())
    return found.group(1), words


def verify(client: TestClient, code: str, point_id: int, **extra: Any) -> tuple[str, str]:
    reply = post(
        client,
        "/leader/pickup",
        {"code": code, "pickup_point_id": point_id, **extra},
        f"/leader/pickup?point={point_id}",
    )
    assert reply.status_code == 303, reply.text[:300]
    return pickup_result(client.get(reply.headers["location"]).text)


def leader_ids(phone: str) -> dict[str, int]:
    """The demo leader's ids: leader, first pickup point, first community."""
    ((leader_id, point_id, community_id),) = rows(
        "SELECT l.id, MIN(p.id), MIN(c.id) FROM leaders l JOIN users u ON u.id = l.user_id"
        " JOIN pickup_points p ON p.leader_id = l.id JOIN communities c ON c.leader_id = l.id"
        " WHERE u.phone = :phone GROUP BY l.id",
        phone=phone,
    )
    return {"leader": leader_id, "point": point_id, "community": community_id}


def listing_of(phone: str, title: str) -> int:
    return int(
        scalar(
            "SELECT wl.id FROM wave_listings wl JOIN waves w ON w.id = wl.wave_id"
            " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
            " WHERE u.phone = :phone AND w.title = :title",
            phone=phone,
            title=title,
        )
    )


def waiting_codes(point_id: int) -> list[tuple[str, str]]:
    """(code, the member's nickname) of the orders waiting at a pickup point."""
    return [
        (str(code), str(name))
        for code, name in rows(
            "SELECT p.code, u.nickname FROM pickups p JOIN orders o ON o.id = p.order_id"
            " JOIN users u ON u.id = o.user_id WHERE p.pickup_point_id = :point"
            " AND p.status = 'waiting' ORDER BY p.id",
            point=point_id,
        )
    ]


@dataclass
class SharedWave:
    wave_id: int
    points: dict[str, int]  # leader phone -> pickup point
    codes: dict[str, str]  # leader phone -> a code waiting at their point (once received)


def shared_wave_arrived(*, receive: tuple[str, ...] = (LEADER, SUB_LEADER)) -> SharedWave:
    """A supplier wave adopted by the first two demo leaders, one order in each community,
    settled (the clock moves past its cut-off) and shipped; received at the pickup points of
    the ``receive`` leaders. The demo's own waves never have codes at two points at once."""
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction
    from tuangou.fulfilment import service as fulfilment
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools

    buyers = {LEADER: demo.MEMBERS[1][0], SUB_LEADER: demo.NEIGHBOURS[0][0]}
    ids = {phone: leader_ids(phone) for phone in buyers}

    def build(session: Any) -> tuple[int, int]:
        staff = next(u for u in accounts.list_users(session, role="supplier") if u.supplier_id)
        assert staff.supplier_id is not None
        product = catalog.create_product(
            session, supplier_id=staff.supplier_id, title="临安山核桃", description=""
        )
        sku = catalog.create_sku(session, product_id=product.id, name="500g", price=4800, stock=99)
        now = clock.now()
        wave = pools.create_catalogue_wave(
            session,
            user_id=staff.id,
            supplier_id=staff.supplier_id,
            data=pools.WaveInput(
                title="山核桃尝鲜团",
                cutoff_at=now + timedelta(hours=1),
                delivery_date=clock.local_date(now + timedelta(days=1)),
                items=[pools.ItemInput(sku_id=sku.id, price=3900, moq=2, stock=50)],
            ),
        )
        (item,) = pools.items_of(session, wave.id)
        for leader_phone, buyer_phone in buyers.items():
            leader = accounts.login(session, phone=leader_phone, password=demo.PASSWORD)
            listing = pools.adopt_wave(
                session,
                user_id=leader.id,
                wave_id=wave.id,
                community_id=ids[leader_phone]["community"],
                pickup_point_id=ids[leader_phone]["point"],
            )
            buyer = accounts.login(session, phone=buyer_phone, password=demo.PASSWORD)
            placed = pools.place_order(
                session, user_id=buyer.id, listing_id=listing.id, quantities={item.id: 1}
            )
            payments.sandbox_pay_now(session, placed.started.payment)
        return wave.id, staff.id

    wave_id, staff_id = run_in_transaction(build)
    clock.set_offset(clock.offset() + timedelta(hours=2))
    assert pools.settle_wave(wave_id) == "settled"

    def deliver(session: Any) -> None:
        wave = pools.get_wave(session, wave_id)
        fulfilment.ship(session, wave_id=wave_id, supplier_id=wave.supplier_id, user_id=staff_id)
        for phone in receive:
            leader = communities.get_leader(session, ids[phone]["leader"])
            fulfilment.receive(
                session,
                user_id=leader.user_id,
                wave_id=wave_id,
                pickup_point_id=ids[phone]["point"],
            )

    run_in_transaction(deliver)
    codes = {
        phone: str(code)
        for phone in receive
        for (code,) in rows(
            "SELECT code FROM pickups WHERE wave_id = :w AND pickup_point_id = :p",
            w=wave_id,
            p=ids[phone]["point"],
        )
    }
    return SharedWave(wave_id, {p: ids[p]["point"] for p in buyers}, codes)


@pytest.fixture
def web(client: TestClient) -> TestClient:
    """The demo's data on this backend, and a client for its pages."""
    assert demo.load()["loaded"] is True
    return client


# ---------------------------------------------------------------- each page for its leader


def test_every_page_of_the_console_shows_the_leaders_own_data(web: TestClient) -> None:
    me = leader_ids(LEADER)
    arrived = listing_of(LEADER, demo.WAVE_ARRIVED)
    log_in(web, LEADER)

    today = web.get("/leader")
    assert today.status_code == 200
    assert 'class="leader"' in today.text and 'class="subnav"' in today.text
    # The console's own row of sections, with a way back to the member's home; the member's
    # bottom tab bar is not on the console.
    assert 'class="tabbar"' not in today.text and '<a href="/" >会员首页</a>' in today.text
    assert demo.WAVE_OPEN in today.text  # open for orders, with its countdown
    assert 'class="countdown" data-deadline=' in today.text
    assert re.search(r"已团 \d+/20", today.text)  # the apples' total against their MOQ
    assert "待提货" in today.text and len(waiting_codes(me["point"])) == 4

    counter = web.get("/leader/pickup")
    assert counter.status_code == 200
    assert 'inputmode="numeric"' in counter.text and "autofocus" in counter.text
    assert counter.text.count("手机尾号") == 4  # the four orders still to collect

    communities = web.get("/leader/communities")
    assert demo.LEADERS[0][4] in communities.text and "7 位成员" in communities.text
    community = web.get(f"/leader/communities/{me['community']}")
    invite = scalar("SELECT invite_code FROM communities WHERE id = :c", c=me["community"])
    assert f"/join/{invite}" in community.text
    assert web.get(f"/join/{invite}").status_code == 200  # the link leads to the invite page
    assert '<svg role="img"' in community.text  # the invite's QR code, inline
    assert "138****0002" in community.text and "13800000002" not in community.text
    assert "管理员" in community.text  # 李阿姨 was named admin by the demo

    wave = web.get(f"/leader/waves/{arrived}")
    assert wave.status_code == 200
    assert "放门卫室, 谢谢" in wave.text  # a member's remark, for the leader
    assert f"/leader/waves/{arrived}/orders.xlsx" in wave.text

    csv = web.get(f"/leader/waves/{arrived}/orders.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode()) and "跟团号" in csv.content.decode()
    assert csv.content.decode().count("\n") == 5  # a header and the four orders
    xlsx = web.get(f"/leader/waves/{arrived}/orders.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    assert "烟台红富士苹果 3斤 3斤装" in web.get("/leader/waves/new").text  # SKUs to choose from
    money = web.get("/leader/money")
    assert money.status_code == 200 and "可提现" in money.text
    credit = web.get("/leader/credit")
    assert credit.status_code == 200
    assert all(part in credit.text for part in ("按时收货", "提货完成率", "售后率", "投诉率"))
    assert "60" in credit.text
    # Each share says what it counts ("4 单中已提货 3 单（75%）"), not a bare "4 单中 75%".
    explained = re.findall(r"(\d+) (?:单中|次到货中)\D+(\d+) [单次]（(\d+)%", credit.text)
    assert explained, credit.text
    for n, k, pct in explained:
        assert int(k) <= int(n) and int(pct) == round(100 * int(k) / int(n))


def test_the_sub_leaders_money_traces_each_commission_to_its_order(web: TestClient) -> None:
    log_in(web, SUB_LEADER)
    page = web.get("/leader/money")
    assert page.status_code == 200
    orders = rows(
        "SELECT c.order_id, c.amount FROM commissions c JOIN leaders l ON l.id = c.leader_id"
        " JOIN users u ON u.id = l.user_id WHERE u.phone = :p",
        p=SUB_LEADER,
    )
    assert orders  # the completed wave's pickups earned commission, frozen for now
    for order_id, amount in orders:
        assert f"#{order_id}" in page.text
        assert f"¥{amount // 100}.{amount % 100:02d}" in page.text
    assert demo.WAVE_COMPLETED in page.text and "冻结中" in page.text
    # All of it frozen: nothing to withdraw, and the button says so instead of inviting a try.
    assert re.search(r"<button[^>]*disabled[^>]*>申请提现</button>", page.text)
    assert "暂无可提现金额" in page.text


# ---------------------------------------------------------------- refusals


PAGES = [
    "/leader",
    "/leader/pickup",
    "/leader/communities",
    "/leader/waves/new",
    "/leader/catalogue",
    "/leader/money",
    "/leader/credit",
]


def test_the_console_needs_a_login_and_a_leader(web: TestClient) -> None:
    for path in PAGES:
        reply = web.get(path, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=")
    log_in(web, MEMBER)
    for path in PAGES:
        reply = web.get(path)
        assert reply.status_code == 403, path
        assert 'href="/me/apply"' in reply.text, path
    member_form = web.post(
        "/leader/money/withdraw",
        data={"csrf_token": csrf(web), "amount": "1"},
        follow_redirects=False,
    )
    assert member_form.status_code == 403 and 'href="/me/apply"' in member_form.text


def test_another_leaders_community_and_wave_are_refused(web: TestClient) -> None:
    first = leader_ids(LEADER)
    arrived = listing_of(LEADER, demo.WAVE_ARRIVED)
    log_in(web, THIRD_LEADER)
    # Not theirs and maybe unknown to them: answered as if there were none (404), like an id
    # that does not exist.
    assert web.get(f"/leader/communities/{first['community']}").status_code == 404
    for path in ("", "/orders.csv", "/orders.xlsx"):
        reply = web.get(f"/leader/waves/{arrived}{path}")
        assert reply.status_code == 404, path
        assert "放门卫室" not in reply.text
    assert web.get(f"/leader/pickup?point={first['point']}").status_code == 404
    assert web.get("/leader/waves/999999").status_code == 404


# ---------------------------------------------------------------- the pickup counter


def test_a_code_is_valid_once_then_shown_as_used(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    code, nickname = waiting_codes(point)[0]
    log_in(web, LEADER)
    kind, words = verify(web, code, point)
    assert kind == "ok"
    masked = nickname[0] + "*" + nickname[-1]
    assert words.startswith(f"✓ {masked} · 砀山酥梨 5斤×1")
    assert scalar("SELECT status FROM pickups WHERE code = :c", c=code) == "picked_up"
    again, words = verify(web, code, point)
    assert again == "bad"
    assert re.search(r"已提货 \(\d\d:\d\d\)", words), words
    counter = web.get(f"/leader/pickup?point={point}").text
    assert "pickup-result" not in counter  # the result is shown once, not kept on the page
    assert counter.count("手机尾号") == 3


def test_a_double_submit_of_one_code_shows_the_same_green_result(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    code, _ = waiting_codes(point)[0]
    log_in(web, LEADER)
    body = {**form_of(web, f"/leader/pickup?point={point}", "once", need_key=True), "code": code}
    for _ in range(2):
        reply = web.post(
            "/leader/pickup", data={**body, "pickup_point_id": point}, follow_redirects=False
        )
        assert pickup_result(web.get(reply.headers["location"]).text)[0] == "ok"


def test_unknown_and_malformed_codes_are_red(web: TestClient) -> None:
    point = leader_ids(LEADER)["point"]
    taken = {code for code, _ in waiting_codes(point)}
    unknown = next(f"{n:06d}" for n in range(100000, 100100) if f"{n:06d}" not in taken)
    log_in(web, LEADER)
    assert verify(web, unknown, point) == ("bad", f"✗ 没有订单使用这个提货码 提货码 {unknown}")
    assert verify(web, "12ab", point)[0] == "bad"
    assert scalar("SELECT COUNT(*) FROM pickups WHERE status = 'waiting'") == 4


def test_a_code_of_another_pickup_point_is_refused_and_arrivals_are_confirmed(
    web: TestClient,
) -> None:
    shared = shared_wave_arrived(receive=(SUB_LEADER,))
    point = shared.points[LEADER]
    log_in(web, LEADER)
    today = web.get("/leader").text
    assert "待确认收货" in today and "山核桃尝鲜团" in today
    confirm = post(
        web,
        "/leader/arrivals",
        {"wave_id": shared.wave_id, "pickup_point_id": point},
        "/leader",
    )
    assert confirm.status_code == 303
    assert (
        scalar(
            "SELECT COUNT(*) FROM pickups WHERE wave_id = :w AND pickup_point_id = :p",
            w=shared.wave_id,
            p=point,
        )
        == 1
    )
    assert "待确认收货" not in web.get("/leader").text
    twice = post(
        web,
        "/leader/arrivals",
        {"wave_id": shared.wave_id, "pickup_point_id": point},
        "/leader/money",
    )
    assert twice.status_code == 303  # a double tap: already received, nothing more happens

    elsewhere = shared.codes[SUB_LEADER]
    kind, words = verify(web, elsewhere, point)
    assert kind == "bad" and "不是本提货点的订单" in words
    assert demo.LEADERS[1][2] in words  # where the member should go
    assert (
        scalar(
            "SELECT status FROM pickups WHERE code = :c AND pickup_point_id = :p",
            c=elsewhere,
            p=shared.points[SUB_LEADER],
        )
        == "waiting"
    )


# ---------------------------------------------------------------- forms


def test_withdrawal_field_errors_change_nothing(web: TestClient) -> None:
    log_in(web, SUB_LEADER)
    empty = post(web, "/leader/money/withdraw", {"amount": ""}, "/leader/money")
    assert empty.status_code == 400 and field_errors(empty.text) == {"amount": "请填写此项"}
    bad = post(web, "/leader/money/withdraw", {"amount": "1.234"}, "/leader/money")
    assert bad.status_code == 400 and "元" in field_errors(bad.text)["amount"]
    assert 'value="1.234"' in bad.text  # what was typed stays
    zero = post(web, "/leader/money/withdraw", {"amount": "0"}, "/leader/money")
    assert zero.status_code == 400 and "amount" in field_errors(zero.text)
    # Everything earned is still frozen: nothing is available to withdraw.
    above = post(web, "/leader/money/withdraw", {"amount": "1.00"}, "/leader/money")
    assert above.status_code == 409
    assert field_errors(above.text)["amount"] == "提现金额超过可提现佣金"
    assert scalar("SELECT COUNT(*) FROM withdrawals") == 0


def test_a_withdrawal_is_requested_once_on_a_double_submit(web: TestClient) -> None:
    from tuangou.commission import tasks as commission_tasks

    clock.set_offset(timedelta(days=8))  # past the after-sale window
    assert commission_tasks.unfreeze_due() > 0
    log_in(web, SUB_LEADER)
    body = {**form_of(web, "/leader/money", "once", need_key=True), "amount": "0.50"}
    for _ in range(2):
        reply = web.post("/leader/money/withdraw", data=body, follow_redirects=False)
        assert reply.status_code == 303
    assert rows("SELECT amount, status FROM withdrawals") == [(50, "requested")]
    # The same page sent again with another amount (after going back) is a new request.
    other = web.post(
        "/leader/money/withdraw", data={**body, "amount": "0.20"}, follow_redirects=False
    )
    assert other.status_code == 303
    assert sorted(rows("SELECT amount FROM withdrawals")) == [(20,), (50,)]
    assert "审核中" in web.get("/leader/money").text


def _wave_form(**changes: Any) -> dict[str, Any]:
    sku = scalar("SELECT id FROM skus WHERE name = '3斤装'")
    tomorrow = clock.to_local(clock.now() + timedelta(days=1))
    form = {
        "title": "明晚到 · 烟台苹果",
        "community_id": leader_ids(LEADER)["community"],
        "pickup_point_id": leader_ids(LEADER)["point"],
        "cutoff_at": tomorrow.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (tomorrow.date() + timedelta(days=1)).isoformat(),
        "items[0].sku_id": sku,
        "items[0].price": "25.90",
        "items[0].moq": "10",
        "items[0].stock": "100",
        "items[0].per_member_limit": "5",
        "items[0].tiers": "20:23.90, 40:21.90",
    }
    form.update(changes)
    return form


def test_publish_shows_each_error_next_to_its_field_and_keeps_the_values(
    web: TestClient,
) -> None:
    before = scalar("SELECT COUNT(*) FROM waves")
    log_in(web, LEADER)
    past = clock.to_local(clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    reply = post(web, "/leader/waves/new", _wave_form(cutoff_at=past), "/leader/waves/new")
    assert reply.status_code == 422
    assert field_errors(reply.text) == {"cutoff_at": "截单时间必须晚于现在"}
    assert 'value="明晚到 · 烟台苹果"' in reply.text

    reply = post(
        web, "/leader/waves/new", _wave_form(**{"items[0].stock": "5"}), "/leader/waves/new"
    )
    assert reply.status_code == 422
    assert field_errors(reply.text) == {"items[0].stock": "库存须不少于成团数量"}

    reply = post(
        web,
        "/leader/waves/new",
        _wave_form(**{"items[0].tiers": "20:29.90", "items[0].price": "abc", "title": ""}),
        "/leader/waves/new",
    )
    assert reply.status_code == 400
    assert set(field_errors(reply.text)) == {"title", "items[0].price"}

    reply = post(
        web, "/leader/waves/new", _wave_form(**{"items[0].tiers": "20:29.90"}), "/leader/waves/new"
    )
    assert field_errors(reply.text) == {"items[0].tiers": "每一档价格须低于上一档"}
    reply = post(
        web, "/leader/waves/new", _wave_form(**{"items[0].tiers": "二十"}), "/leader/waves/new"
    )
    assert reply.status_code == 400 and set(field_errors(reply.text)) == {"items[0].tiers"}
    assert scalar("SELECT COUNT(*) FROM waves") == before


def test_publish_creates_one_wave_on_a_double_submit(web: TestClient) -> None:
    before = scalar("SELECT COUNT(*) FROM waves")
    log_in(web, LEADER)
    body = {**form_of(web, "/leader/waves/new", "once", need_key=True), **_wave_form()}
    first = web.post("/leader/waves/new", data=body, follow_redirects=False)
    second = web.post("/leader/waves/new", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert scalar("SELECT COUNT(*) FROM waves") == before + 1
    page = web.get(first.headers["location"]).text
    assert "明晚到 · 烟台苹果" in page and "已团 0/10" in page


def _catalogue_wave(title: str = "山核桃尝鲜团") -> int:
    """An open supplier wave (帮卖), 15% commission, adopted by nobody yet."""
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction
    from tuangou.pools import service as pools

    def build(session: Any) -> int:
        staff = next(u for u in accounts.list_users(session, role="supplier") if u.supplier_id)
        assert staff.supplier_id is not None
        sku = scalar("SELECT id FROM skus WHERE name = '15枚'")
        now = clock.now()
        return pools.create_catalogue_wave(
            session,
            user_id=staff.id,
            supplier_id=staff.supplier_id,
            data=pools.WaveInput(
                title=title,
                cutoff_at=now + timedelta(hours=5),
                delivery_date=clock.local_date(now + timedelta(days=1)),
                commission_bps=1500,
                items=[pools.ItemInput(sku_id=sku, price=2190, moq=5, stock=50)],
            ),
        ).id

    return run_in_transaction(build)


def test_adopting_a_catalogue_wave_once_per_community(web: TestClient) -> None:
    wave_id = _catalogue_wave()
    third = leader_ids(THIRD_LEADER)
    log_in(web, THIRD_LEADER)
    page = web.get("/leader/catalogue").text
    assert "山核桃尝鲜团" in page and "佣金 15%" in page
    choice = {"community_id": third["community"], "pickup_point_id": third["point"]}
    first = post(web, f"/leader/catalogue/{wave_id}/adopt", choice, "/leader/catalogue")
    assert first.status_code == 303 and first.headers["location"].startswith("/leader/waves/")
    again = post(web, f"/leader/catalogue/{wave_id}/adopt", choice, "/leader/money")
    assert again.status_code == 409
    assert "该接龙已在这个社群发布" in again.text
    assert scalar("SELECT COUNT(*) FROM wave_listings WHERE wave_id = :w", w=wave_id) == 1
    # Another leader's community is not theirs to adopt into.
    other = leader_ids(LEADER)
    refused = post(
        web,
        f"/leader/catalogue/{wave_id}/adopt",
        {"community_id": other["community"], "pickup_point_id": third["point"]},
        "/leader/money",
    )
    assert refused.status_code == 404
    assert scalar("SELECT COUNT(*) FROM wave_listings WHERE wave_id = :w", w=wave_id) == 1
