"""Every team-buy rule of DOMAIN.md §1, end to end over the HTTP app, on both backends.

Each scenario ends with the audit (invariants 1–5) finding nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import Api, _auth, audit_violations, run_worker
from tests.conftest import rows as _rows
from tests.conftest import scalar as _scalar
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.ledger import rules as ledger_rules
from tuangou.ledger import service as ledger
from tuangou.payments import service as payments
from tuangou.payments.router import callback_signature
from tuangou.teams import service as teams

LADDER = [[2, 1990], [5, 1790], [10, 1590]]
PAST_DEADLINE = timedelta(hours=24, minutes=1)
PAST_HOLD = timedelta(minutes=16)


# ---------------------------------------------------------------- helpers


def _setup(api: Api, **settings: Any) -> tuple[dict[str, str], int, dict[str, str], dict[str, Any]]:
    """An operator, a supplier (id and staff login) and a campaign."""
    op = api.operator()
    sid, staff = api.supplier(op)
    return op, sid, staff, api.campaign(op, sid, **settings)


def _campaign(api: Api, campaign_id: int) -> dict[str, Any]:
    r = api.c.get(f"/api/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _operator_campaign(api: Api, op: dict[str, str], campaign_id: int) -> dict[str, Any]:
    """The campaign as operators see it: with its subsidy budget and how much is spent."""
    r = api.c.get(f"/api/admin/campaigns/{campaign_id}", headers=op)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _inbox(api: Api, who: dict[str, str]) -> list[dict[str, Any]]:
    r = api.c.get("/api/notifications", headers=_auth(who))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _kinds(api: Api, who: dict[str, str]) -> list[str]:
    return [n["kind"] for n in _inbox(api, who)]


def _refunds(order: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted((r["reason"], r["amount"]) for r in order["refunds"])


def _sandbox_pay(api: Api, pay_url: str, outcome: str = "approve") -> dict[str, Any]:
    """Pay on the sandbox page only: the gateway's callback is not delivered yet."""
    q = {k: v[0] for k, v in parse_qs(urlparse(pay_url).query).items()}
    r = api.c.post(
        "/api/sandbox/pay",
        json={"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"], "outcome": outcome},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


TABLES = (
    "orders",
    "team_seats",
    "teams",
    "payments",
    "refunds",
    "ledger_entries",
    "outbox_events",
    "sandbox_charges",
)


def _snapshot() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    snap: dict[str, Any] = {t: _scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES}
    snap["campaigns"] = _rows(
        "SELECT id, sold, held, reserved, subsidy_used FROM team_campaigns ORDER BY id"
    )
    snap["teams_state"] = _rows(
        "SELECT id, status, seats_taken, paid_count, opener_id, reserved FROM teams ORDER BY id"
    )
    snap["usage"] = _rows(
        "SELECT campaign_id, user_id, quantity FROM campaign_usage ORDER BY campaign_id, user_id"
    )
    snap["orders_state"] = _rows("SELECT id, status FROM orders ORDER BY id")
    return snap


def _refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text


