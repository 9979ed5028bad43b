"""需求洞察 pages: the leader finds it beside their proposals, reads a wish with its posts as
evidence, and starts a wave of matching goods or a proposal from it."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.pools.support import seed_sku
from tests.web.pages import log_in, log_out
from tests.web.test_cocreate_pages import _leader, _member
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.posts.models import Post


def _post(user_id: int, community_id: int, text: str) -> int:
    def work(db: Any) -> int:
        post = Post(
            community_id=community_id,
            author_id=user_id,
            kind="experience",
            text=text,
            status="published",
            created_at=clock.now(),
        )
        db.add(post)
        db.flush()
        return post.id

    return run_in_transaction(work)


def test_a_leader_starts_a_wave_or_a_proposal_from_a_wish(client: TestClient) -> None:
    leader = _leader(client, "13900000011")
    cid = leader["community_id"]
    asker = _member(client, leader, "13900000012")
    other = _member(client, leader, "13900000013")
    first = _post(asker, cid, "有没有人想买车厘子？小孩爱吃")
    _post(other, cid, "求车厘子+1")
    _, sku_id = seed_sku(title="智利车厘子")

    log_out(client)
    log_in(client, "13900000011")
    assert f'href="/leader/communities/{cid}/insight"' in client.get("/leader/proposals").text
    page = client.get(f"/leader/communities/{cid}/insight")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "车厘子" in text and "2 位成员想要" in text
    assert f'href="/posts/{first}"' in text
    links = re.findall(r'href="(/leader/waves/new\?[^"]+)"', text)
    assert len(links) == 1 and f"community_id={cid}&sku_id={sku_id}" in links[0]
    form = client.get(links[0]).text
    assert 'value="智利车厘子 1份"' in form
    assert f'<option value="{sku_id}" selected' in form
    proposal = client.get(f"/communities/{cid}/proposals/new?title=车厘子").text
    assert 'value="车厘子"' in proposal
    assert client.get(f"/leader/communities/{cid}/insight?week=bad").status_code == 422

    # A member of the community is not its leader.
    log_out(client)
    log_in(client, "13900000012")
    assert client.get(f"/leader/communities/{cid}/insight").status_code in (403, 303)
