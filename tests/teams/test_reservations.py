"""Scarce stock: a team opens only if it can form (its minimum size is set aside), joins draw
from their team's reservation first, and what a team does not use goes back once; and
单独购买, a plain order at the single price. Over the HTTP app, on both backends; each
scenario ends with the audit (stock + reservations + held + sold conserved) finding nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api, _auth, audit_violations, run_worker
from tests.conftest import rows as _rows
from tests.conftest import scalar as _scalar
from tuangou.core import clock
from tuangou.teams import rules

PAST_DEADLINE = timedelta(hours=24, minutes=1)
PAST_HOLD = timedelta(minutes=16)


def _setup(api: Api, **settings: Any) -> tuple[dict[str, str], int, dict[str, str], dict[str, Any]]:
    op = api.operator()
    sid, staff = api.supplier(op)
    return op, sid, staff, api.campaign(op, sid, **settings)


def _campaign(api: Api, campaign_id: int) -> dict[str, Any]:
    r = api.c.get(f"/api/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _stock(api: Api, campaign_id: int) -> tuple[int, int, int, int]:
    """(free, reserved, held, sold) of the campaign, from its own row."""
    stock, sold, held, reserved = _rows(
        "SELECT stock, sold, held, reserved FROM team_campaigns WHERE id = :c", c=campaign_id
    )[0]
    return stock - sold - held - reserved, reserved, held, sold


def _team_reserved(team_id: int) -> int:
    return int(_scalar("SELECT reserved FROM teams WHERE id = :t", t=team_id))


def _refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


# ---------------------------------------------------------------- the rules


def test_reservation_rules() -> None:
    assert rules.opening_reservation(1, 2) == 1
    assert rules.opening_reservation(2, 3) == 4
    assert rules.drawn(0, 2) == 0 and rules.drawn(1, 2) == 1 and rules.drawn(5, 2) == 2
    # A seat given up in a team still forming goes back to it, up to what it still needs.
    common = {"reserved": 0, "min_size": 3, "seat_units": 1}
    assert rules.back_to_team("open", 1, seats_taken=1, **common) == 1
    assert rules.back_to_team("open", 1, seats_taken=3, **common) == 0
    assert rules.back_to_team("open", 2, seats_taken=2, **common) == 1
    assert rules.back_to_team("open", 1, seats_taken=1, reserved=2, min_size=3, seat_units=1) == 0
    for status in ("formed", "settled", "failed", "closed"):
        assert rules.back_to_team(status, 1, seats_taken=1, **common) == 0
    assert rules.openable_teams(5, 2) == 2
    assert rules.openable_teams(1, 2) == 0
    assert rules.openable_teams(-1, 2) == 0


# ---------------------------------------------------------------- reservations


def test_the_last_units_go_to_teams_that_can_form(api: Api) -> None:
    """The issue's storm in small: 4 units, teams of two. Two teams open and take all four
    units (two held or sold, two reserved); a third cannot open; both teams still fill."""
    _, _, _, c = _setup(api, stock=4, min_size=2, max_size=2)
    a, b, d, e, f = (api.signup(n) for n in ("甲", "乙", "丙", "丁", "戊"))
    assert _campaign(api, c["id"])["openable_teams"] == 2
    t1 = api.open(a, c["id"])["team"]["id"]
    assert _stock(api, c["id"]) == (2, 1, 0, 1)
    assert _team_reserved(t1) == 1
    assert _campaign(api, c["id"])["openable_teams"] == 1
    t2 = api.open(b, c["id"])["team"]["id"]
    view = _campaign(api, c["id"])
    assert (view["available"], view["reserved"], view["openable_teams"]) == (0, 2, 0)
    # Joining is offered first: the campaign lists both teams, each a seat short.
    assert [t["id"] for t in view["open_teams"]] == [t1, t2]
    r = api.c.post(f"/api/campaigns/{c['id']}/teams", json={}, headers=_auth(f))
    _refused(r, 409, "sold_out")
    # Every unit reserved is a seat someone can still take.
    api.join(d, t1)
    api.join(e, t2)
    assert _stock(api, c["id"]) == (0, 0, 0, 4)
    for team_id in (t1, t2):
        team = api.team(team_id)
        assert team["status"] == "settled"
        assert _team_reserved(team_id) == 0
    assert audit_violations() == []


def test_one_unit_left_cannot_open_a_team_of_two(api: Api) -> None:
    _, _, _, c = _setup(api, stock=3, min_size=2, max_size=2)
    a, b = api.signup("甲"), api.signup("乙")
    api.open(a, c["id"])
    before = _stock(api, c["id"])
    assert before == (1, 1, 0, 1)
    r = api.c.post(f"/api/campaigns/{c['id']}/teams", json={}, headers=_auth(b))
    _refused(r, 409, "too_few_to_open")
    assert _stock(api, c["id"]) == before  # nothing changed
    assert _scalar("SELECT COUNT(*) FROM teams") == 1
    assert _scalar("SELECT COUNT(*) FROM orders WHERE user_id = :u", u=int(b["user_id"])) == 0
    assert audit_violations() == []


def test_opening_with_a_larger_quantity_reserves_that_much_a_seat(api: Api) -> None:
    _, _, _, c = _setup(
        api, stock=10, min_size=3, max_size=4, max_quantity_per_order=2, tiers=[[3, 1990]]
    )
    a, b, d, e = (api.signup(n) for n in ("甲", "乙", "丙", "丁"))
    t = api.open(a, c["id"], quantity=2)["team"]["id"]
    assert _team_reserved(t) == 4  # two more seats of two
    assert _stock(api, c["id"]) == (4, 4, 0, 2)
    api.join(b, t, quantity=1)  # draws 1 of the 4
    assert _team_reserved(t) == 3
    api.join(d, t, quantity=2)  # draws 2: the team formed with 1 unit still reserved
    assert api.team(t)["status"] == "formed"
    assert _team_reserved(t) == 1
    api.join(e, t, quantity=2)  # the fourth seat: 1 reserved unit and 1 free one
    assert _team_reserved(t) == 0
    assert _stock(api, c["id"]) == (3, 0, 0, 7)
    assert api.team(t)["status"] == "settled"
    assert audit_violations() == []


def test_a_formed_team_settles_and_its_unused_reservation_goes_back_once(api: Api) -> None:
    """Seats left unfilled at settlement: the team's reservation returns to the free stock,
    once, however often the worker runs."""
    _, _, _, c = _setup(
        api, stock=10, min_size=2, max_size=3, max_quantity_per_order=2, tiers=[[2, 1990]]
    )
    a, b = api.signup("甲"), api.signup("乙")
    t = api.open(a, c["id"], quantity=2)["team"]["id"]
    api.join(b, t, quantity=1)  # formed; 1 of the 2 reserved units unused
    assert api.team(t)["status"] == "formed"
    assert _stock(api, c["id"]) == (6, 1, 0, 3)
    clock.advance(PAST_DEADLINE)
    run_worker()
    assert api.team(t)["status"] == "settled"
    assert _stock(api, c["id"]) == (7, 0, 0, 3)
    run_worker()
    assert _stock(api, c["id"]) == (7, 0, 0, 3)
    assert audit_violations() == []


def test_a_failed_team_gives_back_its_reservation(api: Api) -> None:
    _, _, _, c = _setup(api, stock=6, min_size=3, max_size=3, tiers=[[3, 1990]])
    a = api.signup("甲")
    t = api.open(a, c["id"])["team"]["id"]
    assert _stock(api, c["id"]) == (3, 2, 0, 1)
    clock.advance(PAST_DEADLINE)
    run_worker()
    assert api.team(t)["status"] == "failed"
    assert _stock(api, c["id"]) == (6, 0, 0, 0)
    assert _team_reserved(t) == 0
    assert audit_violations() == []


def test_an_opener_who_never_pays_closes_the_team_and_its_reservation(api: Api) -> None:
    _, _, _, c = _setup(api, stock=4, min_size=2, max_size=2)
    a = api.signup("甲")
    t = api.open(a, c["id"], pay=False)["team"]["id"]
    assert _stock(api, c["id"]) == (2, 1, 1, 0)
    clock.advance(PAST_HOLD)
    run_worker()
    assert api.team(t)["status"] == "closed"
    assert _stock(api, c["id"]) == (4, 0, 0, 0)
    assert audit_violations() == []


def test_a_released_joiner_leaves_the_seat_reserved_for_the_next(api: Api) -> None:
    _, _, _, c = _setup(api, stock=2, min_size=2, max_size=2)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    t = api.open(a, c["id"])["team"]["id"]
    api.join(b, t, pay=False)
    assert _stock(api, c["id"]) == (0, 0, 1, 1)
    clock.advance(PAST_HOLD)
    run_worker()  # the hold runs out: the unit is the team's again, not anybody's
    assert _stock(api, c["id"]) == (0, 1, 0, 1)
    assert _campaign(api, c["id"])["openable_teams"] == 0
    api.join(d, t)
    assert api.team(t)["status"] == "settled"
    assert _stock(api, c["id"]) == (0, 0, 0, 2)
    assert audit_violations() == []


def test_everyone_leaving_closes_the_team_and_frees_its_units(api: Api) -> None:
    _, _, _, c = _setup(api, stock=5, min_size=3, max_size=3, tiers=[[3, 1990]])
    a, b = api.signup("甲"), api.signup("乙")
    t = api.open(a, c["id"])["team"]["id"]
    api.join(b, t)
    assert _stock(api, c["id"]) == (2, 1, 0, 2)
    assert api.c.post(f"/api/teams/{t}/leave", headers=_auth(b)).status_code == 200
    assert _stock(api, c["id"]) == (2, 2, 0, 1)  # b's unit is the team's again
    assert api.c.post(f"/api/teams/{t}/leave", headers=_auth(a)).status_code == 200
    assert api.team(t)["status"] == "closed"
    assert _stock(api, c["id"]) == (5, 0, 0, 0)
    run_worker()
    assert audit_violations() == []


def test_a_team_growing_past_its_minimum_needs_free_stock(api: Api) -> None:
    _, _, _, c = _setup(api, stock=3, min_size=2, max_size=4)
    a, b, d, e = (api.signup(n) for n in ("甲", "乙", "丙", "丁"))
    t = api.open(a, c["id"])["team"]["id"]
    api.join(b, t)  # formed, from the reservation
    api.join(d, t)  # the third seat: the last free unit
    r = api.c.post(f"/api/teams/{t}/join", json={}, headers=_auth(e))
    _refused(r, 409, "sold_out")
    assert _stock(api, c["id"]) == (0, 0, 0, 3)
    assert audit_violations() == []


def test_the_campaign_ends_only_once_every_reservation_is_back(api: Api) -> None:
    _, _, _, c = _setup(api, stock=4, min_size=2, max_size=2)
    a = api.signup("甲")
    t = api.open(a, c["id"])["team"]["id"]
    clock.advance(timedelta(days=2, minutes=1))
    run_worker()  # the team fails at its deadline (before the campaign's end), then it ends
    assert api.team(t)["status"] == "failed"
    view = _campaign(api, c["id"])
    assert view["status"] == "ended"
    assert (view["reserved"], view["sold"], view["returned"]) == (0, 0, 4)
    assert audit_violations() == []


# ---------------------------------------------------------------- 单独购买


def _solo(api: Api, who: dict[str, str], campaign_id: int, **kw: Any) -> Any:
    return api.c.post(f"/api/campaigns/{campaign_id}/solo", headers=_auth(who), **kw)


def test_buying_alone_is_a_plain_order_at_the_single_price(api: Api) -> None:
    _, _, staff, c = _setup(api, price=3000, stock=5, max_quantity_per_order=2)
    assert c["allow_solo"] is True  # new campaigns offer it unless told otherwise
    a = api.signup("甲")
    r = _solo(api, a, c["id"], json={"quantity": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["order"]["unit_price"] == 3000 == c["single_price"]
    assert body["order"]["amount"] == 6000
    assert body["order"]["team_id"] is None
    assert body["order"]["address"]  # shipped like a team order, to the member's address
    assert _stock(api, c["id"]) == (3, 0, 2, 0)
    api.pay(body["pay_url"])
    order = api.order(a, body["order"]["id"])
    assert order["status"] == "confirmed"  # nothing to wait for: sold at once
    assert order["final_unit_price"] == 3000
    assert order["paid_amount"] == 6000 and order["in_escrow"] == 6000
    assert order["refunds"] == []
    assert _stock(api, c["id"]) == (3, 0, 0, 2)
    assert _scalar("SELECT COUNT(*) FROM teams") == 0
    # The supplier ships it like any confirmed team order.
    r = api.c.post(
        f"/api/supplier/orders/{order['id']}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF1"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    assert audit_violations() == []


def test_buying_alone_replays_with_its_key_and_keeps_the_limits(api: Api) -> None:
    _, _, _, c = _setup(api, stock=10, per_member_limit=2, max_quantity_per_order=2)
    a = api.signup("甲")
    headers = {**_auth(a), "Idempotency-Key": "solo-1"}
    path = f"/api/campaigns/{c['id']}/solo"
    first = api.c.post(path, json={"quantity": 1}, headers=headers)
    again = api.c.post(path, json={"quantity": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _scalar("SELECT COUNT(*) FROM orders") == 1
    # The per-member limit counts team and solo orders together: 1 solo + 1 team = 2.
    api.open(a, c["id"])
    _refused(_solo(api, a, c["id"], json={"quantity": 1}), 409, "limit_reached")
    _refused(_solo(api, a, c["id"], json={"quantity": 3}), 422, "invalid_input")
    assert audit_violations() == []


def test_buying_alone_when_the_campaign_does_not_allow_it(api: Api) -> None:
    op, _, _, c = _setup(api, stock=4, allow_solo=False)
    assert c["allow_solo"] is False
    a = api.signup("甲")
    _refused(_solo(api, a, c["id"], json={}), 409, "solo_not_allowed")
    assert _scalar("SELECT COUNT(*) FROM orders") == 0
    r = api.c.patch(f"/api/admin/campaigns/{c['id']}", json={"allow_solo": True}, headers=op)
    assert r.status_code == 200 and r.json()["allow_solo"] is True
    assert r.json()["status"] == "active"
    assert _solo(api, a, c["id"], json={}).status_code == 201
    # Staff cannot buy; a paused campaign sells nothing.
    r = api.c.patch(f"/api/admin/campaigns/{c['id']}", json={"status": "paused"}, headers=op)
    assert r.status_code == 200 and r.json()["allow_solo"] is True
    _refused(_solo(api, api.signup("乙"), c["id"], json={}), 409, "campaign_not_live")
    assert audit_violations() == []


def test_buying_alone_takes_only_free_stock_never_a_teams_reservation(api: Api) -> None:
    _, _, _, c = _setup(api, stock=3, min_size=2, max_size=2)
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    t = api.open(a, c["id"])["team"]["id"]
    assert _solo(api, b, c["id"], json={}).status_code == 201  # the one free unit
    _refused(_solo(api, d, c["id"], json={}), 409, "sold_out")
    api.join(d, t)  # the reserved seat is still there
    assert api.team(t)["status"] == "settled"
    assert audit_violations() == []


def test_an_unpaid_solo_order_gives_its_unit_back_and_a_late_payment_is_refunded(
    api: Api,
) -> None:
    _, _, _, c = _setup(api, stock=2)
    a = api.signup("甲")
    body = _solo(api, a, c["id"], json={}).json()
    assert _stock(api, c["id"]) == (1, 0, 1, 0)
    clock.advance(PAST_HOLD)
    run_worker()
    assert api.order(a, body["order"]["id"])["status"] == "cancelled"
    assert _stock(api, c["id"]) == (2, 0, 0, 0)
    api.pay(body["pay_url"])  # paid after the hold ran out: refunded, the unit not sold
    order = api.order(a, body["order"]["id"])
    assert order["status"] == "cancelled"
    assert [(x["reason"], x["amount"]) for x in order["refunds"]] == [("late_payment", 3000)]
    assert _stock(api, c["id"]) == (2, 0, 0, 0)
    assert audit_violations() == []


def test_a_solo_order_refunded_when_never_shipped(api: Api) -> None:
    _, _, _, c = _setup(api, stock=2, ship_within_hours=1)
    a = api.signup("甲")
    body = _solo(api, a, c["id"], json={}).json()
    api.pay(body["pay_url"])
    clock.advance(timedelta(hours=2))
    run_worker()
    order = api.order(a, body["order"]["id"])
    assert order["status"] == "refunded"
    assert order["kept_amount"] == 0
    assert audit_violations() == []