def _callback(api: Api, ref: str, status: str = "succeeded") -> dict[str, Any]:
    """The gateway's confirmation callback, over HTTP (what the sandbox sends)."""
    r = api.c.post(
        "/api/payments/webhooks/sandbox",
        json={"ref": ref, "status": status, "sig": callback_signature(ref, status)},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


# ---------------------------------------------------------------- the tier ladder


def test_three_tier_ladder_settles_at_the_tier_reached(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=LADDER, min_size=2, max_size=10)
    members = [api.signup(f"团员{i}") for i in range(6)]
    opened = api.open(members[0], c["id"])
    team_id = opened["team"]["id"]
    assert opened["order"]["unit_price"] == 1990
    team = api.team(team_id)
    assert team["status"] == "open"
    assert not team["formed"]

    seats = [opened]
    seats.append(api.join(members[1], team_id))
    # Formed the moment the second member paid; everybody who is in is told at once.
    team = api.team(team_id)
    assert team["status"] == "formed"
    assert team["formed"]
    assert team["paid_members"] == 2
    run_worker()
    for m in members[:2]:
        formed = [n for n in _inbox(api, m) if n["kind"] == "team.formed"]
        assert len(formed) == 1
        assert formed[0]["data"]["team_id"] == team_id
        assert formed[0]["data"]["paid_count"] == 2

    for m in members[2:]:
        seats.append(api.join(m, team_id))
    team = api.team(team_id)
    assert team["status"] == "formed"  # 6 < max 10: still joinable until the deadline
    assert team["paid_members"] == 6
    assert team["current_unit_price"] == 1790
    assert team["next_tier"] == {"members": 10, "unit_price": 1590, "members_needed": 4}
    for seat, m in zip(seats, members, strict=True):
        order = api.order(m, seat["order"]["id"])
        assert order["status"] == "paid"
        assert order["paid_amount"] == 1990
        assert order["refunds"] == []

    # Nothing settles before the deadline.
    run_worker()
    assert api.team(team_id)["status"] == "formed"
    clock.advance(PAST_DEADLINE)
    run_worker()

    team = api.team(team_id)
    assert team["status"] == "settled"
    assert team["outcome"] == "success"
    assert team["final_unit_price"] == 1790
    for seat, m in zip(seats, members, strict=True):
        order = api.order(m, seat["order"]["id"])
        assert order["status"] == "confirmed"
        assert order["final_unit_price"] == 1790
        assert _refunds(order) == [("price_protection", 200)]
        assert order["kept_amount"] == 1790
        assert order["refunds"][0]["status"] == "succeeded"  # sent back through the gateway
        assert "team.settled" in _kinds(api, m)
    # Running the worker again settles nothing twice.
    run_worker()
    assert _scalar("SELECT COUNT(*) FROM refunds") == 6
    assert audit_violations() == []


def test_team_settles_at_max_size_at_once(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[2, 1990], [3, 1890]], min_size=2, max_size=3)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    team_id = api.open(a, c["id"])["team"]["id"]
    api.join(b, team_id)
    assert api.team(team_id)["status"] == "formed"
    # The last seat is paid and its callback arrives over HTTP: no worker job runs.
    last = api.join(d, team_id, pay=False)
    ref = last["payment"]["ref"]
    _sandbox_pay(api, last["pay_url"])
    assert _callback(api, ref) == {"result": "paid"}
    team = api.team(team_id)
    assert team["status"] == "settled"
    assert team["final_unit_price"] == 1890
    assert team["seconds_left"] > 0  # long before the deadline
    order = api.order(d, last["order"]["id"])
    assert order["status"] == "confirmed"
    assert _refunds(order) == [("price_protection", 100)]
    # The team is closed to newcomers.
    r = api.c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(api.signup("丁")))
    _refused(r, 409, "team_closed")
    run_worker()
    assert audit_violations() == []


# ---------------------------------------------------------------- failure at the deadline


def test_team_below_min_fails_refunds_once_and_gives_stock_back(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[3, 1990]], min_size=3, max_size=3, stock=10)
    a, b = api.signup("甲"), api.signup("乙")
    opened = api.open(a, c["id"])
    team_id = opened["team"]["id"]
    joined = api.join(b, team_id)
    # Two units sold, and the third seat's unit reserved for the team since it opened.
    assert _campaign(api, c["id"])["available"] == 7
    assert _campaign(api, c["id"])["reserved"] == 1

    clock.advance(PAST_DEADLINE)
    run_worker()
    team = api.team(team_id)
    assert team["status"] == "failed"
    assert team["outcome"] == "failed"
    refunds = _scalar("SELECT COUNT(*) FROM refunds")
    assert refunds == 2
    for m, seat in ((a, opened), (b, joined)):
        order = api.order(m, seat["order"]["id"])
        assert order["status"] == "refunded"
        assert _refunds(order) == [("team_failed", 1990)]
        assert order["kept_amount"] == 0
        assert order["in_escrow"] == 0
        assert "team.failed" in _kinds(api, m)
    campaign = _campaign(api, c["id"])
    assert campaign["available"] == 10
    assert campaign["sold"] == 0
    assert campaign["reserved"] == 0  # the unfilled seat's reservation came back too

    # Exactly once: the worker again (and again), or settling by hand, refunds nothing more.
    run_worker()
    run_worker()
    assert run_in_transaction(lambda s: teams.settle_team(s, team_id)) is None
    assert _scalar("SELECT COUNT(*) FROM refunds") == refunds
    assert _scalar("SELECT COALESCE(SUM(amount), 0) FROM sandbox_refunds") == 2 * 1990
    assert audit_violations() == []


# ---------------------------------------------------------------- platform completion


