"""Every entry point passes through the risk engine (both backends): the pages' sign-up,
log-in, 开团/参团, 单独购买, 跟团, invite join, bargain start and order and flash buy, and the
API's 单独购买, flash buy and bargain start and order. A blocked member is refused there in the
member's words (never naming the signal) and nothing is created; an allowed one goes through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from tests.bargains import helpers as bargain_helpers
from tests.conftest import Api, _auth
from tests.flashsales.conftest import Flash
from tests.web.pages import alerts, demo_log_in, form_of, rows, scalar
from tuangou import demo
from tuangou.accounts.sms import LogSmsSender
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.risk import graph
from tuangou.risk import service as risk
from tuangou.risk.rules import Reason

REFUSED_ZH = "为了平台安全，此操作被拒绝"
XIAOHONG = demo.MEMBERS[2][0]  # 张小红: in 幸福里邻里团, no bargain of her own
ZHAO = demo.MEMBERS[5][0]  # 赵六: in 幸福里邻里团 and 阳光花园业主群
LIU = demo.MEMBERS[4][0]  # 刘婷
CUIHU = demo.LEADERS[2][4]  # 翠湖苑团购群: neither of them is in it


def case_naming(*members: int) -> int:
    """A review case naming ``members``, open: they are flagged."""

    def work(session: Any) -> int:
        finding = graph.Finding(
            "dense_ring",
            tuple(members),
            (Reason("dense_ring", len(members), extra="20"),),
            tuple(graph.Edge(f"m:{m}", "t:bargain:1", "help") for m in members),
        )
        case = risk.open_case(session, finding, source="graph")
        assert case is not None
        return int(case.id)

    return run_in_transaction(work)


def confirm(case_id: int, operator_id: int) -> None:
    """The operator confirms the case: its members are blocked."""
    run_in_transaction(
        lambda s: risk.decide_case(s, case_id, confirm=True, operator_id=operator_id)
    )


def block(member: int) -> None:
    confirm(case_naming(member), member)


def user_id(phone: str) -> int:
    return int(scalar("SELECT id FROM users WHERE phone = :p", p=phone))


def made() -> dict[str, int]:
    """What an action creates: orders, seats, bargains, memberships, accounts."""
    tables = ("orders", "team_seats", "bargains", "community_members", "users", "payments")
    return {t: int(scalar(f"SELECT COUNT(*) FROM {t}")) for t in tables}


# ---------------------------------------------------------------- the pages


def _wave_listing() -> tuple[int, int]:
    """幸福里邻里团's listing of the open wave, and one of its items."""
    found = rows(
        "SELECT wl.id, i.id FROM wave_listings wl JOIN waves w ON w.id = wl.wave_id"
        " JOIN wave_items i ON i.wave_id = w.id JOIN leaders l ON l.id = wl.leader_id"
        " JOIN users u ON u.id = l.user_id WHERE u.phone = :leader AND w.title = :title"
        " ORDER BY i.id",
        leader=demo.LEADERS[0][0],
        title=demo.WAVE_OPEN,
    )
    return int(found[0][0]), int(found[0][1])


def _slot_on_sale() -> int:
    """The demo's first flash slot, moved to be on sale now."""
    slot = int(scalar("SELECT MIN(id) FROM flash_slots"))
    now = clock.now()
    run_in_transaction(
        lambda s: s.execute(
            text("UPDATE flash_slots SET starts_at = :a, ends_at = :b WHERE id = :i"),
            {"a": now - timedelta(minutes=1), "b": now + timedelta(hours=1), "i": slot},
        )
    )
    return slot


def _page_entry_points(bargain_of: Callable[[], int]) -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, the form's page, where it posts, its fields) for each page entry point."""
    campaign = int(scalar("SELECT MIN(id) FROM team_campaigns WHERE allow_solo"))
    team = int(scalar("SELECT MIN(id) FROM teams WHERE status = 'open'"))
    listing, item = _wave_listing()
    code = str(scalar("SELECT invite_code FROM communities WHERE name = :n", n=CUIHU))
    slot = _slot_on_sale()
    bargain_campaign = int(scalar("SELECT MIN(id) FROM bargain_campaigns"))
    return [
        ("开团", f"/c/{campaign}", f"/c/{campaign}/open", {}),
        ("单独购买", f"/c/{campaign}", f"/c/{campaign}/solo", {}),
        ("参团", f"/t/{team}", f"/t/{team}/join", {}),
        ("跟团", f"/w/{listing}", f"/w/{listing}", {f"qty_{item}": "1"}),
        ("invite", f"/join/{code}", f"/join/{code}", {"accept_rules": "1", "rules_version": "1"}),
        ("flash", f"/flash/{slot}", f"/flash/{slot}/buy", {}),
        (
            "bargain start",
            f"/bargains/{bargain_campaign}",
            f"/bargains/{bargain_campaign}/start",
            {},
        ),
        ("bargain order", "/b/{bargain}", "/b/{bargain}/order", {}),
    ]


