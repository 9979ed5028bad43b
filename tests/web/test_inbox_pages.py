"""The inbox page and the tab bar, on both backends, on the demo's data: every message names
what it is about and links to it, a state is said in the words the order pages use, and the
tab bar shows how many messages are unread."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_worker
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of, rows, scalar
from tuangou import demo
from tuangou.notifications import rules as inbox_rules
from tuangou.notifications import service as notifications
from tuangou.web import i18n, status

AUNTIE = demo.MEMBERS[0][0]  # 李阿姨: a team that formed, a wave order waiting for pickup
XIAOHONG = demo.MEMBERS[2][0]  # 张小红

_ITEM = re.compile(
    r'<li class="inbox-item( unread)?" id="n-(\d+)">.*?<p class="title">(.*?)</p>'
    r'(?:\s*<p class="small">(.*?)</p>)?.*?</li>',
    re.S,
)
_NEXT = re.compile(
    r'name="next" value="([^"]+)">\s*<button type="submit" class="small secondary">([^<]+)<'
)
_TAB = re.compile(r'<span class="tab-badge" id="tab-unread" aria-label="[^"]+">([^<]+)</span>')


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    run_worker()  # the demo's events reach the inboxes
    return client


def _unread(phone: str) -> int:
    return int(
        scalar(
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id"
            " WHERE u.phone = :p AND n.read_at IS NULL",
            p=phone,
        )
    )


def _items(html: str) -> dict[int, dict[str, str]]:
    found = {}
    for match in _ITEM.finditer(html):
        unread, nid, title, body = match.groups()
        block = match.group(0)
        link = _NEXT.search(block)
        found[int(nid)] = {
            "title": re.sub(r"<[^>]+>", "", title),
            "body": body or "",
            "unread": "yes" if unread else "",
            "next": link.group(1) if link else "",
            "label": link.group(2) if link else "",
        }
    return found


def _kinds(phone: str) -> dict[int, tuple[str, str]]:
    return {
        int(i): (str(k), str(d))
        for i, k, d in rows(
            "SELECT n.id, n.kind, n.subject FROM notifications n JOIN users u"
            " ON u.id = n.user_id WHERE u.phone = :p",
            p=phone,
        )
    }


def test_the_tab_bar_shows_the_unread_count(site: TestClient) -> None:
    assert _TAB.search(site.get("/").text) is None  # a visitor has no inbox
    unread = _unread(AUNTIE)
    assert unread > 0
    log_in(site, AUNTIE)
    for path in ("/", "/orders", "/communities", "/me", "/inbox"):
        badge = _TAB.search(site.get(path).text)
        assert badge is not None, path
        assert badge.group(1) == str(unread), path
    log_in(site, XIAOHONG)
    assert _TAB.search(site.get("/").text).group(1) == str(_unread(XIAOHONG))  # type: ignore[union-attr]
    log_in(site, AUNTIE)
    body = form_of(site, "/inbox")
    assert site.post("/inbox/read", data=body, follow_redirects=False).status_code == 303
    assert _unread(AUNTIE) == 0
    assert _TAB.search(site.get("/").text) is None
    assert _TAB.search(site.get("/orders").text) is None


def test_each_message_names_what_it_is_about_and_links_to_it(site: TestClient) -> None:
    log_in(site, AUNTIE)
    items = _items(site.get("/inbox").text)
    kinds = _kinds(AUNTIE)
    assert set(items) == set(kinds)
    team_id = int(scalar("SELECT id FROM teams ORDER BY id LIMIT 1"))
    wave_order = int(
        scalar(
            "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id"
            " WHERE u.phone = :p AND o.kind = 'wave' ORDER BY o.id LIMIT 1",
            p=AUNTIE,
        )
    )
    by_kind = {kind: (nid, subject) for nid, (kind, subject) in kinds.items()}
    formed, subject = by_kind["team.formed"]
    assert subject and subject in items[formed]["title"]
    assert items[formed]["next"] == f"/t/{team_id}" and items[formed]["label"] == "查看拼团"
    for kind in ("wave.confirmed", "pickup.arrived"):
        nid, subject = by_kind[kind]
        assert subject == demo.WAVE_ARRIVED and subject in items[nid]["title"]
        assert items[nid]["next"] == f"/orders/{wave_order}"
        assert items[nid]["label"] == "查看订单"
    # Two "已成团": one for the team, one for the wave, each saying which.
    assert items[formed]["title"] != items[by_kind["wave.confirmed"][0]]["title"]
    # Opening a message reads it and goes where it links.
    before = _unread(AUNTIE)
    body = {**form_of(site, "/inbox"), "next": items[formed]["next"]}
    reply = site.post(f"/inbox/{formed}/read", data=body, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == f"/t/{team_id}"
    assert _unread(AUNTIE) == before - 1
    after = _items(site.get("/inbox").text)
    assert after[formed]["unread"] == "" and after[by_kind["pickup.arrived"][0]]["unread"]


def test_a_message_says_a_state_as_the_order_page_does(site: TestClient) -> None:
    log_in(site, AUNTIE)
    wave_order = int(
        scalar(
            "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id"
            " WHERE u.phone = :p AND o.kind = 'wave' AND o.status = 'arrived'",
            p=AUNTIE,
        )
    )
    for lang, ready in (("zh-CN", "待提货"), ("en", "Ready for pickup")):
        site.cookies.set("lang", lang)
        pill = re.search(r'id="order-status">([^<]+)<', site.get(f"/orders/{wave_order}").text)
        assert pill is not None and pill.group(1) == ready
        kinds = _kinds(AUNTIE)
        items = _items(site.get("/inbox").text)
        arrived = next(i for i, (k, _) in kinds.items() if k == "pickup.arrived")
        assert items[arrived]["title"].startswith(f"{ready} · ")
        # Every message that names a state says it in the pages' word for it.
        for nid, (kind, _) in kinds.items():
            word = status.message_title(kind)
            if word is not None:
                assert items[nid]["title"].split(" · ")[0] == i18n.gettext(lang, word), kind


def test_the_api_says_a_state_in_the_pages_words() -> None:
    """The API's titles (the inbox's own texts) are the pages' words, in both languages."""
    assert inbox_rules.STATE_OF
    for kind in inbox_rules.STATE_OF:
        word = status.message_title(kind)
        assert word is not None
        zh_title, en_title, _, _ = notifications.TEXTS[kind]
        assert (zh_title, en_title) == (i18n.gettext("zh-CN", word), word), kind
