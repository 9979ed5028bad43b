"""Verified-buyer reviews (晒单) over HTTP, on both backends: who may review, once per line,
the refusals (which change nothing), the one reply, refunds keeping reviews, and what a
held or hidden review shows to whom."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import _auth, rows, run_worker, scalar
from tests.pools.support import problem
from tests.reviews.conftest import Shop
from tuangou.reviews import rules


def _counters_match_rows() -> None:
    """Every scope's counters say what its published rows say."""
    from tuangou.core.db import unit_of_work
    from tuangou.reviews import service as reviews

    with unit_of_work(readonly=True) as s:
        scopes = {
            sc
            for (rid,) in s.execute(text("SELECT id FROM reviews"))
            for sc in reviews.scopes_of(reviews.get(s, int(rid)))
        }
        for scope in scopes:
            counted = rules.summarise(reviews.counted(s, scope))
            assert reviews.summary(s, scope) == counted, scope


def _reviews(shop: Shop, path: str, who: dict[str, str] | None = None, **q: Any) -> Any:
    r = shop.c.get(path, params=q, headers=_auth(who) if who else {})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_buyer_reviews_each_line_of_a_picked_up_wave_order_once(shop: Shop) -> None:
    member, order_id = shop.completed_wave_order()
    lines = shop.reviewable(member)
    assert sorted((ln["title"][:1], ln["quantity"]) for ln in lines) == [("梨", 2), ("苹", 3)]
    apple = shop.line(member, order_id, "苹果")
    photos = shop.photo_ids(member, 2)
    r = shop.write(member, order_id, apple, rating=4, text="  很甜, 个头大  ", photo_ids=photos)
    assert r.status_code == 201, r.text
    review = r.json()
    assert (
        review["verified_buyer"] is True and review["verified_label"] == "已购买 · verified buyer"
    )
    assert review["title"].startswith("苹果") and review["quantity"] == 3
    assert review["rating"] == 4 and review["text"] == "很甜, 个头大"
    assert review["status"] == "published" and review["reply"] is None
    assert [p["id"] for p in review["photos"]] == photos
    assert review["author"] != "" and "李阿姨" not in review["author"]  # masked
    assert len(review["completed_on"]) == 10  # a day, not an instant
    # The apples are reviewed; only the pears are left to review.
    assert [ln["title"][:1] for ln in shop.reviewable(member)] == ["梨"]
    # Once per line: a second review of the apples is refused and changes nothing.
    problem(shop.write(member, order_id, apple, rating=1), 409, "already_reviewed")
    assert scalar("SELECT COUNT(*) FROM reviews") == 1
    # The product's page lists it, with its summary; so does the wave's, for its members.
    page = _reviews(shop, f"/api/products/{review['product_id']}/reviews")
    assert [x["id"] for x in page["reviews"]] == [review["id"]]
    assert page["summary"]["count"] == 1 and page["summary"]["average"] == "4.0"
    assert [s["count"] for s in page["summary"]["stars"]] == [0, 0, 0, 1, 0]
    assert page["reviews"][0]["photos"][0]["thumb_url"]
    sku = _reviews(shop, f"/api/skus/{review['sku_id']}/reviews")
    assert [x["id"] for x in sku["reviews"]] == [review["id"]]
    wave = _reviews(shop, f"/api/waves/{shop.wave_id()}/reviews", member)
    assert [x["id"] for x in wave["reviews"]] == [review["id"]]
    # Someone outside the community, without the share link, sees no wave (nor its reviews).
    stranger = shop.api.signup("路人")
    problem(
        shop.c.get(f"/api/waves/{shop.wave_id()}/reviews", headers=_auth(stranger)),
        404,
        "wave_not_found",
    )
    # The review is everyone's to read, by id.
    r = shop.c.get(f"/api/reviews/{review['id']}")
    assert r.status_code == 200 and r.json()["order_id"] == order_id
    _counters_match_rows()


def test_refusals_change_nothing(shop: Shop) -> None:
    waiting, waiting_order = shop.paid_wave_order()  # the same wave: confirmed, not picked up
    member, order_id = shop.completed_wave_order()
    apple = shop.line(member, order_id, "苹果")
    neighbour = shop.flow.waves.member(shop.leader, "王阿姨")
    # Not completed yet (paid, not picked up): no review.
    problem(shop.write(waiting, waiting_order, None, 5), 403, "not_a_verified_buyer")
    # Not your order: no rating without a purchase.
    problem(shop.write(neighbour, order_id, apple, 5), 403, "not_a_verified_buyer")
    # A rating is 1–5.
    for bad in (0, 6, -1):
        problem(shop.write(member, order_id, apple, bad), 422, "invalid_rating")
    # At most 1000 characters, at most 9 photos, a line of this order.
    problem(shop.write(member, order_id, apple, 5, text="好" * 1001), 422, "invalid_input")
    too_many = [f"x{i}" for i in range(10)]
    problem(shop.write(member, order_id, apple, 5, photo_ids=too_many), 422, "invalid_input")
    problem(shop.write(member, order_id, 999_999, 5), 422, "invalid_input", "line_id")
    # A photo of someone else is refused (the photos' own error), with nothing written.
    theirs = shop.photo_ids(neighbour, 1)
    problem(shop.write(member, order_id, apple, 5, photo_ids=theirs), 422, "photos_not_attachable")
    # No such order: 404.
    assert shop.write(member, 987_654, None, 5).status_code == 404
    assert scalar("SELECT COUNT(*) FROM reviews") == 0
    # 1000 characters exactly and no text at all are both fine.
    assert shop.write(member, order_id, apple, 3, text="好" * 1000).status_code == 201
    pear = shop.line(member, order_id, "梨")
    assert shop.write(member, order_id, pear, 2, text="").status_code == 201


