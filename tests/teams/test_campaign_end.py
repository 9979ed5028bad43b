"""A campaign's end: once its time is over and nothing is left in play, its unsold stock goes
back to the SKU and the units it sold leave the SKU's stock, exactly once (both backends)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api, _auth, audit_violations, rows, run_worker
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.teams import service as teams

PAST_END = timedelta(days=2, minutes=1)  # the helper's campaigns end in two days


def _sku(sku_id: int) -> tuple[int, int]:
    ((stock, allocated),) = rows("SELECT stock, allocated FROM skus WHERE id = :i", i=sku_id)
    return int(stock), int(allocated)


def _campaign(api: Api, campaign_id: int) -> dict[str, Any]:
    r = api.c.get(f"/api/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_ended_campaign_gives_its_unsold_stock_back_once(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, tiers=[[2, 1990]], min_size=2, max_size=3, stock=10)
    sku_id = c["sku_id"]
    assert _sku(sku_id) == (1000, 10)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    formed = api.open(a, c["id"])["team"]["id"]
    api.join(b, formed)
    lonely = api.open(d, c["id"])["team"]["id"]  # nobody joins: it fails, its unit comes back

    clock.advance(PAST_END)
    run_worker()
    assert api.team(formed)["outcome"] == "success"
    assert api.team(lonely)["status"] == "failed"
    view = _campaign(api, c["id"])
    assert view["status"] == "ended" and not view["live"]
    assert (view["sold"], view["returned"], view["stock"], view["available"]) == (2, 8, 2, 0)
    assert view["ended_at"] is not None
    # The two units sold left the SKU; the eight unsold are free to allocate again.
    assert _sku(sku_id) == (998, 0)

    # Exactly once: the worker again, and the service called directly, change nothing.
    run_worker()
    assert run_in_transaction(lambda s: teams.close_campaign(s, c["id"])) is None
    assert _sku(sku_id) == (998, 0)
    assert _campaign(api, c["id"])["returned"] == 8

    # An ended campaign cannot be resumed (or paused), and takes nobody in.
    for status in ("active", "paused"):
        r = api.c.patch(f"/api/admin/campaigns/{c['id']}", json={"status": status}, headers=op)
        assert r.status_code == 409 and r.json()["code"] == "campaign_ended", r.text
    assert _campaign(api, c["id"])["status"] == "ended"
    r = api.c.post(f"/api/campaigns/{c['id']}/teams", json={}, headers=_auth(api.signup("丁")))
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_live", r.text
    assert audit_violations() == []


def test_a_campaign_does_not_end_while_a_team_or_an_unpaid_order_is_in_play(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, tiers=[[2, 1990]], min_size=2, max_size=3, stock=10)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    # An hour before the end: a team forms (its deadline is a day later) and an opening is
    # left unpaid (it holds a unit for 15 minutes).
    clock.advance(PAST_END - timedelta(hours=1, minutes=1))
    formed = api.open(a, c["id"])["team"]["id"]
    api.join(b, formed)
    api.open(d, c["id"], pay=False)
    clock.advance(timedelta(hours=1, minutes=1))
    run_worker()  # past the end: the unpaid hold is released, but the team is still live
    view = _campaign(api, c["id"])
    assert api.team(formed)["status"] == "formed"
    assert view["status"] == "active" and view["returned"] == 0
    assert _sku(c["sku_id"]) == (1000, 10)

    clock.advance(timedelta(days=1))  # the team's deadline passes: it settles
    run_worker()
    assert api.team(formed)["outcome"] == "success"
    view = _campaign(api, c["id"])
    assert (view["status"], view["sold"], view["returned"]) == ("ended", 2, 8)
    assert _sku(c["sku_id"]) == (998, 0)
    assert audit_violations() == []


def test_an_unpaid_order_holds_the_end_back(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, tiers=[[2, 1990]], min_size=2, max_size=3, stock=5)
    clock.advance(PAST_END - timedelta(minutes=5))
    api.open(api.signup("甲"), c["id"], pay=False)  # holds a unit for 15 minutes
    clock.advance(timedelta(minutes=6))  # past the end, inside the hold
    assert run_in_transaction(lambda s: teams.close_campaign(s, c["id"])) is None
    assert _campaign(api, c["id"])["status"] == "active"
    clock.advance(timedelta(minutes=15))
    run_worker()  # the hold is released, the pending team closes, the campaign ends
    view = _campaign(api, c["id"])
    assert (view["status"], view["sold"], view["returned"]) == ("ended", 0, 5)
    assert _sku(c["sku_id"]) == (1000, 0)
    assert audit_violations() == []


def test_a_campaign_still_running_never_ends(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=10)
    run_worker()
    assert run_in_transaction(lambda s: teams.close_campaign(s, c["id"])) is None
    assert _campaign(api, c["id"])["status"] == "active"
    assert _sku(c["sku_id"]) == (1000, 10)


def test_two_workers_ending_one_campaign_at_once_settle_it_once(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=7)
    clock.advance(PAST_END)
    start = Barrier(4)

    def close(_: int) -> int | None:
        start.wait()
        return run_in_transaction(lambda s: teams.close_campaign(s, c["id"]))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(close, range(4)))
    assert sorted(results, key=lambda r: r is None) == [7, None, None, None]
    assert _sku(c["sku_id"]) == (1000, 0)
    assert audit_violations() == []