def test_platform_completion_succeeds_without_inventing_members(api: Api) -> None:
    budget = 100_000
    op, _, staff, c = _setup(
        api,
        price=3000,
        tiers=[[5, 1990]],
        min_size=5,
        max_size=5,
        completion_enabled=True,
        completion_percent=80,
        subsidy_budget=budget,
    )
    members = [api.signup(f"团员{i}") for i in range(4)]
    team_id = api.open(members[0], c["id"])["team"]["id"]
    for m in members[1:]:
        api.join(m, team_id)
    clock.advance(PAST_DEADLINE)
    run_worker()

    team = api.team(team_id)
    assert team["status"] == "settled"
    assert team["outcome"] == "completed"
    # Four real payers and nobody else: no robot members.
    assert team["paid_members"] == 4
    assert len(team["chain"]) == 4
    assert _scalar("SELECT COUNT(*) FROM team_seats WHERE team_id = :t", t=team_id) == 4
    gap = (3000 - 1990) * 4
    campaign = _operator_campaign(api, op, c["id"])
    assert campaign["subsidy_used"] == gap
    with unit_of_work(readonly=True) as s:
        assert ledger.balance(s, ledger_rules.SUBSIDY) == -gap
    for order_id, user_id in _rows(
        "SELECT o.id, o.user_id FROM orders o JOIN team_seats s ON s.order_id = o.id"
        " WHERE s.team_id = :t ORDER BY o.id",
        t=team_id,
    ):
        m = next(x for x in members if x["user_id"] == str(user_id))
        order = api.order(m, order_id)
        assert order["status"] == "confirmed"
        assert order["final_unit_price"] == 1990
        assert order["kept_amount"] == 1990
        assert order["refunds"] == []
        assert order["in_escrow"] == 3000  # the member's 1990 and the subsidy's 1010
    # Delivered: the supplier gets the single price, the subsidy's share included.
    r = api.c.post(
        f"/api/supplier/orders/{order_id}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF2"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    r = api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=_auth(m))
    assert r.status_code == 200, r.text
    with unit_of_work(readonly=True) as s:
        supplier = ledger_rules.supplier_account(c["supplier_id"])
        assert ledger.balance(s, supplier, order_id=order_id) == 3000
        assert ledger.balance(s, ledger_rules.ESCROW, order_id=order_id) == 0
    assert audit_violations() == []


@pytest.mark.parametrize(
    ("budget", "payers"),
    [
        ((3000 - 1990) * 4 - 1, 4),  # one fen short of the gap
        (100_000, 3),  # 3 of 5 is 60% < 80%
    ],
)
def test_platform_completion_fails_without_budget_or_enough_payers(
    api: Api, budget: int, payers: int
) -> None:
    op, _, _, c = _setup(
        api,
        price=3000,
        tiers=[[5, 1990]],
        min_size=5,
        max_size=5,
        completion_enabled=True,
        completion_percent=80,
        subsidy_budget=budget,
    )
    members = [api.signup(f"团员{i}") for i in range(payers)]
    team_id = api.open(members[0], c["id"])["team"]["id"]
    for m in members[1:]:
        api.join(m, team_id)
    clock.advance(PAST_DEADLINE)
    run_worker()
    team = api.team(team_id)
    assert team["status"] == "failed"
    campaign = _operator_campaign(api, op, c["id"])
    assert campaign["subsidy_used"] == 0
    assert campaign["available"] == campaign["stock"]
    assert _rows("SELECT reason, COUNT(*), SUM(amount) FROM refunds GROUP BY reason") == [
        ("team_failed", payers, 1990 * payers)
    ]
    with unit_of_work(readonly=True) as s:
        assert ledger.balance(s, ledger_rules.SUBSIDY) == 0
    assert audit_violations() == []


# ---------------------------------------------------------------- opener perks


def test_opener_price(api: Api) -> None:
    _, _, _, c = _setup(
        api,
        tiers=[[2, 1990], [3, 1400]],
        min_size=2,
        max_size=4,
        opener_perk="price",
        opener_price=1500,
    )
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    opened = api.open(a, c["id"])
    assert opened["order"]["unit_price"] == 1500
    assert parse_qs(urlparse(opened["pay_url"]).query)["amount"] == ["1500"]
    j1 = api.join(b, opened["team"]["id"])
    assert j1["order"]["unit_price"] == 1990
    assert api.order(a, opened["order"]["id"])["paid_amount"] == 1500
    j2 = api.join(d, opened["team"]["id"])
    clock.advance(PAST_DEADLINE)
    run_worker()
    # The tier reached (1400) beats the opener price: everybody pays 1400.
    opener = api.order(a, opened["order"]["id"])
    assert opener["status"] == "confirmed"
    assert opener["final_unit_price"] == 1400
    assert _refunds(opener) == [("price_protection", 100)]
    for m, seat in ((b, j1), (d, j2)):
        order = api.order(m, seat["order"]["id"])
        assert order["final_unit_price"] == 1400
        assert _refunds(order) == [("price_protection", 590)]
    assert audit_violations() == []


