"""Privacy: the data export, the account's deletion, phone masking, the data retention."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import auth, count, execute, scalar
from tests.conftest import Api, audit_violations
from tests.photos.test_photos import png_bytes
from tuangou.accounts import rules as account_rules
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.privacy import rules
from tuangou.privacy import service as privacy
from tuangou.privacy import tasks as privacy_tasks

CONFIRM = {"confirm": "注销账号"}

pytestmark = pytest.mark.usefixtures("photo_dir")


def _phone(who: dict[str, str]) -> str:
    return str(scalar("SELECT phone FROM users WHERE id = :id", id=int(who["user_id"])))


def _world(api: Api) -> dict[str, Any]:
    """A and B in one team of two (paid, formed); A has a photo and an address."""
    op = api.operator()
    supplier_id, supplier = api.supplier(op)
    campaign = api.campaign(op, supplier_id)
    a = api.signup("李阿姨")
    b = api.signup("王叔叔")
    opened = api.open(a, campaign["id"])
    joined = api.join(b, opened["team"]["id"])
    r = api.c.post(
        "/api/photos", content=png_bytes(), headers={**auth(a), "Content-Type": "image/png"}
    )
    assert r.status_code == 201, r.text
    return {
        "op": op,
        "supplier": supplier,
        "a": a,
        "b": b,
        "a_order": opened["order"]["id"],
        "b_order": joined["order"]["id"],
        "team": opened["team"]["id"],
        "photo": r.json()["id"],
    }


def _export(client: TestClient, who: dict[str, str]) -> dict[str, bytes]:
    r = client.get("/api/me/export", headers=auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _refund(api: Api, w: dict[str, Any], order_id: int) -> None:
    r = api.c.post(
        f"/api/admin/orders/{order_id}/refund",
        json={"note": "privacy test"},
        headers=w["op"],
    )
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- export


def test_the_export_is_the_members_own_and_an_open_order_blocks_the_deletion(
    api: Api, client: TestClient
) -> None:
    w = _world(api)
    _check_export(client, w)
    _check_open_order_blocks(client, w)


def _check_export(client: TestClient, w: dict[str, Any]) -> None:
    files = _export(client, w["a"])
    manifest = json.loads(files["manifest.json"])
    assert manifest["user_id"] == int(w["a"]["user_id"])
    for domain in ("accounts", "orders", "payments", "points", "posts", "reviews", "events"):
        assert f"{domain}.json" in files
    for domain in ("referral", "notifications", "communities", "photos"):
        assert f"{domain}.json" in files
    profile = json.loads(files["accounts.json"])
    assert profile["phone"] == _phone(w["a"]) and profile["nickname"] == "李阿姨"
    assert "password_hash" not in profile and len(profile["addresses"]) == 1
    orders = json.loads(files["orders.json"])["orders"]
    assert [o["id"] for o in orders] == [w["a_order"]]
    seats = json.loads(files["teams.json"])["team_seats"]
    assert {s["user_id"] for s in seats} == {int(w["a"]["user_id"])}
    assert [p["id"] for p in json.loads(files["payments.json"])["payments"]]
    photo_files = [n for n in files if n.startswith("photos/")]
    assert photo_files == [f"photos/{w['photo']}.jpg"]  # the stored (cleaned) picture
    assert files[photo_files[0]][:3] == b"\xff\xd8\xff"
    # Nothing of B: not their phone, not their order.
    everything = b"".join(files.values()).decode("utf-8", "replace")
    assert _phone(w["b"]) not in everything
    assert all(o["id"] != w["b_order"] for o in orders)
    assert not any(b"token" in f and b"Bearer" in f for f in files.values())


def test_other_peoples_phones_in_the_export_are_masked() -> None:
    own, other = "13800000001", "13900000002"
    data = {"note": f"call {other} or {own}", "rows": [{"phone": other}]}
    masked = rules.mask_phones(data, own)
    assert masked == {"note": f"call 139****0002 or {own}", "rows": [{"phone": "139****0002"}]}


def test_every_table_naming_a_member_is_exported_or_left_out_with_a_reason(db: str) -> None:
    from tuangou.core.db import Base
    from tuangou.privacy import catalogue

    exported = {t for specs in catalogue.EXPORTS.values() for t, _ in specs}
    naming = {
        t.name
        for t in Base.metadata.tables.values()
        for c in t.columns
        if any(fk.column.table.name == "users" for fk in c.foreign_keys)
        or c.name in ("user_id", "member_id", "author_id")
    }
    assert naming - exported - set(catalogue.NOT_EXPORTED) == set()
    assert exported & set(catalogue.NOT_EXPORTED) == set()


# ---------------------------------------------------------------- deletion blocked


def _check_open_order_blocks(client: TestClient, w: dict[str, Any]) -> None:
    preview = client.get("/api/me/deletion", headers=auth(w["a"])).json()
    assert preview["may_delete"] is False and preview["confirm_phrase"] == "注销账号"
    assert [(b["kind"], b["ids"]) for b in preview["blockers"]] == [("open_orders", [w["a_order"]])]
    assert "orders" in preview["kept"] and "phone" in preview["erased"]
    r = client.post("/api/me/deletion", json=CONFIRM, headers=auth(w["a"]))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "deletion_blocked"
    assert r.json()["blockers"][0]["ids"] == [w["a_order"]]
    assert str(w["a_order"]) in r.json()["detail"]
    assert client.get("/api/me", headers=auth(w["a"])).status_code == 200
    assert scalar("SELECT deleted_at FROM users WHERE id = :id", id=int(w["a"]["user_id"])) is None
    # A wrong phrase is refused before anything is looked at.
    r = client.post("/api/me/deletion", json={"confirm": "yes"}, headers=auth(w["a"]))
    assert r.status_code == 422 and r.json()["code"] == "deletion_not_confirmed"


def _check_money_a_withdrawal_or_a_claim_blocks(client: TestClient, w: dict[str, Any]) -> None:
    """Each open thing staged in turn blocks the deletion, naming it; then nothing does."""
    uid = int(w["a"]["user_id"])
    now = clock.now()
    staged = {
        "balance": (
            "INSERT INTO referral_wallets"
            " (user_id, frozen, available, withdrawing, withdrawn, debt)"
            " VALUES (:u, 0, 150, 0, 0, 0)",
            "DELETE FROM referral_wallets WHERE user_id = :u",
        ),
        "pending_withdrawals": (
            "INSERT INTO withdrawals (leader_id, wallet, amount, status, account_note, created_at)"
            " VALUES (:u, 'referral', 150, 'requested', '', :now)",
            "DELETE FROM withdrawals WHERE leader_id = :u",
        ),
        "open_aftersales": (
            "INSERT INTO aftersale_cases (order_id, order_kind, user_id, kind, description,"
            " status, amount_requested, amount_refunded, created_at)"
            " VALUES (:o, 'team', :u, 'damaged', 'x', 'open', 100, 0, :now)",
            "DELETE FROM aftersale_cases WHERE user_id = :u",
        ),
    }
    for thing, (stage, unstage) in staged.items():
        execute(stage, u=uid, o=w["a_order"], now=now)
        r = client.post("/api/me/deletion", json=CONFIRM, headers=auth(w["a"]))
        assert r.status_code == 409, r.text
        assert [b["kind"] for b in r.json()["blockers"]] == [thing]
        assert scalar("SELECT deleted_at FROM users WHERE id = :id", id=uid) is None
        execute(unstage, u=uid)
    preview = client.get("/api/me/deletion", headers=auth(w["a"])).json()
    assert preview["may_delete"] is True and preview["blockers"] == []


# ---------------------------------------------------------------- deletion


def test_deletion_anonymises_keeps_the_money_records_and_frees_the_phone(
    api: Api, client: TestClient, photo_dir: Path
) -> None:
    w = _world(api)
    uid = int(w["a"]["user_id"])
    phone = _phone(w["a"])
    _refund(api, w, w["a_order"])
    _check_money_a_withdrawal_or_a_claim_blocks(client, w)
    stored = {p.name for p in photo_dir.rglob("*") if p.is_file()}
    assert stored
    paid = scalar("SELECT paid_amount FROM orders WHERE id = :id", id=w["a_order"])

    r = client.post("/api/me/deletion", json=CONFIRM, headers=auth(w["a"]))
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": True}

    user = dict(
        zip(
            ("nickname", "phone", "password_hash", "address", "deleted_at"),
            (
                scalar(f"SELECT {c} FROM users WHERE id = :id", id=uid)
                for c in ("nickname", "phone", "password_hash", "address", "deleted_at")
            ),
            strict=True,
        )
    )
    assert user["nickname"] == account_rules.DELETED_NICKNAME
    assert user["phone"] == account_rules.deleted_phone(uid)
    assert user["password_hash"] is None and user["address"] is None
    assert user["deleted_at"] is not None
    assert count("member_addresses", "user_id = :u", u=uid) == 0
    assert count("web_sessions", "user_id = :u", u=uid) == 0
    assert count("photos", "user_id = :u", u=uid) == 0
    assert not [p for p in photo_dir.rglob("*") if p.is_file()]
    # The financial records stay, under the pseudonym, unchanged.
    assert scalar("SELECT user_id FROM orders WHERE id = :id", id=w["a_order"]) == uid
    assert scalar("SELECT paid_amount FROM orders WHERE id = :id", id=w["a_order"]) == paid
    assert count("payments", "user_id = :u", u=uid) >= 1
    assert audit_violations() == []
    # No way back in: the token, the password; the phone number signs up anew.
    assert client.get("/api/me", headers=auth(w["a"])).status_code == 401
    login = client.post("/api/auth/login", json={"phone": phone, "password": "secret123"})
    assert login.status_code == 401
    again = client.post(
        "/api/auth/signup", json={"phone": phone, "password": "secret123", "nickname": "新"}
    )
    assert again.status_code == 201, again.text
    assert again.json()["user"]["id"] != uid
    # The team page shows the pseudonym's mask, never the number.
    assert phone not in client.get(f"/api/teams/{w['team']}").text

    # A second deletion changes nothing.
    done = run_in_transaction(lambda s: privacy.delete_account(s, uid, confirm="注销账号"))
    assert done.deleted is False
    assert scalar("SELECT nickname FROM users WHERE id = :id", id=uid) == "已注销用户"


# ---------------------------------------------------------------- masking


def _get_routes(client: TestClient) -> list[str]:
    from tests.api.test_roles import api_routes

    return [
        path
        for method, path in api_routes(client.app)  # type: ignore[arg-type]
        if method == "GET" and "{" not in path and path not in ("/api/me", "/api/me/export")
    ]


def test_no_reply_to_anyone_else_carries_a_members_full_phone(api: Api, client: TestClient) -> None:
    """A crawl of every GET of the API (and the objects of the world by id) as the team mate,
    the supplier and the operator: the member's full phone number appears in none."""
    from tuangou.core import liveness

    w = _world(api)
    liveness.beat(force=True)  # /api/ready answers 200: a worker is alive
    phone = _phone(w["a"])
    assert phone in client.get("/api/me", headers=auth(w["a"])).text  # the member themselves
    paths = [*_get_routes(client), f"/api/orders/{w['a_order']}", f"/api/teams/{w['team']}"]
    seen = 0
    staff_only = ("/api/admin/", "/api/ops/", "/api/leader/")
    for viewer in (auth(w["b"]), w["supplier"], w["op"]):
        for path in paths:
            if viewer is not w["op"] and path.startswith(staff_only):
                continue  # refused to them (the authorization matrix): nothing to read
            r = client.get(path, headers=viewer)
            assert r.status_code < 500, (path, r.text)
            assert phone not in r.text, (path, r.text[:300])
            seen += r.status_code == 200
    assert seen > 30, seen
    # The operator's order desk finds the order by the phone, and shows it masked.
    r = client.get(f"/api/admin/order-desk?q={phone}", headers=w["op"])
    assert r.status_code == 200 and phone not in r.text
    assert account_rules.mask_phone(phone) in r.text


