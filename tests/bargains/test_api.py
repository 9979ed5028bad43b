"""The bargain by friends end to end over the HTTP app, on both backends: starting, cutting,
every refusal, buying through the one order, payment and escrow path, expiry, the risk hook
and the reversal of a fraud ring's helps. Each scenario ends with the audit finding nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.bargains.helpers import buy, campaign, help_, member, start, view
from tests.conftest import Api, _auth, audit_violations, rows, run_worker, scalar
from tuangou.bargains import rules
from tuangou.bargains import service as bargains
from tuangou.core import clock
from tuangou.core.db import run_in_transaction


def _code(r: Any) -> str:
    return str(r.json()["code"])


def test_friends_cut_to_the_floor_and_the_starter_buys(api: Api) -> None:
    _, c = campaign(api)
    starter = member(api, "发起人")
    b = start(api, starter, c["id"])
    planned = rules.schedule(2000, 4)
    assert b["schedule"] == planned and b["price"] == 3000 and b["cuts_left"] == 4
    assert b["next_cut"] == planned[0] and b["is_starter"]
    price = 3000
    for i in range(4):
        friend = member(api, f"好友{i}")
        # A friend opens the link: the bargain, masked names, the cuts left and the time.
        seen = view(api, friend, b["id"], b["share_token"])
        assert seen.status_code == 200 and not seen.json()["is_starter"]
        r = help_(api, friend, b)
        assert r.status_code == 201, r.text
        assert r.json()["cut"] == planned[i]
        price -= planned[i]
        summary = r.json()["bargain"]
        assert summary["price"] == price and summary["cuts_left"] == 3 - i
        after = view(api, friend, b["id"]).json()  # a helper sees it without the link too
        assert after["price"] == price and after["cuts_left"] == 3 - i
        assert after["helpers"][-1] == {
            "name": after["helpers"][-1]["name"],
            "amount": planned[i],
            "bonus": 0,
            "at": after["helpers"][-1]["at"],
            "voided": False,
        }
        assert "*" in after["helpers"][-1]["name"]
    assert price == 1000
    final = view(api, starter, b["id"]).json()
    assert final["status"] == "complete" and final["seconds_left"] > 0
    late = member(api, "来晚了")
    assert _code(help_(api, late, b)) == "bargain_complete"

    r = buy(api, starter, b["id"])
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    assert order["kind"] == "bargain" and order["amount"] == 1000
    api.pay(r.json()["pay_url"])
    order = api.order(starter, order["id"])
    assert order["status"] == "confirmed" and order["address"]["line"]
    assert view(api, starter, b["id"]).json()["status"] == "paid"
    # A paid bargain is never cut again, nor bought twice.
    assert _code(help_(api, late, b)) == "bargain_complete"
    assert _code(buy(api, starter, b["id"])) == "bargain_already_ordered"
    assert scalar("SELECT sold FROM bargain_campaigns WHERE id = :i", i=c["id"]) == 1
    assert audit_violations() == []


def test_every_refusal_has_its_code_and_changes_nothing(api: Api) -> None:
    op, c = campaign(api, helps_per_member=1, starts_per_member=1)
    a, b_starter, friend = member(api, "甲"), member(api, "乙"), member(api, "丙")
    bargain_a = start(api, a, c["id"])
    bargain_b = start(api, b_starter, c["id"])
    r = api.c.post(f"/api/bargain-campaigns/{c['id']}/bargains", headers=_auth(a))
    assert r.status_code == 409 and _code(r) == "start_limit_reached"

    r = help_(api, a, bargain_a)
    assert r.status_code == 409 and _code(r) == "self_help"
    assert help_(api, friend, bargain_a).status_code == 201
    r = help_(api, friend, bargain_a)
    assert r.status_code == 409 and _code(r) == "already_helped"
    r = help_(api, friend, bargain_b)  # one help per member in this campaign
    assert r.status_code == 409 and _code(r) == "help_limit_reached"
    # Without the share link the bargain is as missing as one that does not exist.
    stranger = member(api, "路人")
    r = api.c.post(f"/api/bargains/{bargain_b['id']}/help", json={}, headers=_auth(stranger))
    assert r.status_code == 404 and _code(r) == "bargain_not_found"
    assert view(api, stranger, bargain_b["id"]).status_code == 404
    assert view(api, stranger, 99999).status_code == 404
    # A staff account cannot help.
    r = help_(api, op, bargain_b)
    assert r.status_code == 403 and _code(r) == "staff_account"
    assert scalar("SELECT price FROM bargains WHERE id = :i", i=bargain_b["id"]) == 3000
    assert scalar("SELECT COUNT(*) FROM bargain_helps") == 1
    # Only the starter buys.
    assert buy(api, friend, bargain_a["id"]).status_code == 404
    assert scalar("SELECT COUNT(*) FROM orders") == 0
    assert audit_violations() == []


def test_an_expired_bargain_closes_exactly_once(api: Api) -> None:
    _, c = campaign(api, hours=2)
    a = member(api, "甲")
    b = start(api, a, c["id"])
    assert help_(api, member(api, "乙"), b).status_code == 201
    clock.advance(timedelta(hours=2, minutes=1))
    r = help_(api, member(api, "丙"), b)
    assert r.status_code == 409 and _code(r) == "bargain_expired"
    assert _code(buy(api, a, b["id"])) == "bargain_expired"
    first = run_worker()
    assert first.get("close expired bargains") == 1
    assert run_worker().get("close expired bargains", 0) == 0
    status = scalar("SELECT status FROM bargains WHERE id = :i", i=b["id"])
    assert status == bargains.BargainStatus.EXPIRED
    assert audit_violations() == []


def test_only_at_the_floor_when_the_campaign_says_so(api: Api) -> None:
    _, c = campaign(api, buy_at_any_price=False, helpers_needed=2)
    a = member(api, "甲")
    b = start(api, a, c["id"])
    assert help_(api, member(api, "乙"), b).status_code == 201
    r = buy(api, a, b["id"])
    assert r.status_code == 409 and _code(r) == "floor_not_reached"
    assert scalar("SELECT COUNT(*) FROM orders") == 0
    assert help_(api, member(api, "丙"), b).status_code == 201
    assert buy(api, a, b["id"]).status_code == 201


def test_an_unpaid_order_gives_the_bargain_back(api: Api) -> None:
    _, c = campaign(api, helpers_needed=2)
    a = member(api, "甲")
    b = start(api, a, c["id"])
    assert help_(api, member(api, "乙"), b).status_code == 201
    r = buy(api, a, b["id"])
    assert r.status_code == 201
    assert scalar("SELECT held FROM bargain_campaigns WHERE id = :i", i=c["id"]) == 1
    # While the order waits, nobody cuts: its price is fixed.
    assert _code(help_(api, member(api, "丙"), b)) == "bargain_complete"
    clock.advance(timedelta(minutes=16))
    run_worker()
    again = view(api, a, b["id"]).json()
    assert again["status"] == "open" and again["order_id"] is None
    assert scalar("SELECT held FROM bargain_campaigns WHERE id = :i", i=c["id"]) == 0
    assert help_(api, member(api, "丁"), b).status_code == 201
    r = buy(api, a, b["id"])
    assert r.status_code == 201 and r.json()["order"]["amount"] == 1000
    api.pay(r.json()["pay_url"])
    assert audit_violations() == []


def test_a_brand_new_member_cuts_more_and_the_schedule_still_sums(api: Api) -> None:
    _, c = campaign(
        api,
        new_member_bonus=300,
        hours=rules.MAX_HOURS,
        ends_at=(clock.now() + timedelta(days=10)).isoformat(),
    )
    a = member(api, "甲")
    old = member(api, "老会员")
    b = start(api, a, c["id"])
    planned = rules.schedule(2000, 4)
    clock.advance(timedelta(hours=rules.NEW_MEMBER_HOURS + 1))
    r = help_(api, old, b)  # signed up long ago: no bonus
    assert r.json()["cut"] == planned[0] and r.json()["bonus"] == 0
    new = member(api, "新人")
    r = help_(api, new, b)
    assert r.status_code == 201, r.text
    assert r.json()["bonus"] == 300 and r.json()["cut"] == planned[1] + 300
    schedule = view(api, a, b["id"]).json()["schedule"]
    assert sum(schedule) == 2000 and schedule[:2] == [planned[0], planned[1] + 300]
    assert min(schedule) >= 1
    revisions = rows(
        "SELECT revision, SUM(amount) FROM bargain_cuts WHERE bargain_id = :i GROUP BY revision",
        i=b["id"],
    )
    assert sorted(revisions) == [(0, 2000), (1, 2000)]
    for i in range(2):
        assert help_(api, member(api, f"再{i}"), b).status_code == 201
    assert view(api, a, b["id"]).json()["price"] == 1000
    assert audit_violations() == []


@dataclass
class _Verdict:
    action: str


@pytest.fixture
def risk() -> Iterator[list[tuple[int, int, str | None, str | None]]]:
    """A risk check that blocks helpers whose device is "farm", recording what it was asked."""
    asked: list[tuple[int, int, str | None, str | None]] = []

    def check(
        session: Session, helper_id: int, bargain: Any, device: str | None, ip: str | None
    ) -> _Verdict:
        asked.append((helper_id, bargain.id, device, ip))
        if device == "farm":
            return _Verdict("block")
        if device == "odd":
            return _Verdict("challenge")
        return _Verdict("allow")

    bargains.register_help_check(check, name="test")
    yield asked
    bargains.unregister_help_check("test")


def test_the_risk_check_refuses_without_naming_a_signal(
    api: Api, risk: list[tuple[int, int, str | None, str | None]]
) -> None:
    _, c = campaign(api)
    a = member(api, "甲")
    b = start(api, a, c["id"])
    bot, odd, fine = member(api, "机器"), member(api, "奇怪"), member(api, "好人")
    r = help_(api, bot, b, **{"X-Device-Id": "farm"})
    assert r.status_code == 403 and _code(r) == "risk_refused"
    assert "farm" not in r.text and "device" not in r.text.lower()
    r = help_(api, odd, b, **{"X-Device-Id": "odd"})
    assert r.status_code == 403 and _code(r) == "risk_refused"
    assert help_(api, fine, b, **{"X-Device-Id": "phone-1"}).status_code == 201
    assert [(h, d) for h, _, d, _ in risk] == [
        (int(bot["user_id"]), "farm"),
        (int(odd["user_id"]), "odd"),
        (int(fine["user_id"]), "phone-1"),
    ]
    assert all(ip for *_, ip in risk)
    # The refusals are recorded for the operators; they cut nothing.
    assert sorted(rows("SELECT action, device FROM bargain_help_refusals")) == [
        ("block", "farm"),
        ("challenge", "odd"),
    ]
    assert scalar("SELECT COUNT(*) FROM bargain_helps") == 1
    assert scalar("SELECT helped FROM bargain_usage WHERE user_id = :u", u=bot["user_id"]) is None
    assert audit_violations() == []


def test_a_fraud_rings_helps_are_reversed_exactly_once(api: Api) -> None:
    op, c = campaign(api, helpers_needed=4, helps_per_member=5, starts_per_member=5)
    a, paid_starter, ordering = member(api, "甲"), member(api, "乙"), member(api, "丙")
    ring = [member(api, f"环{i}") for i in range(2)]
    honest = member(api, "好人")
    open_b = start(api, a, c["id"])
    paid_b = start(api, paid_starter, c["id"])
    ordered_b = start(api, ordering, c["id"])
    for friend in (ring[0], honest, ring[1]):
        assert help_(api, friend, open_b).status_code == 201
    for friend in ring:
        assert help_(api, friend, paid_b).status_code == 201
        assert help_(api, friend, ordered_b).status_code == 201
    r = buy(api, paid_starter, paid_b["id"])
    api.pay(r.json()["pay_url"])
    r = buy(api, ordering, ordered_b["id"])
    unpaid_order = r.json()["order"]["id"]
    honest_cut = view(api, a, open_b["id"]).json()["helpers"][1]["amount"]

    ids = [int(m["user_id"]) for m in ring]
    r = api.c.post(
        "/api/admin/bargains/reverse-helps",
        json={"helper_ids": ids, "reason": "confirmed ring"},
        headers=op,
    )
    assert r.status_code == 200 and r.json() == {"voided": 4}
    after = view(api, a, open_b["id"]).json()
    assert after["price"] == 3000 - honest_cut and after["cuts_taken"] == 1
    assert [h["voided"] for h in after["helpers"]] == [True, False, True]
    assert sum(after["schedule"]) == 2000 and after["schedule"][0] == honest_cut
    # The unpaid order at the cut price was closed; the paid bargain keeps what it paid.
    assert api.order(ordering, unpaid_order)["status"] == "cancelled"
    ordered_after = view(api, ordering, ordered_b["id"]).json()
    assert ordered_after["price"] == 3000 and ordered_after["status"] == "open"
    assert view(api, paid_starter, paid_b["id"]).json()["status"] == "paid"
    # Exactly once.
    again = run_in_transaction(lambda s: bargains.reverse_helps(s, ids, "again"))
    assert again == 0
    assert audit_violations() == []


def test_a_bargain_campaign_ends_and_gives_its_stock_back(api: Api) -> None:
    _, c = campaign(api, helpers_needed=1, ends_at=(clock.now() + timedelta(hours=5)).isoformat())
    a = member(api, "甲")
    b = start(api, a, c["id"])
    assert help_(api, member(api, "乙"), b).status_code == 201
    r = buy(api, a, b["id"])
    api.pay(r.json()["pay_url"])
    sku_id = c["sku_id"]
    assert scalar("SELECT allocated FROM skus WHERE id = :i", i=sku_id) == 10
    clock.advance(timedelta(hours=6))
    done = run_worker()
    assert done.get("end finished bargain campaigns") == 1
    assert scalar("SELECT allocated FROM skus WHERE id = :i", i=sku_id) == 0
    assert scalar("SELECT stock FROM skus WHERE id = :i", i=sku_id) == 999
    assert api.c.get("/api/bargain-campaigns").json() == []
    assert audit_violations() == []


def test_operators_set_up_and_follow_campaigns(api: Api) -> None:
    op, c = campaign(api)
    assert c["status"] == "active" and c["left"] == 10 and c["hours"] == 24
    r = api.c.post(
        "/api/admin/bargain-campaigns",
        json={
            "sku_id": c["sku_id"],
            "ends_at": (clock.now() + timedelta(days=1)).isoformat(),
            "start_price": 1000,
            "floor_price": 998,
            "helpers_needed": 5,
            "stock": 1,
        },
        headers=op,
    )
    assert r.status_code == 422 and _code(r) == "invalid_bargain_campaign"
    assert r.json()["field"] == "helpers_needed"
    a = member(api, "甲")
    start(api, a, c["id"])
    listed = api.c.get(f"/api/admin/bargain-campaigns/{c['id']}/bargains", headers=op).json()
    assert len(listed) == 1 and listed[0]["status"] == "open"
    r = api.c.patch(
        f"/api/admin/bargain-campaigns/{c['id']}", json={"status": "paused"}, headers=op
    )
    assert r.status_code == 200 and r.json()["status"] == "paused"
    r = api.c.post(f"/api/bargain-campaigns/{c['id']}/bargains", headers=_auth(member(api, "乙")))
    assert r.status_code == 409 and _code(r) == "bargain_campaign_not_live"
    mine = api.c.get("/api/bargains/mine", headers=_auth(a)).json()
    assert len(mine) == 1
    assert audit_violations() == []
