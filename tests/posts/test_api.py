"""Posts over HTTP on both backends: who may write and read, deal links, replies and the
inbox, likes, shares, pins, the day's deal, cursor paging, the rhythm at its edges, the
text screen and the moderation hooks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import Api, run_worker, scalar
from tests.fulfilment.conftest import auth
from tests.posts.conftest import Posts, at_local
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.posts import service as posts


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return dict(body)


# ---------------------------------------------------------------- writing and reading


def test_a_member_posts_and_the_community_reads_it(world: Posts) -> None:
    made = world.made(world.alice, "烟台苹果很甜，孩子很爱吃")
    assert made["kind"] == "experience" and made["status"] == "published"
    assert made["author"] != "李阿姨" and made["author"].startswith("李")  # masked
    assert made["mine"] is True
    page = world.feed(world.bob).json()
    assert [p["id"] for p in page["items"]] == [made["id"]]
    assert page["items"][0]["mine"] is False
    r = world.c.get(f"/api/posts/{made['id']}", headers=auth(world.bob))
    assert r.status_code == 200 and r.json()["text"] == "烟台苹果很甜，孩子很爱吃"
    # The operator reads any community.
    assert world.feed(world.op).status_code == 200


def test_a_stranger_can_neither_post_nor_read(world: Posts) -> None:
    made = world.made(world.alice)
    problem(world.post(world.stranger), 409, "not_a_member")
    problem(world.feed(world.stranger), 404, "community_not_found")
    r = world.c.get(f"/api/posts/{made['id']}", headers=auth(world.stranger))
    problem(r, 404, "post_not_found")
    problem(world.reply(world.stranger, made["id"]), 404, "post_not_found")
    r = world.c.put(f"/api/posts/{made['id']}/like", headers=auth(world.stranger))
    problem(r, 404, "post_not_found")
    assert scalar("SELECT COUNT(*) FROM posts") == 1


def test_text_bounds(world: Posts) -> None:
    problem(world.post(world.alice, ""), 422, "invalid_input")
    problem(world.post(world.alice, "   "), 422, "invalid_input")
    problem(world.post(world.alice, "字" * 2001), 422, "invalid_input")
    assert world.post(world.alice, "字" * 2000).status_code == 201
    r = world.post(world.alice, "ok", photo_ids=[f"p{i}" for i in range(10)])
    problem(r, 422, "invalid_input")
    assert scalar("SELECT COUNT(*) FROM posts") == 1


def test_deal_posts_link_a_wave_of_this_community_or_a_live_campaign(
    world: Posts, api: Api
) -> None:
    made = world.made(world.leader, "明天到货，烟台苹果", listing_id=world.listing)
    assert made["kind"] == "deal"
    deal = made["deal"]
    assert deal["kind"] == "wave" and deal["id"] == world.listing and deal["price"] == 1000
    assert deal["url"] == f"/w/{world.listing}"
    r = world.post(world.leader, "别的小区的团", listing_id=world.other_listing)
    problem(r, 409, "deal_not_visible")
    problem(world.post(world.leader, "没有的团", listing_id=99999), 409, "deal_not_visible")
    campaign = api.campaign(world.op, world.w.supplier_id)
    made = world.made(world.leader, "拼团价", campaign_id=campaign["id"])
    assert made["deal"]["kind"] == "campaign" and made["deal"]["status"] == "open"
    assert made["deal"]["price"] == 1990
    clock.advance(timedelta(days=3))  # the campaign has ended
    problem(world.post(world.leader, "过期", campaign_id=campaign["id"]), 409, "deal_not_visible")
    both = world.post(world.leader, "两个", campaign_id=campaign["id"], listing_id=world.listing)
    problem(both, 422, "invalid_input")


# ---------------------------------------------------------------- replies and the inbox


def test_replies_tell_the_author_once_and_never_of_their_own(world: Posts) -> None:
    made = world.made(world.alice, "分享一下今天的苹果")
    first = world.reply(world.bob, made["id"], "看着不错")
    assert first.status_code == 201, first.text
    answer = world.reply(world.alice, made["id"], "真的甜", reply_to_id=first.json()["id"])
    assert answer.status_code == 201 and answer.json()["reply_to_id"] == first.json()["id"]
    run_worker()
    run_worker()
    told = [n for n in world.w.inbox(world.alice) if n["kind"] == "post.replied"]
    assert len(told) == 1 and told[0]["target"] == {"type": "post", "id": made["id"]}
    assert not [n for n in world.w.inbox(world.bob) if n["kind"] == "post.replied"]
    page = world.c.get(f"/api/posts/{made['id']}/replies", headers=auth(world.bob)).json()
    assert [r["text"] for r in page["items"]] == ["看着不错", "真的甜"]
    assert (
        world.c.get(f"/api/posts/{made['id']}", headers=auth(world.bob)).json()["reply_count"] == 2
    )
    other = world.made(world.bob, "另一帖")
    r = world.reply(world.alice, other["id"], "答错帖", reply_to_id=first.json()["id"])
    problem(r, 404, "reply_not_found")
    problem(world.reply(world.alice, made["id"], "字" * 501), 422, "invalid_input")


def test_replies_page_by_cursor(world: Posts) -> None:
    made = world.made(world.alice)
    for i in range(55):
        assert world.reply(world.bob, made["id"], f"第{i}条").status_code == 201
        clock.advance(timedelta(seconds=1))
    url = f"/api/posts/{made['id']}/replies"
    first = world.c.get(url, headers=auth(world.alice)).json()
    second = world.c.get(url, params={"cursor": first["next_cursor"]}, headers=auth(world.alice))
    texts = [r["text"] for r in first["items"] + second.json()["items"]]
    assert texts == [f"第{i}条" for i in range(55)] and second.json()["next_cursor"] is None


# ---------------------------------------------------------------- likes and shares


def test_likes_are_one_per_member_and_idempotent(world: Posts) -> None:
    made = world.made(world.alice)
    url = f"/api/posts/{made['id']}/like"
    for _ in range(2):
        r = world.c.put(url, headers=auth(world.bob))
        assert r.status_code == 200 and r.json() == {
            "post_id": made["id"],
            "liked": True,
            "like_count": 1,
        }
    assert world.c.put(url, headers=auth(world.alice)).json()["like_count"] == 2
    bob_sees = world.feed(world.bob).json()["items"][0]
    assert bob_sees["liked_by_me"] is True and bob_sees["like_count"] == 2
    for _ in range(2):
        assert world.c.delete(url, headers=auth(world.bob)).json()["like_count"] == 1
    assert world.feed(world.bob).json()["items"][0]["liked_by_me"] is False
    assert scalar("SELECT COUNT(*) FROM post_likes") == 1


def test_a_share_is_counted_and_gives_the_link(world: Posts) -> None:
    made = world.made(world.alice, "这个锅很好用，推荐给大家")
    r = world.c.post(f"/api/posts/{made['id']}/share", headers=auth(world.bob))
    assert r.status_code == 200, r.text
    assert r.json()["share_count"] == 1 and r.json()["url"].endswith(f"/posts/{made['id']}")
    assert "这个锅" in r.json()["text"]


# ---------------------------------------------------------------- pins and the day's deal


def test_pins_go_on_top_of_the_first_page_three_at_most(world: Posts) -> None:
    made = []
    for i in range(5):
        made.append(world.made(world.alice, f"帖{i}"))
        clock.advance(timedelta(minutes=1))
    r = world.c.put(f"/api/posts/{made[0]['id']}/pin", headers=auth(world.bob))
    problem(r, 403, "not_post_manager")
    for p in made[:3]:
        r = world.c.put(f"/api/posts/{p['id']}/pin", headers=auth(world.leader))
        assert r.status_code == 200 and r.json()["pinned"] is True
    r = world.c.put(f"/api/posts/{made[3]['id']}/pin", headers=auth(world.leader))
    body = problem(r, 409, "pin_limit")
    assert "3" in body["title"]
    page = world.feed(world.bob).json()
    assert {p["id"] for p in page["pinned"]} == {p["id"] for p in made[:3]}
    assert [p["id"] for p in page["items"]] == [made[4]["id"], made[3]["id"]]
    # The operator unpins; the post goes back to its place.
    r = world.c.delete(f"/api/posts/{made[0]['id']}/pin", headers=world.op)
    assert r.status_code == 200 and r.json()["pinned"] is False
    page = world.feed(world.bob).json()
    assert [p["id"] for p in page["items"]] == [made[4]["id"], made[3]["id"], made[0]["id"]]
    # An admin pins too.
    bob = scalar("SELECT id FROM users WHERE id = :id", id=world.bob["user_id"])
    r = world.c.post(
        f"/api/leader/communities/{world.community}/admins",
        json={"user_id": bob},
        headers=auth(world.leader),
    )
    assert r.status_code < 300, r.text
    assert (
        world.c.put(f"/api/posts/{made[3]['id']}/pin", headers=auth(world.bob)).status_code == 200
    )


def test_the_days_deal_is_one_per_community_and_day(world: Posts) -> None:
    first = world.made(world.leader, "今日苹果", listing_id=world.listing)
    second = world.made(world.leader, "今日梨", listing_id=world.listing)
    plain = world.made(world.alice, "经验帖")
    r = world.c.put(f"/api/posts/{plain['id']}/deal-of-day", headers=auth(world.leader))
    problem(r, 409, "not_a_deal_post")
    r = world.c.put(f"/api/posts/{first['id']}/deal-of-day", headers=auth(world.alice))
    problem(r, 403, "not_post_manager")
    for p in (first, second):
        r = world.c.put(f"/api/posts/{p['id']}/deal-of-day", headers=auth(world.leader))
        assert r.status_code == 200 and r.json()["todays_deal"] is True
    marked = {p["id"]: p["todays_deal"] for p in world.feed(world.alice).json()["items"]}
    assert marked == {first["id"]: False, second["id"]: True, plain["id"]: False}
    # An operator marks too (and replaces the leader's mark).
    r = world.c.put(f"/api/posts/{first['id']}/deal-of-day", headers=world.op)
    assert r.status_code == 200 and r.json()["todays_deal"] is True
    marked = {p["id"]: p["todays_deal"] for p in world.feed(world.alice).json()["items"]}
    assert marked == {first["id"]: True, second["id"]: False, plain["id"]: False}
    at_local(10)  # the next day: no deal of the day yet
    assert not any(p["todays_deal"] for p in world.feed(world.alice).json()["items"])


def test_the_author_deletes_their_post(world: Posts) -> None:
    made = world.made(world.alice)
    problem(
        world.c.delete(f"/api/posts/{made['id']}", headers=auth(world.bob)), 403, "not_your_post"
    )
    r = world.c.delete(f"/api/posts/{made['id']}", headers=auth(world.alice))
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    assert world.feed(world.alice).json()["items"] == []
    problem(
        world.c.get(f"/api/posts/{made['id']}", headers=auth(world.alice)), 404, "post_not_found"
    )


# ---------------------------------------------------------------- feeds and cursors


def test_cursor_paging_misses_nothing_and_repeats_nothing_while_posts_arrive(
    world: Posts,
) -> None:
    made = []
    for i in range(45):
        made.append(world.made(world.alice, f"帖{i}")["id"])
        if i % 3 == 0:
            clock.advance(timedelta(seconds=1))  # several posts share a second
    first = world.feed(world.bob).json()
    seen = [p["id"] for p in first["items"]]
    for i in range(5):  # new posts arrive while the member scrolls
        world.made(world.bob, f"新帖{i}")
    cursor = first["next_cursor"]
    while cursor:
        page = world.feed(world.bob, cursor).json()
        seen += [p["id"] for p in page["items"]]
        assert page["pinned"] == []
        cursor = page["next_cursor"]
    assert seen == sorted(made, reverse=True)
    problem(world.feed(world.bob, "not-a-cursor"), 422, "invalid_cursor")


def test_the_home_feed_merges_my_communities(world: Posts) -> None:
    mine = world.made(world.alice, "本小区")
    r = world.c.post(
        f"/api/communities/invite/{world.other['invite_code']}/join", headers=auth(world.alice)
    )
    assert r.status_code in (200, 201)
    clock.advance(timedelta(days=2))
    there = world.made(world.stranger, "隔壁小区", community=world.other["community_id"])
    page = world.c.get("/api/feed", headers=auth(world.alice)).json()
    assert [p["id"] for p in page["items"]] == [there["id"], mine["id"]]
    assert {p["community"] for p in page["items"]} == {"王团长的小区", "赵团长的小区"}
    bob = world.c.get("/api/feed", headers=auth(world.bob)).json()
    assert [p["id"] for p in bob["items"]] == [mine["id"]]


# ---------------------------------------------------------------- the rhythm


def test_deal_posts_a_day_exactly_n_then_refused_until_midnight(world: Posts, frozen: None) -> None:
    for i in range(3):
        world.made(world.leader, f"团{i}", listing_id=world.listing)
    r = world.post(world.leader, "第四个", listing_id=world.listing)
    body = problem(r, 429, "rhythm_limited")
    # 10:00 local: until midnight, 14 hours.
    assert body["retry_after"] == 14 * 3600
    assert int(r.headers["Retry-After"]) == 14 * 3600
    assert "00:00" in body["detail"] and body["reason"] == "deal_cap"
    assert world.post(world.leader, "经验帖不算").status_code == 201
    at_local(0, 0, 0)  # the next day
    assert world.post(world.leader, "新的一天", listing_id=world.listing).status_code == 201


def test_the_leader_sets_the_rhythm_within_the_bound(world: Posts) -> None:
    url = f"/api/leader/communities/{world.community}/rhythm"
    r = world.c.get(url, headers=auth(world.leader))
    assert r.status_code == 200 and r.json()["deals_per_day"] == 3 and not r.json()["custom"]
    problem(
        world.c.put(url, json={"deals_per_day": 11}, headers=auth(world.leader)),
        422,
        "invalid_input",
    )
    r = world.c.put(url, json={"deals_per_day": 1, "opens": "08:00"}, headers=auth(world.leader))
    problem(r, 422, "invalid_input")
    r = world.c.put(url, json={"deals_per_day": 1}, headers=auth(world.alice))
    problem(r, 403, "not_community_leader")
    problem(world.c.get(url, headers=auth(world.stranger)), 404, "community_not_found")
    body = {"deals_per_day": 1, "opens": "08:00", "closes": "22:00"}
    r = world.c.put(url, json=body, headers=auth(world.leader))
    assert r.status_code == 200 and r.json()["custom"] and r.json()["opens"] == "08:00"
    assert world.post(world.leader, "一个", listing_id=world.listing).status_code == 201
    problem(world.post(world.leader, "两个", listing_id=world.listing), 429, "rhythm_limited")


def test_posting_hours_at_their_edges(world: Posts, frozen: None) -> None:
    url = f"/api/leader/communities/{world.community}/rhythm"
    body = {"deals_per_day": 3, "opens": "08:00", "closes": "22:00"}
    assert world.c.put(url, json=body, headers=auth(world.leader)).status_code == 200
    at_local(7, 59, 59)  # tomorrow, a second before opening
    r = world.post(world.alice, "早")
    body = problem(r, 429, "rhythm_limited")
    assert body["retry_after"] == 1 and body["reason"] == "hours" and "08:00" in body["detail"]
    clock.advance(timedelta(seconds=1))  # 08:00:00
    made = world.made(world.alice, "早上好")
    at_local(21, 59, 59, days=0)
    assert world.reply(world.bob, made["id"]).status_code == 201
    clock.advance(timedelta(seconds=1))  # 22:00:00: closed until tomorrow 08:00
    body = problem(world.reply(world.bob, made["id"], "晚安"), 429, "rhythm_limited")
    assert body["retry_after"] == 10 * 3600


def test_new_members_are_slowed_at_the_edges(world: Posts, frozen: None) -> None:
    newcomer = world.join("新人")
    first = world.made(newcomer, "大家好")
    clock.advance(timedelta(seconds=119))
    r = world.post(newcomer, "第二帖")
    body = problem(r, 429, "rhythm_limited")
    assert body["retry_after"] == 1 and body["reason"] == "post_gap"
    clock.advance(timedelta(seconds=1))
    assert world.post(newcomer, "第二帖").status_code == 201
    # Replies: one per 30 s, ten on the first day.
    for i in range(10):
        assert world.reply(newcomer, first["id"], f"回复{i}").status_code == 201, i
        r = world.reply(newcomer, first["id"], "太快")
        if i < 9:
            assert problem(r, 429, "rhythm_limited")["retry_after"] == 30
        clock.advance(timedelta(seconds=30))
    body = problem(world.reply(newcomer, first["id"], "第十一条"), 429, "rhythm_limited")
    assert body["reason"] == "first_day_replies"
    clock.advance(timedelta(seconds=body["retry_after"]))
    assert world.reply(newcomer, first["id"], "第二天").status_code == 201
    # The leader is never new in their own community.
    assert world.made(world.leader, "a") and world.made(world.leader, "b")


def test_a_rhythm_refusal_is_not_stored_under_the_key(world: Posts, frozen: None) -> None:
    newcomer = world.join("新人")
    world.made(newcomer, "一")
    problem(world.post(newcomer, "二", key="k-2"), 429, "rhythm_limited")
    clock.advance(timedelta(seconds=120))
    first = world.post(newcomer, "二", key="k-2")
    assert first.status_code == 201
    again = world.post(newcomer, "二", key="k-2")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert (
        scalar("SELECT COUNT(*) FROM posts WHERE author_id = :a", a=int(newcomer["user_id"])) == 2
    )


# ---------------------------------------------------------------- the screen and moderation


def test_a_screened_post_is_held_and_seen_by_its_author_and_moderators_only(
    world: Posts,
) -> None:
    posts.register_text_screen(lambda text: ["加微信"] if "加微信" in text else [])
    held = world.made(world.alice, "便宜货加微信")
    assert held["status"] == "held"
    assert [p["id"] for p in world.feed(world.alice).json()["items"]] == [held["id"]]
    assert world.feed(world.bob).json()["items"] == []
    r = world.c.get(f"/api/posts/{held['id']}", headers=auth(world.leader))
    assert r.status_code == 200
    problem(world.reply(world.bob, held["id"]), 404, "post_not_found")
    # A moderator restores it (the hooks the moderation domain calls).
    hooks = posts.MODERATION_TARGETS["post"]
    info = run_in_transaction(lambda s: hooks.locate(s, held["id"]))
    assert info is not None and info.community_id == world.community and not info.hidden
    assert run_in_transaction(lambda s: hooks.leader_of(s, held["id"])) == world.leader["user_id"]
    run_in_transaction(lambda s: hooks.set_hidden(s, held["id"], False))
    assert [p["id"] for p in world.feed(world.bob).json()["items"]] == [held["id"]]


def test_a_check_refuses_and_a_hidden_reply_leaves_the_count(world: Posts) -> None:
    from tuangou.core.errors import Forbidden

    made = world.made(world.alice)
    reply = world.reply(world.bob, made["id"]).json()
    hooks = posts.MODERATION_TARGETS["reply"]
    run_in_transaction(lambda s: hooks.set_hidden(s, reply["id"], True))
    got = world.c.get(f"/api/posts/{made['id']}", headers=auth(world.alice)).json()
    assert got["reply_count"] == 0
    seen = world.c.get(f"/api/posts/{made['id']}/replies", headers=auth(world.alice)).json()
    assert seen["items"] == []
    mine = world.c.get(f"/api/posts/{made['id']}/replies", headers=auth(world.bob)).json()
    assert [r["status"] for r in mine["items"]] == ["hidden"]
    run_in_transaction(lambda s: hooks.set_hidden(s, reply["id"], False))
    got = world.c.get(f"/api/posts/{made['id']}", headers=auth(world.alice)).json()
    assert got["reply_count"] == 1

    def muted(session, *, community_id, user_id, now):  # type: ignore[no-untyped-def]
        if user_id == int(world.bob["user_id"]):
            raise Forbidden("muted")

    posts.register_post_check(muted)
    problem(world.post(world.bob), 403, "forbidden")
    problem(world.reply(world.bob, made["id"]), 403, "forbidden")
    assert world.post(world.alice).status_code == 201


# ---------------------------------------------------------------- photos


def test_a_post_carries_its_photos_for_the_communitys_eyes_only(
    world: Posts, tmp_path: Path
) -> None:
    from tests.aftersales.conftest import png
    from tuangou.core.storage import LocalDiskStorage, set_storage

    set_storage(LocalDiskStorage(tmp_path / "uploads"))
    try:
        headers = {**auth(world.alice), "Content-Type": "image/png"}
        ids = []
        for _ in range(2):
            r = world.c.post("/api/photos", content=png(), headers=headers)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        made = world.made(world.alice, "晒一下到货的苹果", photo_ids=ids)
        assert [p["id"] for p in made["photos"]] == ids
        shown = world.feed(world.bob).json()["items"][0]["photos"][0]
        assert shown["thumb_url"] == f"/photos/{ids[0]}/thumb"  # the pages' address
        thumb = f"/api/photos/{ids[0]}?size=thumb"
        assert world.c.get(thumb, headers=auth(world.bob)).status_code == 200
        assert world.c.get(thumb, headers=auth(world.stranger)).status_code in (403, 404)
        # A photo attached once cannot be attached again; nothing is posted.
        r = world.post(world.alice, "再用一次", photo_ids=ids[:1])
        assert r.status_code in (409, 422) and "photo" in r.json()["code"]
        assert scalar("SELECT COUNT(*) FROM posts") == 1
    finally:
        set_storage(None)
