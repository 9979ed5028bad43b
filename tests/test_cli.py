"""The ``tuangou`` command, run as a user runs it: in its own process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api import count, execute, rows, scalar
from tests.conftest import audit_violations


def tuangou(*args: str, url: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("TUANGOU_") and k != "DATABASE_URL"
    }
    environment.update(
        DATABASE_URL=url, COLUMNS="200", TUANGOU_SANDBOX_CALLBACK_DELAY_MS="0", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "tuangou.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _out(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "cli.db"
    return f"sqlite:///{path}", path


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql))


def test_migrate(fresh: tuple[str, Path]) -> None:
    url, path = fresh
    from tuangou.core import migrate

    result = tuangou("migrate", url=url)
    assert result.returncode == 0, _out(result)
    assert str(migrate.head()) in result.stdout
    assert _query(path, "SELECT version_num FROM alembic_version") == [(migrate.head(),)]
    tables = {name for (name,) in _query(path, "SELECT name FROM sqlite_master")}
    assert {"users", "orders", "teams", "ledger_entries", "outbox_events"} <= tables
    again = tuangou("migrate", url=url)
    assert again.returncode == 0, _out(again)


def test_createoperator(fresh: tuple[str, Path]) -> None:
    url, path = fresh
    result = tuangou(
        "createoperator", "--phone", "13800000099", "--password", "op-secret-1", url=url
    )
    assert result.returncode == 0, _out(result)
    assert "13800000099" in result.stdout
    [(role, password_hash)] = _query(
        path, "SELECT role, password_hash FROM users WHERE phone = '13800000099'"
    )
    assert role == "operator"
    assert password_hash and "op-secret-1" not in password_hash
    # The same phone twice, a bad phone and a short password are refused with their code.
    for args, code in (
        (("--phone", "13800000099", "--password", "op-secret-2"), "phone_taken"),
        (("--phone", "12345", "--password", "op-secret-2"), "invalid_input"),
        (("--phone", "13800000098", "--password", "short"), "invalid_input"),
    ):
        refused = tuangou("createoperator", *args, url=url)
        assert refused.returncode == 2, _out(refused)
        assert code in _out(refused)
    assert _query(path, "SELECT COUNT(*) FROM users") == [(1,)]


def test_audit_on_an_empty_database(fresh: tuple[str, Path]) -> None:
    url, _ = fresh
    assert tuangou("migrate", url=url).returncode == 0
    result = tuangou("audit", url=url)
    assert result.returncode == 0, _out(result)
    assert "all invariants hold" in result.stdout


def _load_demo() -> dict[str, object]:
    from tuangou import demo

    return demo.load()


def test_audit_passes_then_names_the_violation(db_url: str) -> None:
    assert _load_demo()["loaded"] is True
    result = tuangou("audit", url=db_url)
    assert result.returncode == 0, _out(result)
    assert result.stdout.count("PASS") == 5
    assert "all invariants hold" in result.stdout
    campaign = scalar("SELECT MIN(id) FROM team_campaigns")
    # sold = stock + 1 is refused by the database's own check; a counter out of step with
    # the orders is the oversell the database cannot see.
    assert execute("UPDATE team_campaigns SET sold = sold + 1 WHERE id = :c", c=campaign) == 1
    result = tuangou("audit", url=db_url)
    assert result.returncode == 1, _out(result)
    assert "FAIL invariant 1" in result.stdout
    assert f"campaign {campaign}: sold" in result.stdout
    assert "violation" in result.stdout
    assert "all invariants hold" not in result.stdout


def test_worker_once_does_what_is_due(db_url: str) -> None:
    loaded = _load_demo()
    team_ids = loaded["team_ids"]
    assert isinstance(team_ids, list)
    assert [r[0] for r in rows("SELECT status FROM teams ORDER BY id")] == ["formed", "open"]
    # Two days on, both demo teams are past their deadline: one formed, one did not.
    later = {"TUANGOU_CLOCK_OFFSET_SECONDS": str(2 * 86400)}
    result = tuangou("worker", "--once", url=db_url, **later)
    assert result.returncode == 0, _out(result)
    assert "settle due teams: 2" in result.stdout
    statuses = dict(rows("SELECT id, status FROM teams"))
    assert statuses == {team_ids[0]: "settled", team_ids[1]: "failed"}
    assert count("refunds", "reason = 'team_failed' AND status = 'succeeded'") == 1
    assert count("outbox_events", "delivered_at IS NULL") == 0
    # Nothing is left to do, and everything adds up.
    again = tuangou("worker", "--once", url=db_url, **later)
    assert again.returncode == 0
    assert "settle due teams: 0" in again.stdout
    audit = tuangou("audit", url=db_url, **later)
    assert audit.returncode == 0, _out(audit)


def test_demo_loads_a_three_tier_ladder(db_url: str) -> None:
    from fastapi.testclient import TestClient

    from tuangou.api.app import create_app

    assert _load_demo()["loaded"] is True
    assert _load_demo()["loaded"] is False  # loading twice adds nothing
    assert count("users", "role = 'operator'") == 1
    with TestClient(create_app(run_worker=False)) as client:
        campaigns = client.get("/api/campaigns").json()
        assert len(campaigns) == 3
        ladders = [c["tiers"] for c in campaigns if len(c["tiers"]) == 3]
        assert len(ladders) == 1
        prices = [t["unit_price"] for t in ladders[0]]
        assert prices == sorted(prices, reverse=True) and len(set(prices)) == 3
        ladder = next(c for c in campaigns if len(c["tiers"]) == 3)
        page = client.get(f"/api/campaigns/{ladder['id']}").json()
        assert len(page["open_teams"]) == 2
        login = client.post(
            "/api/auth/login", json={"phone": "13800000001", "password": "demo1234"}
        )
        assert login.status_code == 200
    assert audit_violations() == []


@pytest.mark.server
def test_every_command_works_on_an_already_migrated_database(fresh: tuple[str, Path]) -> None:
    """Each command gets the whole composition (every table, every kind of order, every
    outbox handler) whatever it imports first: on a database that is already migrated, no
    command may meet a foreign key to a table its own imports did not load."""
    import httpx

    from tests.e2e.server import Server

    url, path = fresh
    assert tuangou("migrate", url=url).returncode == 0
    result = tuangou(
        "createoperator", "--phone", "13800000077", "--password", "op-pass-77", url=url
    )
    assert result.returncode == 0, _out(result)
    assert _query(path, "SELECT role FROM users WHERE phone = '13800000077'") == [("operator",)]
    for args in (("migrate",), ("audit",), ("worker", "--once")):
        result = tuangou(*args, url=url)
        assert result.returncode == 0, (args, _out(result))
        assert "Traceback" not in _out(result), (args, _out(result))
    for command in ("serve", "demo"):
        with Server(url, command=command) as server:
            login = httpx.post(
                f"{server.url}/api/auth/login",
                json={"phone": "13800000077", "password": "op-pass-77"},
            )
            assert login.status_code == 200, (command, login.text, server.log())
