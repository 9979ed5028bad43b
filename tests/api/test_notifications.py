"""The inbox: fed from the outbox by the worker (invariant 7), one message per event and
member however often an event is delivered, naming what it is about and linking to it, in
the member's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api import auth, count, execute, world
from tests.conftest import Api, audit_violations, run_worker
from tuangou.core import clock


def _inbox(api: Api, who: dict[str, str], lang: str | None = None, **params: Any) -> Any:
    headers = auth(who)
    if lang:
        headers["Accept-Language"] = lang
    r = api.c.get("/api/notifications", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _kinds(inbox: dict[str, Any]) -> list[str]:
    return sorted(item["kind"] for item in inbox["items"])


def _ladder_team(api: Api) -> tuple[Any, int, list[int]]:
    """Three members fill a 2→1990, 3→1790 team: formed at two, settled at three."""
    w = world(api, 4, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b, c, _ = w.members
    opened = api.open(a, w.campaign["id"])
    team_id = opened["team"]["id"]
    orders = [opened["order"]["id"]]
    orders.append(api.join(b, team_id)["order"]["id"])
    orders.append(api.join(c, team_id)["order"]["id"])
    run_worker()
    assert api.team(team_id)["status"] == "settled"
    return w, team_id, orders


def test_inbox_tells_of_forming_settling_and_refunds(api: Api) -> None:
    w, team_id, orders = _ladder_team(api)
    a, b, c, _ = w.members
    inbox = _inbox(api, a)
    # The price protection refund is told by the settlement's message, not a second one.
    assert _kinds(inbox) == ["team.formed", "team.settled"]
    assert count("refunds", "order_id = :o AND reason = 'price_protection'", o=orders[0]) == 1
    assert inbox["unread"] == 2
    assert all(not item["read"] for item in inbox["items"])
    assert _kinds(_inbox(api, b)) == ["team.formed", "team.settled"]
    # c joined after the team had formed: told of settling only.
    assert _kinds(_inbox(api, c)) == ["team.settled"]
    by_kind = {item["kind"]: item for item in inbox["items"]}
    assert by_kind["team.formed"]["title"] == "已成团"
    assert by_kind["team.formed"]["data"]["team_id"] == team_id
    assert "2人" in by_kind["team.formed"]["body"]
    # Each names what it is about and links to it: the team, the order.
    assert {i["subject"] for i in inbox["items"]} == {w.campaign["title"]}
    assert by_kind["team.formed"]["target"] == {"type": "team", "id": team_id}
    assert by_kind["team.settled"]["target"] == {"type": "order", "id": orders[0]}
    assert by_kind["team.settled"]["data"]["team_id"] == team_id
    assert by_kind["team.settled"]["title"] == "拼团成功"
    assert "¥17.90" in by_kind["team.settled"]["body"]
    assert "¥2.00" in by_kind["team.settled"]["body"]
    # A message does not carry the list of everyone else it went to.
    for item in inbox["items"]:
        assert "user_ids" not in item["data"]
    assert count("notifications") == 2 + 2 + 1


def test_inbox_tells_of_a_failed_team_and_its_refund(api: Api) -> None:
    w = world(api, 1)
    a = w.members[0]
    order_id = api.open(a, w.campaign["id"])["order"]["id"]
    assert _inbox(api, a)["items"] == []
    clock.advance(timedelta(hours=25))
    run_worker()
    inbox = _inbox(api, a)
    # One message: the team did not form, and the refund (told once, in it).
    assert _kinds(inbox) == ["team.failed"]
    failed = inbox["items"][0]
    assert failed["title"] == "未成团"
    assert "¥19.90" in failed["body"]
    assert failed["subject"] == w.campaign["title"]
    assert failed["target"] == {"type": "order", "id": order_id}
    assert count("refunds", "order_id = :o AND reason = 'team_failed'", o=order_id) == 1
    assert audit_violations() == []


def test_the_worker_delivers_and_a_redelivery_makes_no_duplicate(api: Api) -> None:
    w, _, _ = _ladder_team(api)
    a = w.members[0]
    before = _inbox(api, a)
    total = count("notifications")
    events = count("outbox_events")
    sent_refunds = count("sandbox_refunds")
    assert total > 0 and events > 0
    # The inbox is filled by the worker from the outbox: without it, nothing arrives.
    execute("DELETE FROM notifications")
    execute("UPDATE outbox_events SET delivered_at = NULL")
    assert _inbox(api, a)["items"] == []
    run_worker()
    assert count("notifications") == total
    assert count("outbox_events", "delivered_at IS NULL") == 0
    # Every event delivered once more (a worker killed before marking them, say).
    execute("UPDATE outbox_events SET delivered_at = NULL")
    run_worker()
    run_worker()
    assert count("notifications") == total
    after = _inbox(api, a)
    assert _kinds(after) == _kinds(before)
    assert [i["data"] for i in after["items"]] == [i["data"] for i in before["items"]]
    # The refunds went to the gateway once, too.
    assert count("sandbox_refunds") == sent_refunds
    assert count("outbox_events") == events
    assert audit_violations() == []


def test_english_when_asked(api: Api) -> None:
    w, _, _ = _ladder_team(api)
    a = w.members[0]
    for lang in ("en", "en-US,en;q=0.9", "EN-GB"):
        inbox = _inbox(api, a, lang)
        by_kind = {item["kind"]: item for item in inbox["items"]}
        assert by_kind["team.formed"]["title"] == "Formed"
        assert by_kind["team.formed"]["body"] == "Your team has formed (2 members)."
        assert by_kind["team.settled"]["title"] == "Team settled"
        assert by_kind["team.settled"]["body"] == "Final price ¥17.90 per unit. ¥2.00 refunded."
    zh = {item["kind"]: item["title"] for item in _inbox(api, a, "zh-CN")["items"]}
    assert zh["team.formed"] == "已成团"
    assert {item["kind"]: item["title"] for item in _inbox(api, a)["items"]} == zh


def test_mark_read(api: Api) -> None:
    w, _, _ = _ladder_team(api)
    a, b = w.members[0], w.members[1]
    inbox = _inbox(api, a)
    assert inbox["unread"] == 2
    first = inbox["items"][0]["id"]
    r = api.c.post(f"/api/notifications/{first}/read", headers=auth(a))
    assert r.json() == {"marked": 1}
    assert api.c.post(f"/api/notifications/{first}/read", headers=auth(a)).json() == {"marked": 0}
    inbox = _inbox(api, a)
    assert inbox["unread"] == 1
    assert {i["id"]: i["read"] for i in inbox["items"]}[first] is True
    unread = _inbox(api, a, unread_only="true")
    assert len(unread["items"]) == 1 and first not in {i["id"] for i in unread["items"]}
    # Another member cannot mark a's messages.
    other = _inbox(api, a)["items"][1]["id"]
    assert api.c.post(f"/api/notifications/{other}/read", headers=auth(b)).json() == {"marked": 0}
    assert _inbox(api, a)["unread"] == 1
    assert _inbox(api, b)["unread"] == 2
    # Mark all.
    assert api.c.post("/api/notifications/read", headers=auth(a)).json() == {"marked": 1}
    assert _inbox(api, a)["unread"] == 0
    assert _inbox(api, a, unread_only="true")["items"] == []
    assert _inbox(api, b)["unread"] == 2
