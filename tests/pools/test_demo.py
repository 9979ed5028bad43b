"""The demo's community group-buying: leaders, communities and waves in every stage."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import audit_violations, run_worker
from tests.pools.support import changed_tables, rows, scalar, snapshot
from tuangou import demo
from tuangou.core import clock


def login(client: TestClient, phone: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"phone": phone, "password": demo.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_demo_communities_have_waves_open_arrived_and_completed(db_url: str) -> None:
    from tuangou.api.app import create_app

    assert demo.load()["loaded"] is True
    loaded = snapshot()
    assert demo.load()["loaded"] is False
    assert changed_tables(loaded, snapshot()) == []  # loading twice adds nothing
    assert audit_violations() == []

    statuses = dict(
        rows(
            "SELECT w.title, o.status FROM waves w JOIN wave_orders i ON i.wave_id = w.id"
            " JOIN orders o ON o.id = i.order_id GROUP BY w.title, o.status"
        )
    )
    assert statuses == {
        demo.WAVE_OPEN: "paid",
        demo.WAVE_ARRIVED: "arrived",
        demo.WAVE_COMPLETED: "completed",
        demo.WAVE_IN_TRANSIT: "shipped",  # shipped by a carrier, on its way (运输中)
        demo.PROPOSAL_CONVERTED: "paid",  # a proposal's pre-sale, ordered by its voters
    }
    # Every order of the arrived wave has its pickup code, still to be collected.
    assert rows(
        "SELECT p.status, COUNT(*) FROM pickups p JOIN waves w ON w.id = p.wave_id"
        " WHERE w.title = :t GROUP BY p.status",
        t=demo.WAVE_ARRIVED,
    ) == [("waiting", 4)]
    # The sub-leader's sales earned their leader an override, frozen for now.
    assert scalar("SELECT COUNT(*) FROM commissions WHERE kind = 'override'") > 0
    assert scalar("SELECT COUNT(*) FROM leaders WHERE parent_leader_id IS NOT NULL") == 1

    # Every SKU carries its supplier's terms, and the third leader sells their own goods.
    assert scalar("SELECT COUNT(*) FROM skus WHERE floor_price > price") == 0
    assert rows("SELECT s.name FROM suppliers s JOIN leaders l ON l.id = s.leader_id") == [
        (demo.OWN_SHOP,)
    ]

    with TestClient(create_app(run_worker=False)) as client:
        third = login(client, demo.LEADERS[2][0])
        own = [c["own"] for c in client.get("/api/leader/skus", headers=third).json()]
        assert own.count(True) == 1 and len(own) > 1
        for phone, name, point, *_ in demo.LEADERS:
            me = client.get("/api/leader/me", headers=login(client, phone)).json()
            assert me["pickup_points"][0]["name"] == point, me
            mine = client.get("/api/leader/waves", headers=login(client, phone)).json()
            assert any(w["wave"]["open"] for w in mine), name
        # The open wave closes tonight at 23:00 local time, delivered the day after.
        leader = login(client, demo.LEADERS[0][0])
        wave = next(
            w for w in client.get("/api/leader/waves", headers=leader).json() if w["wave"]["open"]
        )
        page = client.get(f"/api/listings/{wave['listing']['id']}", headers=leader).json()
        assert page["wave"]["title"] == demo.WAVE_OPEN
        assert [row["seq"] for row in page["chain"]] == [1, 2, 3]
        assert all("*" in row["name"] for row in page["chain"])
        cutoff = clock.as_utc(
            clock.local_midnight(clock.local_date(clock.now())) + timedelta(hours=23)
        )
        assert page["wave"]["cutoff_at"][11:16] == cutoff.isoformat()[11:16]
        assert page["wave"]["seconds_to_cutoff"] > 0

    # Neighbours' wishes show in their leader's demand insight (需求洞察) of that week.
    from tuangou.core.db import unit_of_work
    from tuangou.insight import rules as insight_rules
    from tuangou.insight import service as insight

    [(community_id, written)] = rows(
        "SELECT community_id, created_at FROM post_replies WHERE text = :t", t=demo.WISHES[1]
    )
    if isinstance(written, str):  # SQLite gives the text
        written = datetime.fromisoformat(written)
    week = insight_rules.week_label(insight_rules.week_start(clock.local_date(written)))
    with unit_of_work(readonly=True) as s:
        found = insight.community_insight(
            s, user_id=0, community_id=community_id, week=week, operator=True
        )
    wishes = {w.phrase: w.askers for w in found.wishes}
    assert wishes["车厘子"] == 2 and wishes["五常大米"] == 1

    # Two days on, the worker settles the open wave too, and everything still adds up.
    clock.advance(timedelta(days=2))
    run_worker()
    assert scalar("SELECT COUNT(*) FROM waves WHERE status <> 'settled'") == 0
    assert audit_violations() == []
