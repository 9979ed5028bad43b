"""The simulator's API: operators queue a run, list the runs and read one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.pools.support import seed_sku
from tuangou.simulate import service


def test_queue_list_and_read(client: TestClient) -> None:
    api = Api(client)
    op = api.operator()
    _, sku_id = seed_sku(price=3990, stock=100)
    body = {
        "sku_id": sku_id,
        "price": 2990,
        "team_sizes": [2, 3],
        "windows": [24],
        "members": 8,
        "runs": 1,
        "opener_perk": "free",
    }
    queued = client.post("/api/admin/simulations", json=body, headers=op)
    assert queued.status_code == 202, queued.text
    run = queued.json()
    assert run["status"] == "queued" and run["results"] is None
    assert run["settings"]["team_sizes"] == [2, 3] and run["settings"]["opener_perk"] == "free"
    bad = client.post("/api/admin/simulations", json={**body, "team_sizes": [1]}, headers=op)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_simulation"
    assert bad.json()["field"] == "team_size"
    assert service.execute(run["id"]) == "done"
    listed = client.get("/api/admin/simulations", headers=op).json()
    assert [r["id"] for r in listed] == [run["id"]] and listed[0]["status"] == "done"
    done = client.get(f"/api/admin/simulations/{run['id']}", headers=op).json()
    assert [r["team_size"] for r in done["results"]["rows"]] == [2, 3]
    # 团长免单: the engine's opener-free refund is the platform's subsidy.
    formed = [r for r in done["results"]["rows"][0]["runs"] if r["teams_succeeded"]]
    assert formed and all(r["subsidy"] > 0 for r in formed)
    missing = client.get("/api/admin/simulations/999999", headers=op)
    assert missing.status_code == 404 and missing.json()["code"] == "simulation_not_found"
