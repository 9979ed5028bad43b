"""试运行 / try before launch: the campaign form's settings carried into the simulator's
form, a run queued from it, and a finished run's page with its charts and the spread per
setting."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.pools.support import seed_sku
from tests.web.pages import alerts, log_in, post
from tuangou.accounts import service as accounts
from tuangou.core.db import run_in_transaction
from tuangou.simulate import service


def _operator(client: TestClient) -> None:
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone="13811112222", password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, "13811112222")


def test_try_before_launch(client: TestClient) -> None:
    _operator(client)
    _, sku_id = seed_sku(price=3990, stock=100, title="赣南脐橙")
    campaigns = client.get("/ops/campaigns").text
    assert 'formaction="/ops/simulate/try"' in campaigns
    # The campaign form's settings, carried over.
    carried = post(
        client,
        "/ops/simulate/try",
        {
            "sku_id": str(sku_id),
            "tiers": "3:29.90, 6:26.90",
            "stock": "40",
            "window_hours": "48",
            "per_member_limit": "3",
            "opener_perk": "free",
            "starts_at": "2026-12-08T10:00",
            "ends_at": "2026-12-10T10:00",
        },
        form_page="/ops/campaigns",
    )
    assert carried.status_code == 200
    html = carried.text
    assert 'name="price" type="text" value="29.90"' in html
    assert 'name="team_sizes" type="text" value="3"' in html
    assert 'name="tiers" type="text" value="6:26.90"' in html
    assert 'name="windows" type="text" value="48"' in html
    assert 'name="hours" type="number" value="48"' in html
    assert 'name="per_member_limit" type="number" value="3"' in html
    assert '<option value="free" selected>' in html
    # A bad grid is refused next to its field, and nothing is queued.
    form = {
        "sku_id": str(sku_id),
        "price": "29.90",
        "team_sizes": "2,40",
        "windows": "24",
        "tiers": "",
        "completion_off": "1",
        "completion_on": "1",
        "completion_percent": "50",
        "subsidy_budget": "100.00",
        "hours": "48",
        "members": "8",
        "runs": "1",
        "seed": "5",
    }
    refused = post(client, "/ops/simulate", {**form, "team_sizes": "1"}, form_page="/ops/simulate")
    assert refused.status_code == 422 and alerts(refused.text)
    queued = post(client, "/ops/simulate", form, form_page="/ops/simulate")
    assert queued.status_code == 303
    run_id = int(re.search(r"/ops/simulate/(\d+)", queued.headers["location"])[1])  # type: ignore[index]
    waiting = client.get(f"/ops/simulate/{run_id}").text
    assert 'data-status="queued"' in waiting and 'http-equiv="refresh"' in waiting
    # The worker's child would run it; here it runs in this process.
    assert service.execute(run_id) == "done"
    page = client.get(f"/ops/simulate/{run_id}")
    assert page.status_code == 200
    html = page.text
    assert 'data-status="done"' in html and 'http-equiv="refresh"' not in html
    for chart in ("success", "left", "gmv", "subsidy"):
        assert f'data-chart="{chart}"><svg' in html
    # One row per setting: two team sizes × completion on and off.
    assert len(re.findall(r'<tr data-setting="', html)) == 4
    assert 'data-setting="40p · 24h · completion"' in html
    assert "赣南脐橙" in html
    assert f'href="/ops/simulate/{run_id}"' in client.get("/ops/simulate").text