# ---------------------------------------------------------------- retention


def test_retention_purges_raw_data_at_its_edge(db: str) -> None:
    phone = "13600000009"
    run_in_transaction(lambda s: accounts.request_code(s, phone=phone))
    user = run_in_transaction(
        lambda s: accounts.create_user(s, phone="13600000010", password=None, nickname="x")
    )
    uid = user.id
    run_in_transaction(lambda s: accounts.open_page_session(s, accounts.get_user(s, uid))[0])
    execute(
        "INSERT INTO risk_events (type, at, actor, device, ip, subnet, phone, phone_num, action)"
        " VALUES ('login', :at, :u, 'dev-1', '10.0.0.1', '10.0.0', :p, 13600000010, 'allow')",
        at=scalar("SELECT created_at FROM one_time_codes WHERE phone = :p", p=phone),
        u=uid,
        p="13600000010",
    )
    kept = {"codes": 0, "sessions": 0, "risk": 0}
    clock.advance(timedelta(days=90) - timedelta(seconds=1))  # within the retention: kept
    assert privacy_tasks.purge() == kept
    assert count("one_time_codes") == 1 and count("web_sessions") == 1
    clock.advance(timedelta(seconds=2))  # past it
    assert privacy_tasks.purge() == {"codes": 1, "sessions": 1, "risk": 1}
    assert count("one_time_codes") == 0 and count("web_sessions") == 0
    # The risk event stays, without its raw signals.
    assert count("risk_events", "actor = :u AND device IS NULL AND ip IS NULL", u=uid) == 1
    assert count("risk_events", "actor = :u AND phone IS NULL AND type = 'login'", u=uid) == 1
    assert privacy_tasks.purge() == kept  # nothing twice


