"""Moderation over the real content: posts, replies and reviews as the application wires them
(the rules and mutes checked before posting, the text filter holding, reports and moderators
hiding and restoring). The moderation package's own tests use a stand-in kind of content."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.aftersales.conftest import Flow
from tests.conftest import Api, _auth, run_worker
from tests.pools.conftest import Waves
from tests.posts.conftest import Posts, at_local
from tests.reviews.conftest import Shop
from tuangou.core import clock
from tuangou.points.rules import DEFAULT_REVIEW_POINTS


def _code(r: Any) -> str:
    return str(r.json().get("code"))


def _inbox_topics(c: Any, who: dict[str, Any]) -> list[str]:
    run_worker()
    r = c.get("/api/notifications", headers=_auth(who))
    assert r.status_code == 200, r.text
    return [str(m["kind"]) for m in r.json()["items"]]


def test_a_post_passes_the_rules_the_filter_and_the_mutes(api: Api, photo_dir: Any) -> None:
    w = Posts(api)
    at_local(10, days=2)  # everyone joined days ago: no new members' slow-down
    c, leader, alice, bob = w.c, w.leader, w.alice, w.bob
    rules = f"/api/leader/communities/{w.community}/rules"
    r = c.put(rules, json={"text": "文明交流, 不发广告"}, headers=_auth(leader))
    assert r.status_code == 200, r.text
    version = r.json()["version"]

    # A new version of the rules: nobody posts before accepting it.
    refused = w.post(alice, "今天的苹果很甜")
    assert refused.status_code == 403 and _code(refused) == "rules_not_accepted"
    accept = f"/api/communities/{w.community}/rules/accept"
    assert c.post(accept, json={"version": version}, headers=_auth(alice)).status_code == 200
    first = w.made(alice, "今天的苹果很甜")
    assert first["status"] == "published"

    # The filter holds a post (spaces between the characters do not hide the term) ...
    clock.advance(timedelta(minutes=5))
    held = w.made(alice, "想要便宜的加 微 信, 私下交易")
    assert held["status"] == "held"
    assert c.get(f"/api/posts/{held['id']}", headers=_auth(bob)).status_code == 404
    queue = c.get("/api/leader/moderation/queue", headers=_auth(leader)).json()
    item = next(i for i in queue if i["kind"] == "post" and i["id"] == held["id"])
    assert item["status"] == "held" and item["matched"]
    # ... until the leader approves it: then every member reads it.
    approve = f"/api/moderation/post/{held['id']}/approve"
    assert c.post(approve, json={"reason": ""}, headers=_auth(bob)).status_code == 403
    assert c.post(approve, json={"reason": "已核实"}, headers=_auth(leader)).status_code == 200
    shown = c.get(f"/api/posts/{held['id']}", headers=_auth(bob))
    assert shown.status_code == 200 and shown.json()["status"] == "published"

    # A muted member neither posts nor replies until the mute ends, and is told until when.
    mutes = f"/api/leader/communities/{w.community}/mutes"
    body = {"user_id": int(alice["user_id"]), "period": "1h", "reason": "刷屏"}
    assert c.post(mutes, json=body, headers=_auth(leader)).status_code == 201
    for r in (w.post(alice, "再发一条"), w.reply(alice, first["id"], "补充一句")):
        assert r.status_code == 403 and _code(r) == "muted_until" and r.json()["until"]
    clock.advance(timedelta(hours=1, seconds=1))
    assert w.post(alice, "禁言结束了").status_code == 201
    assert "moderation.muted" in _inbox_topics(c, alice)


def test_reports_from_three_neighbours_hide_a_post_until_the_leader_decides(
    api: Api, photo_dir: Any
) -> None:
    w = Posts(api)
    at_local(10, days=2)
    c, leader, alice = w.c, w.leader, w.alice
    post = w.made(alice, "便宜转让二手自行车")
    neighbours = [w.bob, *(w.join(name) for name in ("甲", "乙"))]
    report = {"kind": "post", "id": post["id"], "reason": "spam"}
    own = c.post("/api/reports", json=report, headers=_auth(alice))
    assert own.status_code >= 400  # nobody reports their own post
    hidden_now = []
    for who in neighbours:
        r = c.post("/api/reports", json=report, headers=_auth(who))
        assert r.status_code == 201, r.text
        hidden_now.append(r.json()["hidden_now"])
    assert hidden_now == [False, False, True]  # the third distinct report hides it
    assert c.get(f"/api/posts/{post['id']}", headers=_auth(w.bob)).status_code == 404
    mine = c.get(f"/api/posts/{post['id']}", headers=_auth(alice))
    assert mine.status_code == 200 and mine.json()["status"] == "hidden"  # its author sees why
    assert "moderation.hidden" in _inbox_topics(c, alice)

    # The leader reviews it: restored with a reason, every member reads it again.
    restore = f"/api/moderation/post/{post['id']}/restore"
    assert c.post(restore, json={"reason": "正常转让"}, headers=_auth(leader)).status_code == 200
    assert c.get(f"/api/posts/{post['id']}", headers=_auth(w.bob)).status_code == 200
    log = c.get("/api/leader/moderation/log", headers=_auth(leader))
    assert log.status_code == 200 and len(log.json()) >= 2  # the automatic hide, the restore


def test_only_a_moderators_hide_removes_a_review_and_its_author_is_told(
    api: Api, photo_dir: Any
) -> None:
    shop = Shop(Flow(Waves(api)))
    c = shop.c
    member, order_id = shop.completed_wave_order()
    written = shop.write(member, order_id, shop.line(member, order_id, "苹果"), rating=2)
    assert written.status_code == 201, written.text
    review_id = written.json()["id"]
    reviews = f"/api/waves/{shop.wave_id()}/reviews"
    assert c.get(reviews, headers=_auth(member)).json()["summary"]["count"] == 1

    hide = f"/api/moderation/review/{review_id}/hide"
    assert (
        c.post(hide, json={"reason": "含有他人电话号码"}, headers=_auth(member)).status_code == 403
    )
    r = c.post(hide, json={"reason": "含有他人电话号码"}, headers=shop.op)
    assert r.status_code == 200, r.text
    assert (
        c.get(reviews, headers=_auth(member)).json()["summary"]["count"] == 0
    )  # out of the list and the counts
    mine = c.get(f"/api/reviews/{review_id}", headers=_auth(member))
    assert mine.status_code == 200 and mine.json()["status"] == "hidden"
    assert "moderation.hidden" in _inbox_topics(c, member)

    # The review earned its author points once, however often it is hidden and restored.
    restore = f"/api/moderation/review/{review_id}/restore"
    assert c.post(restore, json={"reason": "已核实"}, headers=shop.op).status_code == 200
    run_worker()
    entries = c.get("/api/me/points/entries", headers=_auth(member)).json()["entries"]
    reviews_earned = [e["amount"] for e in entries if e["memo"].startswith("review:")]
    assert reviews_earned == [DEFAULT_REVIEW_POINTS]


def test_a_communitys_admins_moderate_it_as_its_leader_does(api: Api, photo_dir: Any) -> None:
    w = Posts(api)
    at_local(10, days=2)
    c, leader, alice, bob = w.c, w.leader, w.alice, w.bob
    post = w.made(alice, "周末拼车去果园, 有人一起吗")
    hide = f"/api/moderation/post/{post['id']}/hide"
    mutes = f"/api/leader/communities/{w.community}/mutes"
    mute = {"user_id": int(alice["user_id"]), "period": "1h", "reason": "刷屏"}
    assert c.post(hide, json={"reason": "与团购无关"}, headers=_auth(bob)).status_code == 403
    assert c.post(mutes, json=mute, headers=_auth(bob)).status_code == 403
    admins = f"/api/leader/communities/{w.community}/admins"
    r = c.post(admins, json={"user_id": int(bob["user_id"])}, headers=_auth(leader))
    assert r.status_code == 200, r.text
    assert c.post(hide, json={"reason": "与团购无关"}, headers=_auth(bob)).status_code == 200
    assert c.post(mutes, json=mute, headers=_auth(bob)).status_code == 201
    log = c.get("/api/leader/moderation/log", headers=_auth(bob))
    assert log.status_code == 200 and len(log.json()) == 2  # the hide and the mute
    # An admin of one community moderates nothing in another.
    elsewhere = f"/api/leader/communities/{w.other['community_id']}/mutes"
    assert c.post(elsewhere, json=mute, headers=_auth(bob)).status_code in (403, 404)
