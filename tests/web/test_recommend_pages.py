"""猜你喜欢 on the pages, over HTTP on the demo's data, on both backends: the member's home
shows the row ranked by the model the demo trained (each card a link to a team buy or to a
wave of the member's own community, with its reason in words), the order page shows it after
ordering, and staff, who cannot buy, see no row."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.pages import demo_log_in, rows, scalar
from tuangou import demo

AUNTIE = demo.MEMBERS[0][0]  # 李阿姨: her team order trained into the demo's model

REASONS = {"你的邻居也在买", "邀请你的好友也买了", "同小区热卖", "为你推荐", "大家都在买"}


def _row(html: str) -> str:
    found = re.search(r'<section aria-labelledby="h-recommend".*?</section>', html, re.S)
    assert found, "no 猜你喜欢 row"
    return found.group(0)


def test_the_row_on_the_home_and_order_pages(client: TestClient) -> None:
    demo.load()
    assert scalar("SELECT count(*) FROM recommend_models WHERE status = 'good'") == 1
    demo_log_in(client, AUNTIE)
    page = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    row = _row(page.text)
    assert "猜你喜欢" in row and 'data-source="model"' in row
    links = re.findall(r'href="(/[cw]/\d+)"', row)
    assert links
    mine = {
        int(c)
        for (c,) in rows(
            "SELECT m.community_id FROM community_members m JOIN users u ON u.id = m.user_id"
            " WHERE u.phone = :p",
            p=AUNTIE,
        )
    }
    for link in links:
        if link.startswith("/w/"):
            community = scalar(
                "SELECT community_id FROM wave_listings WHERE id = :l", l=int(link[3:])
            )
            assert community in mine
        assert client.get(link).status_code == 200
    assert any(reason in row for reason in REASONS)
    order_id = scalar(
        "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id WHERE u.phone = :p"
        " ORDER BY o.id LIMIT 1",
        p=AUNTIE,
    )
    order_page = client.get(f"/orders/{order_id}", headers={"Accept-Language": "zh-CN"})
    assert order_page.status_code == 200
    assert "猜你喜欢" in _row(order_page.text)
    # Staff cannot buy: no row.
    client.cookies.clear()
    demo_log_in(client, demo.OPERATOR_PHONE)
    assert 'aria-labelledby="h-recommend"' not in client.get("/").text