def test_opener_price_kept_when_below_the_tier(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[2, 1990]], opener_perk="price", opener_price=1500)
    a, b = api.signup("甲"), api.signup("乙")
    opened = api.open(a, c["id"])
    joined = api.join(b, opened["team"]["id"])  # max = min = 2: settles now
    opener = api.order(a, opened["order"]["id"])
    assert opener["status"] == "confirmed"
    assert opener["final_unit_price"] == 1500
    assert opener["refunds"] == []
    assert api.order(b, joined["order"]["id"])["kept_amount"] == 1990
    assert audit_violations() == []


def test_opener_free_refunds_the_opener_who_still_gets_the_goods(api: Api) -> None:
    op, _, staff, c = _setup(api, tiers=[[2, 1990]], opener_perk="free", subsidy_budget=5000)
    a, b = api.signup("甲"), api.signup("乙")
    opened = api.open(a, c["id"])
    assert opened["order"]["unit_price"] == 1990  # the opener pays first, then gets it back
    joined = api.join(b, opened["team"]["id"])
    run_worker()
    assert api.team(opened["team"]["id"])["status"] == "settled"

    opener = api.order(a, opened["order"]["id"])
    assert opener["status"] == "confirmed"
    assert opener["paid_amount"] == 1990
    assert _refunds(opener) == [("opener_free", 1990)]
    assert opener["refunds"][0]["funded_by"] == "subsidy"
    assert opener["kept_amount"] == 0
    assert _operator_campaign(api, op, c["id"])["subsidy_used"] == 1990
    assert api.order(b, joined["order"]["id"])["refunds"] == []

    # The opener's order is still shipped and completed; the supplier is paid in full.
    r = api.c.post(
        f"/api/supplier/orders/{opener['id']}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF1"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "shipped"
    r = api.c.post(f"/api/orders/{opener['id']}/confirm-receipt", headers=_auth(a))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    with unit_of_work(readonly=True) as s:
        assert ledger.balance(s, ledger_rules.ESCROW, order_id=opener["id"]) == 0
        assert (
            ledger.balance(
                s, ledger_rules.supplier_account(c["supplier_id"]), order_id=opener["id"]
            )
            == 1990
        )
        assert ledger.balance(s, ledger_rules.SUBSIDY) == -1990
    assert audit_violations() == []


def test_opener_free_without_budget_charges_the_opener(api: Api) -> None:
    op, _, _, c = _setup(api, tiers=[[2, 1990]], opener_perk="free", subsidy_budget=1000)
    a, b = api.signup("甲"), api.signup("乙")
    opened = api.open(a, c["id"])
    api.join(b, opened["team"]["id"])
    opener = api.order(a, opened["order"]["id"])
    assert opener["status"] == "confirmed"
    assert opener["refunds"] == []
    assert opener["kept_amount"] == 1990
    assert _operator_campaign(api, op, c["id"])["subsidy_used"] == 0
    assert audit_violations() == []


# ---------------------------------------------------------------- refusals change nothing


def test_new_member_team_refuses_a_member_with_an_earlier_paid_order(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    plain = api.campaign(op, sid, min_size=2, max_size=3)
    fresh = api.campaign(op, sid, new_member_only=True, min_size=2, max_size=3)
    a, veteran, newbie = api.signup("甲"), api.signup("老"), api.signup("新")
    # The veteran has a paid order in another campaign.
    other = api.open(api.signup("乙"), plain["id"])
    api.join(veteran, other["team"]["id"])

    team_id = api.open(a, fresh["id"])["team"]["id"]
    before = _snapshot()
    r = api.c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(veteran))
    _refused(r, 403, "not_new_member")
    assert _snapshot() == before
    # A member who never paid an order may join.
    api.join(newbie, team_id)
    assert api.team(team_id)["paid_members"] == 2
    assert audit_violations() == []


def test_refusals(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=4, stock=5, per_member_limit=2)
    a, b, d, e, f = (api.signup(n) for n in ("甲", "乙", "丙", "丁", "戊"))
    opened = api.open(a, c["id"])
    team_id = opened["team"]["id"]
    api.join(b, team_id)  # paid: formed, 2 of 4 seats

    def refused(method: str, path: str, who: dict[str, str], status: int, code: str, **kw):
        before = _snapshot()
        r = api.c.request(method, path, headers=_auth(who), **kw)
        _refused(r, status, code)
        assert _snapshot() == before

    join = f"/api/teams/{team_id}/join"
    open_path = f"/api/campaigns/{c['id']}/teams"
    refused("POST", join, a, 409, "own_team", json={})
    refused("POST", join, b, 409, "already_in_team", json={})  # a paid seat
    # Above the per-order quantity (default 1): malformed input.
    refused("POST", join, d, 422, "invalid_input", json={"quantity": 2})
    refused("POST", open_path, d, 422, "invalid_input", json={"quantity": 2})

    api.join(d, team_id, pay=False)  # a held (unpaid) seat
    refused("POST", join, d, 409, "already_in_team", json={})
    api.join(e, team_id, pay=False)  # 4 of 4 seats: full
    refused("POST", join, f, 409, "team_full", json={})

    # One unit of the stock (5) is left: too few for a team of two to form, so none opens.
    assert _campaign(api, c["id"])["available"] == 1
    assert _campaign(api, c["id"])["openable_teams"] == 0
    refused("POST", open_path, f, 409, "too_few_to_open", json={})
    # Bought alone, the last unit is gone: opening is refused as sold out.
    r = api.c.post(f"/api/campaigns/{c['id']}/solo", json={}, headers=_auth(f))
    assert r.status_code == 201, r.text
    assert _campaign(api, c["id"])["available"] == 0
    refused("POST", open_path, a, 409, "sold_out", json={})
    refused("POST", f"/api/campaigns/{c['id']}/solo", a, 409, "sold_out", json={})
    run_worker()
    assert audit_violations() == []


def test_per_member_limit(api: Api) -> None:
    _, _, _, c = _setup(
        api, min_size=2, max_size=5, per_member_limit=3, max_quantity_per_order=2, stock=50
    )
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    t1 = api.open(b, c["id"])["team"]["id"]
    t2 = api.open(d, c["id"])["team"]["id"]
    api.open(a, c["id"], quantity=2)
    before = _snapshot()
    for path in (f"/api/teams/{t1}/join", f"/api/campaigns/{c['id']}/teams"):
        r = api.c.post(path, json={"quantity": 2}, headers=_auth(a))
        _refused(r, 409, "limit_reached")
        assert _snapshot() == before
    api.join(a, t1, quantity=1)  # 3 of 3
    before = _snapshot()
    r = api.c.post(f"/api/teams/{t2}/join", json={"quantity": 1}, headers=_auth(a))
    _refused(r, 409, "limit_reached")
    assert _snapshot() == before
    assert audit_violations() == []


def test_campaign_not_live(api: Api) -> None:
    op, _, _, c = _setup(api, min_size=2, max_size=3)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    r = api.c.patch(f"/api/admin/campaigns/{c['id']}", json={"status": "paused"}, headers=op)
    assert r.status_code == 200, r.text
    for path in (f"/api/teams/{team_id}/join", f"/api/campaigns/{c['id']}/teams"):
        before = _snapshot()
        _refused(api.c.post(path, json={}, headers=_auth(b)), 409, "campaign_not_live")
        assert _snapshot() == before
    r = api.c.patch(f"/api/admin/campaigns/{c['id']}", json={"status": "active"}, headers=op)
    assert r.status_code == 200, r.text
    # No team opens after the campaign ends (the helper's campaign ends in two days).
    clock.advance(timedelta(days=2, minutes=1))
    before = _snapshot()
    r = api.c.post(f"/api/campaigns/{c['id']}/teams", json={}, headers=_auth(b))
    _refused(r, 409, "campaign_not_live")
    assert _snapshot() == before
    run_worker()  # the open team, past its deadline, fails and is refunded
    assert api.team(team_id)["status"] == "failed"
    assert audit_violations() == []


# ---------------------------------------------------------------- leaving


def test_leaving_before_the_team_forms(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[3, 1990]], min_size=3, max_size=4, stock=10)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id)
    # Two units sold, and the third seat's unit reserved for the team since it opened.
    assert _campaign(api, c["id"])["available"] == 7
    assert _campaign(api, c["id"])["reserved"] == 1
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(b))
    assert r.status_code == 200, r.text
    run_worker()
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "refunded"
    assert _refunds(order) == [("left_team", 1990)]
    assert order["kept_amount"] == 0
    team = api.team(team_id)
    assert team["status"] == "open"
    assert team["seats_taken"] == 1
    assert team["paid_members"] == 1
    assert [row["name"] for row in team["chain"]] == ["甲"]
    assert (
        _campaign(api, c["id"])["available"] == 7
    )  # the seat left is the team's again: reserved, not free
    # The seat is free again: the member may come back (a new order).
    again = api.join(b, team_id)
    assert again["order"]["id"] != joined["order"]["id"]
    assert api.team(team_id)["paid_members"] == 2
    assert audit_violations() == []


