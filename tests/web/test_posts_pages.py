"""Community posts on the pages, on both backends, on the demo's data: the feeds, the composer
with a photo, replies and likes through the forms, a rhythm refusal that says when, what a
stranger sees (nothing), and the leader's rhythm form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.aftersales.conftest import png
from tests.web.pages import alerts, form_of, post, scalar
from tests.web.pages import demo_log_in as log_in
from tuangou import demo
from tuangou.demo import POST_DEAL, POST_PINNED

# The demo's posts are in the second leader's community (阳光花园), where the completed
# wave was picked up; 刘婷 is a member there, 李阿姨 is not.
MEMBER = "13800000005"
STRANGER = "13800000001"
LEADER = demo.LEADERS[1][0]


@pytest.fixture
def web(client: TestClient, tmp_path: Path) -> Iterator[TestClient]:
    from tuangou.core.storage import LocalDiskStorage, set_storage

    set_storage(LocalDiskStorage(tmp_path / "uploads"))
    assert demo.load()["loaded"] is True
    yield client
    set_storage(None)


def community() -> int:
    return int(scalar("SELECT community_id FROM posts ORDER BY id LIMIT 1"))


def test_the_feed_shows_the_pinned_notice_first_and_the_days_deal(web: TestClient) -> None:
    log_in(web, MEMBER)
    page = web.get(f"/communities/{community()}/posts")
    assert page.status_code == 200
    html = page.text
    assert html.index(POST_PINNED[:8]) < html.index("周末的全麦面包")
    assert POST_DEAL[:8] in html and 'href="/w/' in html
    assert "今日推荐" in html or "Today&#39;s deal" in html or "Today's deal" in html
    home = web.get("/feed")
    assert home.status_code == 200 and "周末的全麦面包" in home.text
    assert f'href="/communities/{community()}/posts"' in web.get("/communities").text


def test_a_member_posts_with_a_photo_and_is_slowed_as_a_new_member(web: TestClient) -> None:
    log_in(web, MEMBER)
    compose = f"/communities/{community()}/posts/new"
    body = form_of(web, compose, "idem", need_key=True)
    body["text"] = "今天的苹果很脆, 分享一张照片"
    r = web.post(
        compose,
        data=body,
        files=[("photos", ("apple.png", png(), "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, alerts(r.text) or r.text[:300]
    feed = web.get(r.headers["location"]).text
    assert "今天的苹果很脆" in feed
    thumb = re.search(r'src="(/photos/[0-9a-f]+/thumb)"', feed)
    assert thumb is not None and web.get(thumb.group(1)).status_code == 200
    # The member joined the community today: a second post within two minutes waits.
    body = form_of(web, compose, "idem", need_key=True)
    body["text"] = "再发一条"
    r = web.post(compose, data=body, follow_redirects=False)
    assert r.status_code == 400
    said = " ".join(alerts(r.text))
    assert re.search(r"\d\d:\d\d", said), said
    assert scalar("SELECT COUNT(*) FROM posts WHERE text = '再发一条'") == 0
    # A stranger sees neither the photo nor the feed.
    log_in(web, STRANGER)
    assert web.get(thumb.group(1)).status_code in (403, 404)
    assert web.get(f"/communities/{community()}/posts").status_code == 404


def test_a_member_replies_and_likes_through_the_forms(web: TestClient) -> None:
    log_in(web, MEMBER)
    post_id = int(scalar("SELECT id FROM posts WHERE text LIKE '周末的全麦面包%'"))
    page = f"/posts/{post_id}"
    assert web.get(page).status_code == 200
    body = form_of(web, page, "idem", need_key=True)
    body["text"] = "请问面包还有吗?"
    r = web.post(f"/posts/{post_id}/replies", data=body, follow_redirects=False)
    assert r.status_code == 303, alerts(r.text)
    assert "请问面包还有吗?" in web.get(page).text
    likes = int(scalar("SELECT like_count FROM posts WHERE id = :id", id=post_id))
    r = post(web, f"/posts/{post_id}/like", {"next": page}, form_page=page)
    assert r.status_code == 303 and r.headers["location"] == page
    assert scalar("SELECT like_count FROM posts WHERE id = :id", id=post_id) == likes + 1
    assert 'aria-pressed="true"' in web.get(page).text
    log_in(web, STRANGER)
    assert web.get(page).status_code == 404


def test_the_leader_pins_and_sets_the_rhythm(web: TestClient) -> None:
    log_in(web, LEADER)
    url = f"/leader/communities/{community()}/rhythm"
    assert web.get(url).status_code == 200
    r = post(web, url, {"deals_per_day": "11", "opens": "", "closes": ""}, form_page=url)
    assert r.status_code == 400 and alerts(r.text)
    r = post(web, url, {"deals_per_day": "1", "opens": "08:00", "closes": "22:00"}, form_page=url)
    assert r.status_code == 303
    assert scalar("SELECT deals_per_day FROM post_rhythms") == 1
    post_id = int(scalar("SELECT id FROM posts WHERE text LIKE '周末的全麦面包%'"))
    r = post(web, f"/posts/{post_id}/pin", {}, form_page=f"/posts/{post_id}")
    assert r.status_code == 303
    assert scalar("SELECT pinned_at IS NOT NULL FROM posts WHERE id = :id", id=post_id)
    log_in(web, MEMBER)
    assert web.get(url).status_code == 403


def test_a_neighbour_reports_a_post_from_its_page_and_its_author_sees_no_report_button(
    web: TestClient,
) -> None:
    log_in(web, MEMBER)
    member_id = int(scalar("SELECT id FROM users WHERE phone = :p", p=MEMBER))
    theirs = int(
        scalar(
            "SELECT id FROM posts WHERE author_id != :u AND status = 'published' ORDER BY id",
            u=member_id,
        )
    )
    page = f"/posts/{theirs}"
    assert 'action="/report"' in web.get(page).text
    r = post(web, "/report", {"kind": "post", "id": str(theirs), "reason": "spam", "next": page})
    assert r.status_code == 200, alerts(r.text) or r.text[:300]
    assert scalar("SELECT COUNT(*) FROM moderation_reports WHERE target_id = :t", t=theirs) == 1
    # Its author sees no report button on their own post.
    author = scalar(
        "SELECT phone FROM users JOIN posts ON posts.author_id = users.id WHERE posts.id = :t",
        t=theirs,
    )
    log_in(web, str(author))
    assert 'action="/report"' not in web.get(page).text.split("replies-h")[0]
