"""The leaderboards' HTTP API: the board with my rank, the leader's award (idempotent by
its key), the operator's settings, each reply in its response model."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from tests.leaderboards.support import ActionKind, act, at_local, clock_at, community
from tests.pools.support import seed_operator


def test_board_award_and_settings_over_http(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock_at(monkeypatch, at_local(date(2026, 11, 20))):  # tokens are signed at "now"
        _op, leader, (a, b, c) = community(3)
        cid = leader.community_id
        act(cid, a, ActionKind.EVENT, at_local(date(2026, 11, 18)))
        act(cid, b, ActionKind.INVITE, at_local(date(2026, 11, 19)))
        r = client.get(f"/api/communities/{cid}/leaderboard?period=month", headers=a.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["period"], body["start"], body["end"], body["final"]) == (
            "month",
            "2026-11-01",
            "2026-12-01",
            False,
        )
        assert [(s["rank"], s["member_id"], s["score"]) for s in body["standings"]] == [
            (1, b.user_id, 5),
            (2, a.user_id, 3),
        ]
        assert body["me"]["rank"] == 2 and body["me"]["events"] == 1
        assert "*" in body["standings"][0]["member"]  # masked
        week = client.get(
            f"/api/communities/{cid}/leaderboard?period=week&at=2026-11-10", headers=c.headers
        ).json()
        assert week["start"] == "2026-11-09" and week["standings"] == [] and week["me"] is None
        bad = client.get(f"/api/communities/{cid}/leaderboard?period=year", headers=a.headers)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_board_period"

    ops = seed_operator()
    r = client.put(
        "/api/admin/leaderboard/settings", json={"members": 2, "points": 50}, headers=ops.headers
    )
    assert r.status_code == 200 and r.json() == {"members": 2, "points": 50}

    url = f"/api/leader/communities/{cid}/leaderboard/award"
    body = {"month": "2026-11", "members": [b.user_id, a.user_id], "points": 50}
    with clock_at(monkeypatch, at_local(date(2026, 12, 2))):
        key = {**leader.person.headers, "Idempotency-Key": "award-nov"}
        first = client.post(url, json=body, headers=key)
        assert first.status_code == 201, first.text
        assert first.json()["members"] == [b.user_id, a.user_id]
        again = client.post(url, json=body, headers=key)  # the same click, retried
        assert again.status_code == 201 and again.json() == first.json()
        other = client.post(url, json=body, headers=leader.person.headers)
        assert other.status_code == 409 and other.json()["code"] == "board_already_awarded"
        final = client.get(
            f"/api/communities/{cid}/leaderboard?period=month&at=2026-11", headers=a.headers
        )
        assert final.json()["final"] is True
    me = client.get("/api/me/points", headers=b.headers).json()
    assert me["balance"] == 50