def _act(
    client: TestClient, page: str, path: str, fields: dict[str, str], bargain: int
) -> Response:
    page, path = page.format(bargain=bargain), path.format(bargain=bargain)
    key = "idem" if page.startswith("/w/") else "key"
    body = {**form_of(client, page, key), **fields}
    return client.post(path, data=body, follow_redirects=False)


def test_the_pages_refuse_a_blocked_member_everywhere_and_let_others_through(
    client: TestClient,
) -> None:
    demo.load()
    # Each member may start more than one bargain here: the start itself is what is judged.
    run_in_transaction(
        lambda s: s.execute(text("UPDATE bargain_campaigns SET starts_per_member = 5"))
    )
    bargain_campaign = int(scalar("SELECT MIN(id) FROM bargain_campaigns"))

    def own_bargain(client: TestClient) -> int:
        """The member starts a bargain (allowed yet) and gets its id."""
        r = _act(
            client, f"/bargains/{bargain_campaign}", f"/bargains/{bargain_campaign}/start", {}, 0
        )
        assert r.status_code == 303, alerts(r.text)
        return int(r.headers["location"].split("/b/")[1].split("?")[0])

    entry_points = _page_entry_points(lambda: 0)

    # Blocked: 张小红 logs in, starts a bargain, then a case naming her is confirmed.
    demo_log_in(client, XIAOHONG)
    hers = own_bargain(client)
    block(user_id(XIAOHONG))
    for name, page, path, fields in entry_points:
        before = made()
        events = int(scalar("SELECT COUNT(*) FROM risk_events"))
        reply = _act(client, page, path, fields, hers)
        assert reply.status_code == 403, (name, reply.status_code, alerts(reply.text))
        assert REFUSED_ZH in reply.text, name
        assert "ring" not in reply.text and "dense" not in reply.text, name
        assert made() == before, name
        if name not in ("跟团", "单独购买", "bargain start", "bargain order"):
            # Judged in a transaction of its own: the refused attempt stays in the history.
            assert int(scalar("SELECT COUNT(*) FROM risk_events")) == events + 1, name
    # ... and her password log-in too.
    reply = client.post(
        "/login",
        data={**form_of(client, "/login"), "phone": XIAOHONG, "password": demo.PASSWORD},
        follow_redirects=False,
    )
    assert reply.status_code == 400 and REFUSED_ZH in alerts(reply.text)
    assert client.get("/orders", follow_redirects=False).status_code == 200  # still her session

    # Allowed: 赵六 goes through each of them, from this browser (its device cookie).
    demo_log_in(client, ZHAO)
    his = own_bargain(client)
    for name, page, path, fields in entry_points:
        before = made()
        reply = _act(client, page, path, fields, his)
        assert reply.status_code == 303, (name, alerts(reply.text))
        assert made() != before, name
    device = client.cookies.get("tg_device")
    assert device
    screened = {
        str(t)
        for (t,) in rows(
            "SELECT DISTINCT type FROM risk_events WHERE actor = :u AND device = :d",
            u=user_id(ZHAO),
            d=device,
        )
    }
    assert screened == {"login", "join", "order", "invite", "bargain"}


