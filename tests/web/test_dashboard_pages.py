"""The dashboard pages: the operator's (the platform, a community, a leader), a leader's own,
their CSV exports and the definitions page; and the same figures over the API."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.analytics.test_dashboards import Data
from tests.web.pages import log_in, log_out
from tuangou.accounts import service as accounts
from tuangou.analytics import rules
from tuangou.core.db import Base, read, run_in_transaction

RANGE = "start=2025-02-01&end=2025-03-31"


def _phone(user_id: int) -> str:
    users = Base.metadata.tables["users"]
    return str(
        read(lambda s: s.execute(select(users.c.phone).where(users.c.id == user_id)).scalar())
    )


def _leader_user(leader_id: int) -> int:
    leaders = Base.metadata.tables["leaders"]
    return int(
        read(
            lambda s: s.execute(select(leaders.c.user_id).where(leaders.c.id == leader_id)).scalar()
        )
    )


@pytest.fixture
def world(client: TestClient) -> Data:
    data = run_in_transaction(Data)
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone="13900000009", password="secret123", nickname="运营", role="operator"
        )
    )
    return data


def _csv(client: TestClient, path: str) -> list[list[str]]:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.text.removeprefix("\ufeff"))))


def test_the_operator_sees_every_figure_with_its_definition_and_export(
    client: TestClient, world: Data
) -> None:
    log_in(client, "13900000009")
    page = client.get(f"/ops/dashboard?{RANGE}")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    for chart in ("gmv", "orders", "rates", "leaders", "refunds"):
        assert f'data-chart="{chart}"><svg' in html, chart
    for key in rules.DEFINITIONS:
        assert f'href="/ops/dashboard/definitions#{key}"' in html, key
    assert "¥22.50" in html  # the average order value: 135.00 / 6
    assert "50%" in html and "王姐" in html and "李哥" in html
    assert "/ops/dashboard/export.csv?figure=retention&amp;start=2025-02-01" in html
    # narrowed to one leader: the other leader's row is gone
    narrowed = client.get(f"/ops/dashboard?{RANGE}&leader_id={world.west[0]}").text
    assert "李哥" in narrowed.split('data-figure="leaders"')[1].split("</table>")[0]
    assert "王姐" not in narrowed.split('data-figure="leaders"')[1].split("</table>")[0]

    rows = _csv(client, f"/ops/dashboard/export.csv?figure=retention&{RANGE}")
    assert rows == [
        ["cohort", "size", "month_0", "month_1"],
        ["2025-02", "2", "1.0000", "0.5000"],
        ["2025-03", "1", "1.0000", ""],
    ]
    days = _csv(client, f"/ops/dashboard/export.csv?figure=gmv&{RANGE}")
    assert days[0] == ["day", "orders", "paid_fen", "refunded_fen", "gmv_fen"]
    assert len(days) == 60 and sum(int(r[4]) for r in days[1:]) == 12500
    for figure in rules.DEFINITIONS:
        assert client.get(f"/ops/dashboard/export.csv?figure={figure}&{RANGE}").status_code == 200

    # bad input: said, and nothing exported
    assert client.get(f"/ops/dashboard/export.csv?figure=nope&{RANGE}").status_code == 422
    bad = client.get("/ops/dashboard?start=2025-03-31&end=2025-02-01")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert client.get("/ops/dashboard/export.csv?figure=gmv&start=yesterday").status_code == 422

    definitions = client.get("/ops/dashboard/definitions").text
    for key in rules.DEFINITIONS:
        assert f'id="{key}"' in definitions
    assert "复购率" in definitions


def test_a_leader_sees_only_their_own_figures(client: TestClient, world: Data) -> None:
    log_in(client, _phone(_leader_user(world.east[0])))
    page = client.get(f"/leader/dashboard?{RANGE}")
    assert page.status_code == 200, page.text[:500]
    leaders = page.text.split('data-figure="leaders"')[1].split("</table>")[0]
    assert "王姐" in leaders and "李哥" not in leaders
    assert 'href="/leader/dashboard/definitions#k_factor"' in page.text
    assert _csv(client, f"/leader/dashboard/export.csv?figure=leaders&{RANGE}")[1][:4] == [
        str(world.east[0]),
        "王姐",
        "5500",
        "2",
    ]
    # another leader's community: refused on the page, and its figures never shown
    other = client.get(f"/leader/dashboard?{RANGE}&community_id={world.west[2]}")
    assert other.status_code == 422 and "李哥" not in other.text.split('data-figure="leaders"')[1]
    assert (
        client.get(
            f"/leader/dashboard/export.csv?figure=refunds&{RANGE}&community_id={world.west[2]}"
        ).status_code
        == 422
    )
    # the operator's dashboard is not a leader's
    assert client.get("/ops/dashboard").status_code in (303, 403)
    log_out(client)
    log_in(client, _phone(world.m[1]))
    assert client.get("/leader/dashboard").status_code == 403


def test_the_same_figures_over_the_api(client: TestClient, world: Data) -> None:
    def token(user_id: int) -> dict[str, str]:
        user = read(lambda s: accounts.get_user(s, user_id))
        return {"Authorization": f"Bearer {accounts.issue_token(user)}"}

    users = Base.metadata.tables["users"]
    operator_id = int(
        read(lambda s: s.execute(select(users.c.id).where(users.c.phone == "13900000009")).scalar())
    )
    body: dict[str, Any] = client.get(
        f"/api/admin/dashboard?{RANGE}", headers=token(operator_id)
    ).json()
    assert (body["orders"], body["average_order_value"], body["repurchase_rate"]) == (6, 2250, 0.5)
    assert [c["shares"] for c in body["cohorts"]] == [[1.0, 0.5], [1.0]]
    assert body["engine"] == "duckdb" and body["teams_total"]["succeeded"] == 1
    east = token(_leader_user(world.east[0]))
    mine = client.get(f"/api/leader/dashboard?{RANGE}", headers=east).json()
    assert mine["leader_id"] == world.east[0] and mine["teams"] is None
    assert [r["name"] for r in mine["leaders"]] == ["王姐"] and mine["gmv"] == 5500
    theirs = client.get(f"/api/leader/dashboard?{RANGE}&community_id={world.west[2]}", headers=east)
    assert theirs.status_code == 404
    backwards = client.get("/api/leader/dashboard?start=2025-03-31&end=2025-02-01", headers=east)
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid_dashboard_range"
    keys = [d["figure"] for d in client.get("/api/dashboard/definitions", headers=east).json()]
    assert keys == list(rules.DEFINITIONS)
