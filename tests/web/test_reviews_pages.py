"""The review pages (晒单), on both backends: the button on a completed order, the form with
a photo (multipart), the product's, wave's and campaign's reviews with their summary, and the
supplier's and leader's reply forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.aftersales.conftest import Flow
from tests.conftest import Api, scalar
from tests.pools.conftest import Waves
from tests.reviews.conftest import Shop, jpeg
from tests.reviews.conftest import _clean_screens as _clean_screens  # autouse, here too
from tests.reviews.conftest import _photo_storage as _photo_storage  # autouse, here too
from tests.web.pages import csrf, hidden, log_in


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(Flow(Waves(api)))


def _as(client: TestClient, user_id: str | int) -> None:
    client.cookies.clear()
    log_in(client, str(scalar("SELECT phone FROM users WHERE id = :i", i=int(user_id))))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_member_reviews_a_line_of_a_completed_order_with_a_photo(shop: Shop) -> None:
    c = shop.c
    member, order_id = shop.completed_wave_order()
    apple = shop.line(member, order_id, "苹果")
    _as(c, member["user_id"])
    page = c.get(f"/orders/{order_id}")
    assert page.status_code == 200
    assert page.text.count('id="write-review-') == 2 and "写评价 / 晒单" in page.text
    form = c.get(f"/orders/{order_id}/review?line={apple}")
    assert form.status_code == 200 and "已购买 · verified buyer" in form.text
    assert "/static/review.js" in form.text
    key = hidden(form.text, "idem")
    token = hidden(form.text, "csrf_token")
    # No rating: the form comes back with the error, and nothing is written.
    bad = c.post(
        f"/orders/{order_id}/review",
        data={"csrf_token": token, "idem": key, "line": str(apple), "text": "好"},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and 'id="e-rating"' in bad.text
    assert scalar("SELECT COUNT(*) FROM reviews") == 0
    key = hidden(bad.text, "idem")
    sent = c.post(
        f"/orders/{order_id}/review",
        data={"csrf_token": token, "idem": key, "line": str(apple), "rating": "4", "text": "很甜"},
        files=[("photos", ("apple.jpg", jpeg(), "image/jpeg"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:800]
    assert sent.headers["location"].startswith(f"/orders/{order_id}?done=reviewed")
    assert scalar("SELECT photo_count FROM reviews") == 1
    page = c.get(f"/orders/{order_id}?done=reviewed")
    assert 'id="done-reviewed"' in page.text and "很甜" in page.text
    assert page.text.count('id="write-review-') == 1  # the pears are left
    # The same line again: back to the order, nothing new.
    again = c.get(f"/orders/{order_id}/review?line={apple}", follow_redirects=False)
    assert again.status_code == 303
    # The product's page shows it, with the summary; so does the wave's page.
    product_id = scalar("SELECT product_id FROM reviews")
    shown = c.get(f"/products/{product_id}/reviews")
    assert shown.status_code == 200
    text = _text(shown.text)
    assert "已购买 · verified buyer" in text and "很甜" in text
    assert 'id="review-average">4.0<' in shown.text
    assert re.search(r'data-stars="4">1<', shown.text)
    assert "李阿姨" not in text  # the author's name is masked
    wave = c.get(f"/w/{shop.wave['listing']}")
    assert wave.status_code == 200 and 'id="reviews"' in wave.text and "很甜" in wave.text
    assert c.get(f"/w/{shop.wave['listing']}/reviews").status_code == 200
    # Someone else's order has no review form for them.
    other = shop.api.signup("路人")
    _as(c, other["user_id"])
    assert c.get(f"/orders/{order_id}/review?line={apple}").status_code == 404
    assert c.get(f"/w/{shop.wave['listing']}/reviews").status_code == 404


def test_a_campaign_without_reviews_says_so(shop: Shop) -> None:
    campaign = shop.solo_campaign()
    member = shop.api.signup("赵阿姨")
    _as(shop.c, member["user_id"])
    page = shop.c.get(f"/c/{campaign['id']}")
    assert page.status_code == 200 and 'id="no-reviews"' in page.text
    assert shop.c.get(f"/c/{campaign['id']}/reviews").status_code == 200


def test_the_supplier_and_the_leader_answer_once(shop: Shop) -> None:
    c = shop.c
    (member, order_id), (other, other_order) = shop.completed_wave_orders(["李阿姨", "钱阿姨"])
    first = shop.write(member, order_id, shop.line(member, order_id, "苹果"), 2, "坏了两个").json()
    second = shop.write(other, other_order, shop.line(other, other_order, "梨"), 5, "好").json()
    staff = scalar("SELECT id FROM users WHERE supplier_id = :s", s=shop.supplier_id)
    _as(c, staff)
    assert 'href="/supplier/reviews"' in c.get("/supplier/orders").text
    page = c.get("/supplier/reviews")
    assert page.status_code == 200
    assert f'id="review-{first["id"]}"' in page.text and f'id="review-{second["id"]}"' in page.text
    token = csrf(c, "/supplier/reviews")
    empty = c.post(
        f"/supplier/reviews/{first['id']}/reply",
        data={"csrf_token": token, "text": " "},
        follow_redirects=False,
    )
    assert empty.status_code == 400 and f'id="e-reply-{first["id"]}"' in empty.text
    done = c.post(
        f"/supplier/reviews/{first['id']}/reply",
        data={"csrf_token": token, "text": "抱歉, 已补发"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = c.get("/supplier/reviews?done=replied")
    assert f'id="review-{first["id"]}"' not in page.text and 'id="done-replied"' in page.text
    # The leader comes second on the first review, and answers the other one.
    _as(c, shop.leader["user_id"])
    assert 'href="/leader/reviews"' in c.get("/leader").text
    page = c.get("/leader/reviews")
    assert f'id="review-{first["id"]}"' not in page.text
    token = csrf(c, "/leader/reviews")
    late = c.post(
        f"/leader/reviews/{first['id']}/reply",
        data={"csrf_token": token, "text": "团长也来说一句"},
        follow_redirects=False,
    )
    assert late.status_code == 400 and "已" in late.text
    assert scalar("SELECT reply_text FROM reviews WHERE id = :i", i=first["id"]) == "抱歉, 已补发"
    ok = c.post(
        f"/leader/reviews/{second['id']}/reply",
        data={"csrf_token": token, "text": "谢谢支持"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert 'id="nothing-to-answer"' in c.get("/leader/reviews").text
    # The reply shows under the review, on the review's own page.
    shown = c.get(f"/reviews/{first['id']}")
    assert shown.status_code == 200 and "抱歉, 已补发" in shown.text