def test_the_log_in_page_offers_the_sms_code_to_a_flagged_member(client: TestClient) -> None:
    demo.load()
    case = case_naming(user_id(LIU))  # flagged: a password log-in is challenged
    reply = client.post(
        "/login",
        data={**form_of(client, "/login"), "phone": LIU, "password": demo.PASSWORD},
        follow_redirects=False,
    )
    assert reply.status_code == 403
    assert 'action="/login/code"' in reply.text and f'value="{LIU}"' in reply.text
    assert "请用发送到手机的验证码确认是您本人" in alerts(reply.text)
    assert client.get("/orders", follow_redirects=False).status_code == 303  # not logged in
    sent = client.post(
        "/login/code", data={**form_of(client, "/login/code"), "phone": LIU}, follow_redirects=False
    )
    assert sent.status_code == 200, alerts(sent.text)
    code = [c for p, c in LogSmsSender.sent if p == LIU][-1]
    body = {**form_of(client, "/login/code"), "phone": LIU, "code": code, "step": "verify"}
    assert client.post("/login/code", data=body, follow_redirects=False).status_code == 303
    assert client.get("/orders", follow_redirects=False).status_code == 200
    # Blocked: the code does not open the door either.
    client.cookies.clear()
    confirm(case, user_id(LIU))
    clock.advance(timedelta(minutes=2))  # a new code may be sent
    client.post("/login/code", data={**form_of(client, "/login/code"), "phone": LIU})
    code = [c for p, c in LogSmsSender.sent if p == LIU][-1]
    body = {**form_of(client, "/login/code"), "phone": LIU, "code": code, "step": "verify"}
    reply = client.post("/login/code", data=body, follow_redirects=False)
    assert reply.status_code == 400 and REFUSED_ZH in alerts(reply.text)
    assert client.get("/orders", follow_redirects=False).status_code == 303  # not logged in


def test_the_sign_up_page_reads_the_device_cookie_and_a_farm_is_refused(
    client: TestClient,
) -> None:
    farm = "tablet-farm-1"
    for n in range(14):  # 14 accounts already signed up on this device within the hour
        run_in_transaction(
            lambda s, n=n: risk.assess(s, type="signup", actor=None, device=farm, phone=None)
        )

    def sign_up(phone: str) -> Response:
        body = {"phone": phone, "password": "secret123", "nickname": "新邻居"}
        return client.post(
            "/signup", data={**form_of(client, "/signup"), **body}, follow_redirects=False
        )

    client.cookies.set("tg_device", farm)
    users = made()["users"]
    reply = sign_up("15900000001")
    assert reply.status_code == 400 and REFUSED_ZH in alerts(reply.text)
    assert "设备" not in "".join(alerts(reply.text))
    assert made()["users"] == users
    assert scalar("SELECT COUNT(*) FROM risk_events WHERE device = :d", d=farm) == 15

    client.cookies.clear()
    client.cookies.set("tg_device", "family-tablet")
    reply = sign_up("15900000002")
    assert reply.status_code == 303, alerts(reply.text)
    new = user_id("15900000002")
    assert (
        scalar(
            "SELECT COUNT(*) FROM risk_events WHERE type = 'signup' AND actor = :u AND device = :d",
            u=new,
            d="family-tablet",
        )
        == 1
    )


# ---------------------------------------------------------------- the API


Buy = Callable[[dict[str, str]], Response]


def _solo(api: Api) -> Buy:
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid, allow_solo=True)
    path = f"/api/campaigns/{campaign['id']}/solo"
    return lambda who: api.c.post(path, json={"quantity": 1}, headers=_auth(who))


def _flash(api: Api) -> Buy:
    op = api.operator()
    sid, _ = api.supplier(op)
    world = Flash(api, op, sid, bargain_helpers.sku(api, op, sid))
    slot = world.slots(stock=3)
    return lambda who: world.buy(who, slot)


def _bargain_start(api: Api) -> Buy:
    _, campaign = bargain_helpers.campaign(api)
    path = f"/api/bargain-campaigns/{campaign['id']}/bargains"
    return lambda who: api.c.post(path, headers=_auth(who))


API_ENTRY_POINTS: dict[str, Callable[[Api], Buy]] = {
    "单独购买": _solo,
    "flash": _flash,
    "bargain start": _bargain_start,
}


@pytest.mark.parametrize("name", [*API_ENTRY_POINTS, "bargain order"])
def test_the_api_refuses_a_blocked_member_and_creates_nothing(api: Api, name: str) -> None:
    allowed, blocked = bargain_helpers.member(api), bargain_helpers.member(api)
    if name == "bargain order":
        _, campaign = bargain_helpers.campaign(api)
        mine = bargain_helpers.start(api, blocked, campaign["id"])
        theirs = bargain_helpers.start(api, allowed, campaign["id"])
        block(int(blocked["user_id"]))
        before = made()
        refused = bargain_helpers.buy(api, blocked, mine["id"])
        after = made()
        went = bargain_helpers.buy(api, allowed, theirs["id"])
    else:
        act = API_ENTRY_POINTS[name](api)
        block(int(blocked["user_id"]))
        before = made()
        refused = act(blocked)
        after = made()
        went = act(allowed)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "risk_refused"
    assert "ring" not in refused.text
    for table in ("orders", "payments", "bargains"):
        assert after[table] == before[table], table
    assert went.status_code == 201, went.text
