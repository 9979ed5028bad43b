"""The bargains and the risk engine put together by the composition root (both backends): the
helps of one device's burst of new accounts count while their case waits for review; the
operator confirming the ring voids its helps (the price comes back) and the points they earned,
and refuses its next ones, without saying why."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.bargains.helpers import campaign, help_, member, start, view
from tests.conftest import Api, audit_violations, scalar
from tests.risk.test_api import signup
from tuangou.core import clock
from tuangou.points import rules as points_rules


def test_a_confirmed_ring_loses_its_helps_and_cuts_no_more(client: TestClient, api: Api) -> None:
    op, camp = campaign(api, helps_per_member=1, helpers_needed=10)
    starter = member(api, "发起人")
    bargain = start(api, starter, camp["id"])
    honest = member(api, "邻居")
    assert help_(api, honest, bargain, **{"X-Device-Id": "phone-neighbour"}).status_code == 201
    after_honest = view(api, starter, bargain["id"]).json()["price"]
    clock.advance(timedelta(hours=1))  # the neighbour's help is not part of what follows

    ring = []
    for n in range(1, 7):  # six new accounts on one emulator, each cutting the same bargain
        r = signup(client, n, "emulator-1")
        assert r.status_code == 201, r.text
        who = {"Authorization": f"Bearer {r.json()['token']}", "user_id": r.json()["user"]["id"]}
        ring.append(who)
        cut = help_(api, who, bargain, **{"X-Device-Id": "emulator-1"})
        assert cut.status_code == 201, cut.text  # the last one is held: it counts meanwhile
    cut_down = view(api, starter, bargain["id"]).json()
    assert cut_down["cuts_taken"] == 7 and cut_down["price"] < after_honest

    ids = {w["user_id"] for w in ring}
    # Each counted help earned its helper points, the ring's too.
    balance = "SELECT balance FROM points_balances WHERE user_id = :u"
    per_help = points_rules.DEFAULT_HELP_POINTS
    assert [scalar(balance, u=u) for u in sorted(ids)] == [per_help] * 6
    assert scalar(balance, u=honest["user_id"]) == per_help
    cases = client.get("/api/admin/risk/cases", headers=op).json()
    details = [client.get(f"/api/admin/risk/cases/{c['id']}", headers=op).json() for c in cases]
    case = next(d for d in details if {m["id"] for m in d["members"]} == ids)
    decided = client.post(
        f"/api/admin/risk/cases/{case['id']}/decision", json={"decision": "confirm"}, headers=op
    )
    assert decided.status_code == 200, decided.text
    back = view(api, starter, bargain["id"]).json()
    assert back["price"] == after_honest and back["cuts_taken"] == 1
    live = [h for h in back["helpers"] if not h["voided"]]
    assert len(live) == 1 and sum(h["amount"] for h in live) == back["start_price"] - back["price"]
    assert scalar("SELECT COUNT(*) FROM bargain_helps WHERE status = 'voided'") == 6
    # ... and the ring's members lose those points; the honest neighbour keeps theirs.
    assert [scalar(balance, u=u) for u in sorted(ids)] == [0] * 6
    assert scalar(balance, u=honest["user_id"]) == per_help
    assert audit_violations() == []

    # A confirmed member's next help, on another bargain, is refused without naming a signal.
    other = start(api, member(api, "另一位"), camp["id"])
    refused = help_(api, ring[0], other, **{"X-Device-Id": "emulator-1"})
    assert refused.status_code == 403 and refused.json()["code"] == "risk_refused"
    assert "device" not in refused.text.lower()
    assert view(api, starter, other["id"], other["share_token"]).json()["cuts_taken"] == 0