def test_a_solo_order_is_reviewed_once_its_receipt_is_confirmed(shop: Shop) -> None:
    campaign = shop.solo_campaign()
    member, order_id = shop.solo_order(campaign["id"])
    shop.ship(order_id)
    # Shipped is not received.
    problem(shop.write(member, order_id, None, 5), 403, "not_a_verified_buyer")
    assert shop.reviewable(member) == []
    shop.confirm(member, order_id)
    [line] = shop.reviewable(member)
    assert line["order_id"] == order_id and line["line_id"] == 0 and line["order_kind"] == "team"
    r = shop.write(member, order_id, None, 3, text="一般")
    assert r.status_code == 201, r.text
    assert r.json()["line_id"] == 0
    problem(shop.write(member, order_id, 0, 4), 409, "already_reviewed")
    page = _reviews(shop, f"/api/campaigns/{campaign['id']}/reviews")
    assert [x["id"] for x in page["reviews"]] == [r.json()["id"]]
    assert page["summary"]["count"] == 1 and page["summary"]["average"] == "3.0"
    # A campaign without reviews says so: no average, all zeros.
    other = shop.solo_campaign()
    empty = _reviews(shop, f"/api/campaigns/{other['id']}/reviews")
    assert empty["summary"] == {
        "count": 0,
        "stars": [{"stars": s, "count": 0} for s in range(1, 6)],
        "average": None,
    }
    assert empty["reviews"] == [] and empty["next_cursor"] is None


def test_one_reply_by_the_leader_or_the_supplier_and_the_author_is_told(shop: Shop) -> None:
    (member, order_id), (other, other_order) = shop.completed_wave_orders(["李阿姨", "钱阿姨"])
    apple = shop.line(member, order_id, "苹果")
    review = shop.write(member, order_id, apple, 2, text="有两个坏了").json()
    path = f"/api/reviews/{review['id']}/reply"
    neighbour = shop.flow.waves.member(shop.leader, "王阿姨")
    for who in (neighbour, member):
        problem(
            shop.c.post(path, json={"text": "谢谢"}, headers=_auth(who)),
            403,
            "not_yours_to_reply",
        )
    # Another supplier's staff may not answer either.
    _, other_supplier = shop.api.supplier(shop.op, name="别家果园")
    problem(
        shop.c.post(path, json={"text": "谢谢"}, headers=other_supplier), 403, "not_yours_to_reply"
    )
    r = shop.c.post(path, json={"text": "抱歉, 已联系您补发"}, headers=_auth(shop.leader))
    assert r.status_code == 200, r.text
    assert r.json()["reply"]["text"] == "抱歉, 已联系您补发" and r.json()["reply"]["by"] == "leader"
    # The first answer wins: the supplier comes second.
    problem(
        shop.c.post(path, json={"text": "我们来补发"}, headers=shop.supplier),
        409,
        "already_replied",
    )
    assert scalar("SELECT reply_text FROM reviews") == "抱歉, 已联系您补发"
    run_worker()
    assert "review.replied" in shop.flow.inbox_kinds(member)
    assert "review.replied" not in shop.flow.inbox_kinds(neighbour)
    # The supplier answers the pears' review of another member.
    pear = shop.line(other, other_order, "梨")
    second = shop.write(other, other_order, pear, 5).json()
    r = shop.c.post(
        f"/api/reviews/{second['id']}/reply", json={"text": "谢谢支持"}, headers=shop.supplier
    )
    assert r.status_code == 200 and r.json()["reply"]["by"] == "supplier"