def test_the_purge_command_uses_the_retention_setting(db: str) -> None:
    from typer.testing import CliRunner

    from tuangou.cli import app
    from tuangou.core.config import reset_settings

    execute(
        "INSERT INTO one_time_codes (phone, code_hash, created_at, expires_at, attempts)"
        " VALUES ('13600000011', 'x', :old, :old, 0), ('13600000012', 'y', :new, :new, 0)",
        old=clock.now() - timedelta(days=3),
        new=clock.now() - timedelta(hours=1),
    )
    try:
        result = CliRunner().invoke(
            app,
            ["privacy", "purge", "--database-url", db],
            env={"TUANGOU_RETENTION_CODES_DAYS": "2"},
        )
    finally:
        reset_settings()
    assert result.exit_code == 0, result.output
    assert "1 login code(s)" in result.output
    assert [scalar("SELECT phone FROM one_time_codes")] == ["13600000012"]
    assert count("one_time_codes") == 1


# ---------------------------------------------------------------- at the same moment


def _wait_for_a_lock_wait(db: str) -> None:
    """On PostgreSQL, until another transaction waits for a row lock (bounded)."""
    if not db.startswith("postgresql"):
        return
    for _ in range(400):
        waiting = scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        if waiting:
            return
        threading.Event().wait(0.025)
    raise AssertionError("the second transaction never waited for the first")


