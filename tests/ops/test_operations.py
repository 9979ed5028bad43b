"""What an operator runs the platform with: request ids in replies and logs, JSON logs,
readiness, and a backup restored into a new database that passes the audit (on SQLite and
PostgreSQL)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import PG_URL, audit_violations, rows
from tests.pools.support import (
    Item,
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_wave,
)
from tuangou import audit
from tuangou.core import backup, liveness, logs
from tuangou.core.db import normalise_url

COUNTED = ("orders", "payments", "ledger_entries", "ledger_transfers", "wave_orders", "users")


def test_a_reply_carries_the_callers_request_id_or_a_new_one(client: TestClient) -> None:
    r = client.get("/api/health", headers={"X-Request-ID": "lb-42.a:b_c"})
    assert r.headers["x-request-id"] == "lb-42.a:b_c"
    made = client.get("/api/health", headers={"X-Request-ID": "bad id\nforged"})
    assert made.headers["x-request-id"] != "bad id\nforged"
    assert len(made.headers["x-request-id"]) == 32
    # Error replies carry it too (in the header only: an idempotent replay's body stays
    # identical to the first reply's).
    missing = client.get("/api/teams/999999", headers={"X-Request-ID": "trace-1"})
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "trace-1"
    assert "request_id" not in missing.json()


def test_json_logs_are_one_object_a_line_with_the_request_id() -> None:
    stream = io.StringIO()
    logs.configure("json")
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "tuangou"]
    handler.setStream(stream)  # type: ignore[attr-defined]
    token = logs.request_id.set("req-7")
    try:
        logging.getLogger("tuangou.test").warning("paid %s", "顺丰")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("tuangou.test").exception("crashed")
    finally:
        logs.request_id.reset(token)
        logs.configure("text")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "paid 顺丰" and first["request_id"] == "req-7"
    assert first["level"] == "WARNING" and first["logger"] == "tuangou.test"
    assert "ValueError: boom" in second["exception"]


def test_ready_needs_the_database_current_migrations_and_a_live_worker(
    client: TestClient,
) -> None:
    r = client.get("/api/ready")
    body = r.json()
    assert body["database"] and body["migrations"]
    assert body["schema_revision"] == body["code_revision"] is not None
    if not body["worker"]:
        assert r.status_code == 503 and body["ready"] is False
    liveness.beat(force=True)
    r = client.get("/api/ready")
    assert r.status_code == 200 and r.json()["ready"] is True and r.json()["worker_seen_at"]
    # A heartbeat older than the window is a dead worker.
    from tuangou.core.db import unit_of_work

    with unit_of_work() as s:
        s.execute(
            text("UPDATE instance_settings SET value = :v WHERE name = :n"),
            {"v": "2000-01-01T00:00:00+00:00", "n": liveness.HEARTBEAT},
        )
    r = client.get("/api/ready")
    assert r.status_code == 503 and r.json()["worker"] is False


@pytest.fixture
def second_database(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database beside the test's, on the same backend."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    assert PG_URL
    name = db_url.rsplit("/", 1)[1] + "_restored"
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restored_into_a_new_database_passes_the_audit(
    db_url: str, second_database: str, tmp_path: Path
) -> None:
    operator = seed_operator()
    leader = seed_leader(operator.user_id)
    _, sku = seed_sku(price=990)
    _, listing, [item] = seed_wave(leader, [Item(sku, price=990, moq=1)])
    for member in seed_members(leader, 3):
        seed_paid_order(member, listing, {item: 2})
    assert audit_violations() == []
    counts = {t: rows(f"SELECT count(*) FROM {t}")[0][0] for t in COUNTED}
    assert counts["orders"] == 3

    path = backup.backup(db_url, tmp_path / "tuangou.backup")
    with pytest.raises(backup.BackupError):
        backup.backup(db_url, path)  # never over an existing file
    backup.restore(path, second_database)

    engine = create_engine(normalise_url(second_database))
    try:
        with Session(engine) as session:
            restored = {
                t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED
            }
            assert restored == counts
            assert [v for c in audit.run(session) for v in c.violations] == []
    finally:
        engine.dispose()


def test_a_restore_refuses_what_is_not_a_backup(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError):
        backup.restore(tmp_path / "missing.backup", db_url)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    with pytest.raises(backup.BackupError):
        backup.restore(junk, db_url)
    assert audit_violations() == []


def test_metrics_count_requests_by_route_and_read_the_backlog(client: TestClient) -> None:
    client.get("/api/teams/12345")  # a 404 on a templated route
    client.get("/api/health")
    text_ = client.get("/metrics").text
    assert 'route="/api/teams/{team_id}",status="4xx"' in text_
    assert 'method="GET",route="/api/health",status="2xx"' in text_
    assert "/12345" not in text_  # ids never become label values
    for name in (
        "tuangou_outbox_pending",
        "tuangou_outbox_lag_seconds",
        "tuangou_worker_heartbeat_age_seconds",
        "tuangou_payments_pending",
        "tuangou_teams_overdue",
        "tuangou_transaction_retries",
        "tuangou_payment_confirmation_lag_seconds",
        "tuangou_group_commit_batch_size",
    ):
        assert f"# HELP {name}" in text_, name


def test_metrics_need_the_token_when_one_is_set(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuangou.core.config import get_settings

    monkeypatch.setattr(get_settings(), "metrics_token", "s3cret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and "tuangou_http_request_duration_seconds" in r.text