def test_an_after_sale_refund_keeps_the_review_and_the_right_to_review(shop: Shop) -> None:
    member, order_id = shop.completed_wave_order(apples=1, pears=1)
    apple = shop.line(member, order_id, "苹果")
    review = shop.write(member, order_id, apple, 1, text="烂了").json()
    ids = shop.flow.photo_ids(member)
    r = shop.flow.report(member, order_id, [{"item_id": shop.wave["apple"], "quantity": 1}], ids)
    assert r.status_code == 201, r.text
    r = shop.c.post(f"/api/aftersales/{r.json()['id']}/accept", headers=_auth(shop.leader))
    assert r.status_code == 200, r.text
    run_worker()
    assert scalar("SELECT refunded_amount FROM orders WHERE id = :i", i=order_id) > 0
    # The review stays, listed and counted; the pears may still be reviewed.
    page = _reviews(shop, f"/api/products/{review['product_id']}/reviews")
    assert [x["id"] for x in page["reviews"]] == [review["id"]]
    assert page["summary"]["count"] == 1
    pear = shop.line(member, order_id, "梨")
    assert shop.write(member, order_id, pear, 4).status_code == 201


def test_a_held_or_hidden_review_is_shown_to_its_author_only(shop: Shop) -> None:
    from tuangou.core.db import run_in_transaction, unit_of_work
    from tuangou.reviews import service as reviews

    reviews.register_text_screen(lambda text: ["假货"] if "假货" in text else [])
    member, order_id = shop.completed_wave_order()
    apple, pear = shop.line(member, order_id, "苹果"), shop.line(member, order_id, "梨")
    held = shop.write(member, order_id, apple, 1, text="假货!").json()
    assert held["status"] == "held"
    shown = shop.write(member, order_id, pear, 5, "好吃", shop.photo_ids(member)).json()
    assert shown["status"] == "published"
    photo = f"/api{shown['photos'][0]['url']}"
    assert shop.c.get(photo).status_code == 200  # a published review's photo: everyone's
    product = f"/api/products/{held['product_id']}/reviews"
    pears = f"/api/products/{shown['product_id']}/reviews"
    assert _reviews(shop, product)["summary"]["count"] == 0
    assert _reviews(shop, product)["reviews"] == []
    neighbour = shop.flow.waves.member(shop.leader, "王阿姨")
    problem(
        shop.c.get(f"/api/reviews/{held['id']}", headers=_auth(neighbour)), 404, "review_not_found"
    )
    problem(shop.c.get(f"/api/reviews/{held['id']}"), 404, "review_not_found")
    mine = shop.c.get(f"/api/reviews/{held['id']}", headers=_auth(member))
    assert mine.status_code == 200 and mine.json()["status"] == "held"
    # The leader who moderates the community sees it too.
    assert shop.c.get(f"/api/reviews/{held['id']}", headers=_auth(shop.leader)).status_code == 200

    # Moderation's hooks: what it shows of a review, hiding and restoring it.
    hooks = reviews.MODERATION_TARGETS["review"]
    with unit_of_work(readonly=True) as s:
        info = hooks.locate(s, shown["id"])
        assert hooks.leader_of(s, shown["id"]) == int(shop.leader["user_id"])
        assert hooks.locate(s, 987_654) is None
    assert info is not None and info.author_id == int(member["user_id"])
    assert info.community_id == shop.leader["community_id"] and info.hidden is False
    assert info.excerpt == "好吃" and info.link == f"/reviews/{shown['id']}"
    run_in_transaction(lambda s: hooks.set_hidden(s, shown["id"], True))
    assert _reviews(shop, pears)["summary"]["count"] == 0
    _counters_match_rows()
    run_in_transaction(lambda s: hooks.set_hidden(s, shown["id"], True))  # hiding twice
    _counters_match_rows()
    problem(
        shop.c.get(f"/api/reviews/{shown['id']}", headers=_auth(neighbour)),
        404,
        "review_not_found",
    )
    r = shop.c.get(f"/api/reviews/{shown['id']}", headers=_auth(member))
    assert r.json()["status"] == "hidden"
    # Its photo: its author and operators only.
    assert shop.c.get(photo, headers=_auth(neighbour)).status_code == 404
    assert shop.c.get(photo).status_code == 404
    assert shop.c.get(photo, headers=_auth(member)).status_code == 200
    assert shop.c.get(photo, headers=shop.op).status_code == 200
    # A hidden review is not answered.
    problem(
        shop.c.post(
            f"/api/reviews/{shown['id']}/reply", json={"text": "?"}, headers=_auth(shop.leader)
        ),
        404,
        "review_not_found",
    )
    run_in_transaction(lambda s: hooks.set_hidden(s, shown["id"], False))
    assert _reviews(shop, pears)["summary"]["count"] == 1
    assert shop.c.get(photo, headers=_auth(neighbour)).status_code == 200
    _counters_match_rows()
    # A held review restored by a moderator is published, and counted.
    run_in_transaction(lambda s: hooks.set_hidden(s, held["id"], False))
    assert _reviews(shop, product)["summary"]["count"] == 1
    _counters_match_rows()
    run_in_transaction(lambda s: hooks.set_hidden(s, held["id"], True))
    assert rows("SELECT status FROM reviews ORDER BY id") == [("hidden",), ("published",)]
    _counters_match_rows()