def _order_row(session: Any, w: dict[str, Any], uid: int) -> Any:
    from tuangou.orders import service as orders

    old = orders.get(session, w["a_order"])
    return orders.create_order(
        session,
        user_id=uid,
        supplier_id=old.supplier_id,
        kind=old.kind,
        campaign_id=old.campaign_id,
        sku_id=old.sku_id,
        quantity=1,
        unit_price=old.unit_price,
        address=dict(old.address),
        hold_minutes=15,
    )


def _race(db: str, first: Any, second: Any) -> dict[str, str]:
    """``first`` runs in a transaction held open until ``second`` waits for it."""
    done: dict[str, str] = {}
    holding, release = threading.Event(), threading.Event()

    def run_first() -> None:
        try:
            with unit_of_work() as session:
                first(session)
                holding.set()
                release.wait(30)
            done["first"] = "committed"
        except Exception as exc:  # reported below
            done["first"] = type(exc).__name__
            holding.set()

    def run_second() -> None:
        try:
            with unit_of_work() as session:
                second(session)
            done["second"] = "committed"
        except Exception as exc:  # reported below
            done["second"] = type(exc).__name__

    t1 = threading.Thread(target=run_first)
    t1.start()
    assert holding.wait(30)
    t2 = threading.Thread(target=run_second)
    t2.start()
    try:
        _wait_for_a_lock_wait(db)
    finally:
        release.set()
        t1.join(30)
        t2.join(30)
    return done


def test_a_deletion_and_an_order_at_the_same_moment_never_both_succeed(
    api: Api, client: TestClient, db: str
) -> None:
    w = _world(api)
    _refund(api, w, w["a_order"])
    uid = int(w["a"]["user_id"])
    # The order first: the deletion waits for it, then sees it open and is refused.
    done = _race(
        db,
        lambda s: _order_row(s, w, uid),
        lambda s: privacy.delete_account(s, uid, confirm="注销账号"),
    )
    assert done == {"first": "committed", "second": "DeletionBlocked"}
    placed = scalar("SELECT max(id) FROM orders WHERE user_id = :u", u=uid)
    execute("UPDATE orders SET status = 'cancelled' WHERE id = :id", id=placed)
    # The deletion first: the order waits for it, then finds the account deleted.
    done = _race(
        db,
        lambda s: privacy.delete_account(s, uid, confirm="注销账号"),
        lambda s: _order_row(s, w, uid),
    )
    assert done == {"first": "committed", "second": "AccountDeleted"}
    assert count("orders", "user_id = :u", u=uid) == 2
