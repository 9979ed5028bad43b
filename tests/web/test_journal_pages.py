"""The verifiable record's pages over HTTP, on both backends: 我的 links 我的账本; the member
sees their payment with its proof and a 验证 button, exports the proof bundle (which verifies
with the key the public page shows); strangers see the key and the checkpoints but not a
member's ledger; staff accounts have no 我的账本."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, FilePayload, expect
from sqlalchemy.orm import Session

from tests.conftest import Api
from tests.e2e.server import Server, pointed_at
from tests.web.browser import PASSWORD, Site, check_page, person
from tests.web.pages import log_in
from tuangou.journal import rules
from tuangou.journal import service as journal


def test_a_member_sees_and_exports_their_ledger(api: Api, client: TestClient) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid)
    first_phone = f"137{api._phones + 1:08d}"
    a, b = api.signup("李阿姨"), api.signup("王叔叔")
    api.join(b, api.open(a, campaign["id"])["team"]["id"])
    journal.publish_checkpoints(force=True)  # the first signed checkpoint
    # Anyone sees the key and the checkpoints.
    key_page = client.get("/journal/key")
    assert key_page.status_code == 200
    key = re.search(r'id="public-key"[^>]*>([0-9a-f]{64})<', key_page.text)
    assert key, key_page.text[:2000]
    assert client.get("/journal/verify").status_code == 200
    assert client.get("/me/journal", follow_redirects=False).status_code in (302, 303)

    log_in(client, first_phone)
    assert 'href="/me/journal"' in client.get("/me").text
    page = client.get("/me/journal")
    assert page.status_code == 200
    assert "js-verify" in page.text and "/static/journal.js" in page.text
    entries = re.findall(r'data-entry="([^"]+)"', page.text)
    assert any(json.loads(html.unescape(e))["kind"] == "payment" for e in entries)
    exported = client.get("/me/journal/bundle.json")
    assert exported.headers["content-disposition"].startswith("attachment")
    bundle = exported.json()
    assert bundle["member_id"] == int(a["user_id"])
    assert rules.check_bundle(bundle, bytes.fromhex(key.group(1))) == []
    assert client.get("/static/journal.js").status_code == 200


def test_staff_have_no_ledger_page(api: Api, client: TestClient) -> None:
    api.operator()
    log_in(client, f"137{api._phones:08d}")
    assert client.get("/me/journal", follow_redirects=False).status_code == 403


@pytest.fixture
def small_site(tmp_path: Path) -> Iterator[Site]:
    """A server on a small world made by direct service calls (not the whole demo): a
    member with two check-ins' points, in a signed checkpoint."""
    from datetime import timedelta

    from tuangou.accounts import service as accounts
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.journal import service as journal
    from tuangou.points import service as points

    url = f"sqlite:///{tmp_path / 'site.db'}"
    with pointed_at(url):

        def world(session: Session) -> None:
            user = accounts.create_user(
                session, phone="13800000001", password=PASSWORD, nickname="李阿姨", role="member"
            )
            now = clock.now()
            points.checkin(session, user.id, at=now - timedelta(days=1))
            points.checkin(session, user.id, at=now)

        run_in_transaction(world)
        journal.publish_checkpoints(force=True)
        server = Server(url, env={"TUANGOU_UPLOAD_DIR": str(tmp_path / "uploads")})
        server.start()
        try:
            yield Site(server.url, url, server)
        finally:
            server.stop()


def _file(name: str, content: dict[str, object]) -> FilePayload:
    return {"name": name, "mimeType": "application/json", "buffer": json.dumps(content).encode()}


def test_the_browser_checks_an_entry_itself(browser: Browser, small_site: Site) -> None:
    """In chromium: 验证 recomputes the leaf and the root with SubtleCrypto and checks the
    checkpoint's Ed25519 signature with WebCrypto; a proof file checks whole on
    /journal/verify, and the same file with a changed balance does not."""
    with person(browser, small_site, "13800000001") as page:
        page.goto("/me/journal")
        entry = page.locator(".journal-entry", has=page.locator(".js-verify")).first
        entry.get_by_role("button", name="验证").click()
        expect(entry.locator(".verdict")).to_have_text(
            "已在你的浏览器中核验：这条记录在已签名的账本中。"
        )
        check_page(page, "member-journal")
        bundle = page.request.get("/me/journal/bundle.json").json()
        page.goto("/journal/verify")
        page.set_input_files("#bundle-file", files=[_file("b.json", bundle)])
        expect(page.locator("#journal-msg-ok")).to_be_visible()
        lying = {**bundle, "escrow_balance": bundle["escrow_balance"] + 1}
        page.set_input_files("#bundle-file", files=[_file("c.json", lying)])
        expect(page.locator("#bundle-result li")).to_contain_text("escrow balance")