def test_leaving_an_unpaid_seat_releases_it(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[3, 1990]], min_size=3, max_size=4, stock=10)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(b))
    assert r.status_code == 200, r.text
    assert api.order(b, joined["order"]["id"])["status"] == "cancelled"
    assert api.team(team_id)["seats_taken"] == 1
    assert (
        _campaign(api, c["id"])["available"] == 7
    )  # the released unit went back to the team's reservation
    assert audit_violations() == []


def test_leaving_after_the_team_formed_is_refused(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=5)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    api.join(b, team_id)
    assert api.team(team_id)["status"] == "formed"
    for who in (a, b):
        before = _snapshot()
        r = api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(who))
        _refused(r, 409, "team_already_formed")
        assert _snapshot() == before
    before = _snapshot()
    _refused(
        api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(api.signup("路人"))),
        409,
        "not_in_team",
    )
    assert _snapshot() == before
    assert audit_violations() == []


def test_opener_leaves_the_earliest_joiner_takes_over(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[4, 1990]], min_size=4, max_size=5, stock=10)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    opened = api.open(a, c["id"])
    team_id = opened["team"]["id"]
    api.join(b, team_id)
    api.join(d, team_id)
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(a))
    assert r.status_code == 200, r.text
    run_worker()
    assert _refunds(api.order(a, opened["order"]["id"])) == [("left_team", 1990)]
    team = api.team(team_id)
    assert team["status"] == "open"
    assert [(row["name"], row["is_opener"]) for row in team["chain"]] == [
        ("乙", True),
        ("丙", False),
    ]
    assert _scalar("SELECT opener_id FROM teams WHERE id = :t", t=team_id) == int(b["user_id"])
    assert "team.opener_changed" in _kinds(api, b)
    assert "team.opener_changed" not in _kinds(api, d)
    # The new opener cannot join their own team again; the old one may join as a member.
    _refused(api.c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(b)), 409, "own_team")
    api.join(a, team_id)
    assert api.team(team_id)["paid_members"] == 3
    assert audit_violations() == []


