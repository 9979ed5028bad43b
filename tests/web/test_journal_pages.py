"""The verifiable record's pages over HTTP, on both backends: 我的 links 我的账本; the member
sees their payment with its proof and a 验证 button, exports the proof bundle (which verifies
with the key the public page shows); strangers see the key and the checkpoints but not a
member's ledger; staff accounts have no 我的账本."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient

from tests.conftest import Api, run_worker
from tests.web.pages import log_in
from tuangou.journal import rules


def test_a_member_sees_and_exports_their_ledger(api: Api, client: TestClient) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid)
    first_phone = f"137{api._phones + 1:08d}"
    a, b = api.signup("李阿姨"), api.signup("王叔叔")
    api.join(b, api.open(a, campaign["id"])["team"]["id"])
    run_worker()  # the first signed checkpoint
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