def test_everyone_leaves_the_team_closes(api: Api) -> None:
    _, _, _, c = _setup(api, tiers=[[3, 1990]], min_size=3, max_size=3, stock=10)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    api.join(b, team_id)
    for who in (a, b):
        r = api.c.post(f"/api/teams/{team_id}/leave", headers=_auth(who))
        assert r.status_code == 200, r.text
    run_worker()
    team = api.team(team_id)
    assert team["status"] == "closed"
    assert team["seats_taken"] == 0
    assert not team["joinable"]
    assert _campaign(api, c["id"])["available"] == 10
    assert _rows("SELECT reason, COUNT(*) FROM refunds GROUP BY reason") == [("left_team", 2)]
    _refused(
        api.c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(api.signup("丙"))),
        409,
        "team_closed",
    )
    # Nothing is left to settle at the deadline.
    clock.advance(PAST_DEADLINE)
    run_worker()
    assert api.team(team_id)["status"] == "closed"
    assert audit_violations() == []


# ---------------------------------------------------------------- unpaid holds


def test_unpaid_opener_is_released_and_the_team_closes(api: Api) -> None:
    _, _, _, c = _setup(api, stock=10)
    a = api.signup("甲")
    opened = api.open(a, c["id"], pay=False)
    team_id = opened["team"]["id"]
    assert api.team(team_id)["status"] == "pending"
    assert (
        _campaign(api, c["id"])["available"] == 8
    )  # the opener's unit held, the second seat's reserved
    clock.advance(timedelta(minutes=14))
    run_worker()
    assert api.order(a, opened["order"]["id"])["status"] == "pending_payment"  # still held
    clock.advance(timedelta(minutes=2))
    run_worker()
    order = api.order(a, opened["order"]["id"])
    assert order["status"] == "cancelled"
    assert api.team(team_id)["status"] == "closed"
    assert api.team(team_id)["seats_taken"] == 0
    assert _campaign(api, c["id"])["available"] == 10
    assert "order.cancelled" in _kinds(api, a)
    # Paying after the release changes nothing but a full refund; the team stays closed.
    _sandbox_pay(api, opened["pay_url"])
    run_worker()
    order = api.order(a, opened["order"]["id"])
    assert order["status"] == "cancelled"
    assert _refunds(order) == [("late_payment", 1990)]
    assert api.team(team_id)["status"] == "closed"
    assert api.team(team_id)["paid_members"] == 0
    assert _campaign(api, c["id"])["available"] == 10
    assert audit_violations() == []
    # The limit is given back too: the member can open again.
    api.open(a, c["id"])
    assert audit_violations() == []


def test_unpaid_joiner_is_released_and_a_late_payment_refunded(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=3, stock=10)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    assert api.team(team_id)["seats_taken"] == 2
    clock.advance(PAST_HOLD)
    run_worker()
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "cancelled"
    team = api.team(team_id)
    assert team["status"] == "open"
    assert team["seats_taken"] == 1
    assert (
        _campaign(api, c["id"])["available"] == 8
    )  # the released unit is the team's reservation again

    # The member pays on the gateway's page anyway: the money comes back in full.
    _sandbox_pay(api, joined["pay_url"])
    run_worker()
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "cancelled"
    assert order["paid_amount"] == 1990
    assert _refunds(order) == [("late_payment", 1990)]
    assert order["kept_amount"] == 0
    assert order["refunds"][0]["status"] == "succeeded"
    team = api.team(team_id)
    assert team["paid_members"] == 1
    assert team["seats_taken"] == 1
    assert _campaign(api, c["id"])["available"] == 8
    assert audit_violations() == []


# ---------------------------------------------------------------- payments


def test_declined_then_paid_again(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=3)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    assert api.pay(joined["pay_url"], outcome="decline")["gateway_status"] == "declined"
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "pending_payment"
    assert [p["status"] for p in order["payments"]] == ["failed"]
    assert "payment.declined" in _kinds(api, b)
    assert api.team(team_id)["paid_members"] == 1

    r = api.c.post(f"/api/orders/{order['id']}/payments", headers=_auth(b))
    assert r.status_code == 201, r.text
    api.pay(r.json()["pay_url"])
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "paid"
    assert order["paid_amount"] == 1990
    assert sorted(p["status"] for p in order["payments"]) == ["failed", "succeeded"]
    assert api.team(team_id)["paid_members"] == 2
    assert audit_violations() == []


def test_a_refund_goes_back_to_the_payment_that_paid_the_order(api: Api) -> None:
    """Two payments for one order land out of order: the second pays it, the first is refunded
    to itself as late, and the order's refund when its team fails goes back to the second."""
    _, _, _, c = _setup(api, tiers=[[3, 1990]], min_size=3, max_size=3)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    first = joined["payment"]
    r = api.c.post(f"/api/orders/{joined['order']['id']}/payments", headers=_auth(b))
    assert r.status_code == 201, r.text
    second = r.json()["payment"]
    assert second["id"] > first["id"]
    # Both went through at the gateway (the sandbox refuses a second charge of one order, so
    # the second is written to its book directly, as a gateway that charged twice would); the
    # second's callback arrives first.
    _sandbox_pay(api, joined["pay_url"])
    q = {k: v[0] for k, v in parse_qs(urlparse(r.json()["pay_url"]).query).items()}
    run_in_transaction(
        lambda s: payments.sandbox().authorize(
            s, ref=q["ref"], amount=int(q["amount"]), sig=q["sig"], outcome="approve"
        )
    )
    assert _callback(api, second["ref"]) == {"result": "paid"}
    assert _callback(api, first["ref"]) == {"result": "late"}
    run_worker()
    clock.advance(PAST_DEADLINE)
    run_worker()
    assert api.team(team_id)["status"] == "failed"
    order = api.order(b, joined["order"]["id"])
    assert _refunds(order) == [("late_payment", 1990), ("team_failed", 1990)]
    # Each payment got its own money back, and every refund reached the gateway.
    assert _rows(
        "SELECT charge_ref, amount FROM sandbox_refunds WHERE charge_ref IN (:f, :s)"
        " ORDER BY charge_ref",
        f=first["ref"],
        s=second["ref"],
    ) == sorted([(first["ref"], 1990), (second["ref"], 1990)])
    assert _scalar("SELECT COUNT(*) FROM refunds WHERE status <> 'succeeded'") == 0
    assert audit_violations() == []


def test_lost_callback_is_reconciled(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=3)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    assert api.pay(joined["pay_url"], outcome="timeout")["gateway_status"] == "succeeded"
    # The gateway took the money but its callback was lost: we do not know yet.
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "pending_payment"
    assert api.team(team_id)["paid_members"] == 1
    clock.advance(timedelta(seconds=10))
    run_worker()
    assert api.order(b, joined["order"]["id"])["status"] == "pending_payment"
    # Past TUANGOU_PAYMENT_RECONCILE_SECONDS (30 by default) the worker asks the gateway.
    clock.advance(timedelta(seconds=21))
    run_worker()
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "paid"
    assert order["paid_amount"] == 1990
    assert api.team(team_id)["paid_members"] == 2
    assert audit_violations() == []


def test_duplicate_callbacks_pay_once(api: Api) -> None:
    _, _, _, c = _setup(api, min_size=2, max_size=3)
    a, b = api.signup("甲"), api.signup("乙")
    team_id = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team_id, pay=False)
    api.pay(joined["pay_url"], outcome="duplicate")
    order = api.order(b, joined["order"]["id"])
    assert order["status"] == "paid"
    assert order["paid_amount"] == 1990
    payment_id = joined["payment"]["id"]
    # The callbacks were all delivered, and one transfer was recorded.
    ref = joined["payment"]["ref"]
    assert _scalar("SELECT callbacks_due FROM sandbox_charges WHERE ref = :r", r=ref) == 0
    assert _rows(
        "SELECT id FROM ledger_transfers WHERE order_id = :o AND kind = 'payment'",
        o=order["id"],
    ) == [(f"pay:{payment_id}",)]
    assert (
        _scalar("SELECT COUNT(*) FROM ledger_entries WHERE transfer_id = :t", t=f"pay:{payment_id}")
        == 2
    )
    # One more callback over HTTP is a harmless duplicate.
    assert _callback(api, ref) == {"result": "duplicate"}
    assert api.order(b, order["id"])["paid_amount"] == 1990
    assert api.team(team_id)["paid_members"] == 2
    assert audit_violations() == []


def test_callbacks_landing_together_form_and_settle_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker lands due callbacks in batches: several payments of one team confirmed in
    one go open it, form it and settle it exactly as one by one, and a late payment in the
    same batch is still refunded in full."""
    _, _, _, c = _setup(api, tiers=[[2, 1990], [3, 1890]], min_size=2, max_size=3, stock=10)
    a, b, d, late = (api.signup(n) for n in ("甲", "乙", "丙", "丁"))
    opened = api.open(a, c["id"], pay=False)
    team_id = opened["team"]["id"]
    other = api.open(late, c["id"], pay=False)  # its hold runs out before it is paid
    clock.advance(timedelta(minutes=14))
    _sandbox_pay(api, opened["pay_url"])
    run_worker()
    assert api.team(team_id)["status"] == "open"
    joined = [api.join(m, team_id, pay=False) for m in (b, d)]
    clock.advance(timedelta(minutes=2))  # past the hold of the other opener only
    for seat in joined:
        _sandbox_pay(api, seat["pay_url"])
    _sandbox_pay(api, other["pay_url"])
    with caplog.at_level(logging.ERROR):
        run_worker()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no fallback

    team = api.team(team_id)
    assert team["status"] == "settled"
    assert team["paid_members"] == 3
    assert team["final_unit_price"] == 1890
    for m, seat in zip((b, d), joined, strict=True):
        order = api.order(m, seat["order"]["id"])
        assert order["status"] == "confirmed"
        assert _refunds(order) == [("price_protection", 100)]
        assert _kinds(api, m).count("team.formed") == 1
    assert _kinds(api, a).count("team.formed") == 1
    missed = api.order(late, other["order"]["id"])
    assert missed["status"] == "cancelled"
    assert _refunds(missed) == [("late_payment", 1990)]
    assert _scalar("SELECT sold FROM team_campaigns WHERE id = :c", c=c["id"]) == 3
    assert _scalar("SELECT held FROM team_campaigns WHERE id = :c", c=c["id"]) == 0
    assert audit_violations() == []


# ---------------------------------------------------------------- a team whose opener just paid


def test_a_join_while_the_openers_payment_is_confirmed_is_told_to_retry(api: Api) -> None:
    """Friends who open a share link at once, before the gateway's callback confirmed the
    opener's payment, are told the team opens in a moment (``team_pending``, Retry-After),
    not that it is closed; once confirmed, the same join goes through."""
    _, _, _, c = _setup(api)
    opened = api.open(api.signup("甲"), c["id"], pay=False)
    team_id = opened["team"]["id"]
    _sandbox_pay(api, opened["pay_url"])  # approved; the callback is on its way
    friend = api.signup("乙")
    r = api.c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(friend))
    _refused(r, 409, "team_pending")
    assert r.headers["Retry-After"] == "1"
    assert r.json()["retry_after"] == 1
    assert _scalar("SELECT COUNT(*) FROM orders") == 1  # the refusal changed nothing
    assert _callback(api, opened["payment"]["ref"]) == {"result": "paid"}
    joined = api.join(friend, team_id)
    assert joined["team"]["id"] == team_id
    run_worker()
    assert audit_violations() == []
