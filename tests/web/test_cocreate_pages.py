"""Co-creation pages (共创): a member proposes with a photo (after a preview), neighbours vote
and pledge (a new account is told when it may), the leader sets the threshold and turns the
ready proposal into a pre-sale wave that only its voters see during their early window."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.aftersales.conftest import png
from tests.cocreate.support import age_accounts
from tests.pools.support import Person, execute, seed_operator, seed_sku
from tests.web.pages import account, alerts, form_of, log_in, log_out, post, scalar
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import run_in_transaction


def _leader(client: TestClient, phone: str) -> dict[str, Any]:
    user_id = account(client, phone, nickname="王团长")
    operator_id = seed_operator().user_id

    def work(db: Any) -> dict[str, Any]:
        application = communities.apply(
            db,
            user_id,
            communities.PickupPointInput(
                name="幸福里自提点", address="幸福里 3 栋", latitude=31.2, longitude=121.4
            ),
        )
        approval = communities.approve_application(db, application.id, operator_id=operator_id)
        community = communities.create_community(db, user_id, name="幸福里")
        return {
            "user_id": user_id,
            "community_id": community.id,
            "invite": community.invite_code,
            "point": approval.pickup_point.id,
        }

    return run_in_transaction(work)


def _member(client: TestClient, leader: dict[str, Any], phone: str, *, old: bool = True) -> int:
    user_id = account(client, phone, nickname=f"邻居{phone[-2:]}")
    run_in_transaction(lambda db: communities.join_by_invite(db, leader["invite"], user_id))
    if old:
        age_accounts([Person(user_id, "", phone)])
    return user_id


def _as(client: TestClient, phone: str) -> None:
    log_out(client)
    log_in(client, phone)


def _vote(client: TestClient, proposal_id: int, pledge: int, form_page: str = "") -> Any:
    page = f"/proposals/{proposal_id}"
    return post(client, f"{page}/vote", {"pledge": str(pledge)}, form_page=form_page or page)


def test_propose_vote_convert_and_the_early_window(client: TestClient, photo_dir: Any) -> None:
    leader = _leader(client, "13900000001")
    cid = leader["community_id"]
    _member(client, leader, "13900000002")
    _member(client, leader, "13900000003")
    _member(client, leader, "13900000004")
    _member(client, leader, "13900000005", old=False)

    # A member finds 共创 from their community and proposes, after a preview.
    _as(client, "13900000002")
    assert f'href="/communities/{cid}/proposals"' in client.get("/communities").text
    listing_page = client.get(f"/communities/{cid}/proposals")
    assert listing_page.status_code == 200 and "提议一个商品" in listing_page.text
    new = f"/communities/{cid}/proposals/new"
    fields = {"title": "云南高山蓝莓", "description": "一箱 12 盒", "target_price": "39.90"}
    r = post(client, new, {**form_of(client, new, "idem"), **fields, "action": "preview"})
    assert r.status_code == 200 and "预览" in r.text and "¥39.90" in r.text
    assert scalar("SELECT count(*) FROM proposals") == 0
    r = post(client, new, {**form_of(client, new, "idem"), **fields, "title": "", "action": "send"})
    assert r.status_code == 400 and 'id="e-title"' in r.text
    assert scalar("SELECT count(*) FROM proposals") == 0
    r = post(
        client,
        new,
        {**form_of(client, new, "idem"), **fields, "action": "send"},
        files={"photo": ("berries.png", png(), "image/png")},
    )
    assert r.status_code == 303, alerts(r.text)
    pid = int(re.search(r"/proposals/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    assert (
        scalar("SELECT count(*) FROM photos WHERE owner_kind = 'proposal' AND owner_id = :p", p=pid)
        == 1
    )
    page = client.get(f"/proposals/{pid}").text
    assert "云南高山蓝莓" in page and "/photos/" in page

    # A new account is told when it may vote, and its vote changes nothing.
    _as(client, "13900000005")
    page = client.get(f"/proposals/{pid}").text
    assert "您从" in page and "起可以投票" in page
    r = _vote(client, pid, 2, form_page=new)  # no vote form on its page: a form elsewhere
    assert r.status_code == 400 and alerts(r.text)
    assert scalar("SELECT votes FROM proposals WHERE id = :p", p=pid) == 0

    # The leader sets the threshold: 5 units pledged are enough.
    _as(client, "13900000001")
    settings = f"/leader/communities/{cid}/cocreate"
    r = post(
        client, settings, {"votes": "1", "units": "5", "early_hours": "24"}, form_page=settings
    )
    assert r.status_code == 400 and 'id="e-votes"' in r.text
    r = post(
        client, settings, {"votes": "20", "units": "5", "early_hours": "24"}, form_page=settings
    )
    assert r.status_code == 303

    _as(client, "13900000003")
    assert _vote(client, pid, 3).status_code == 303
    assert "您已投票, 想买 3 份" in client.get(f"/proposals/{pid}").text
    _as(client, "13900000004")
    assert _vote(client, pid, 2).status_code == 303
    assert scalar("SELECT status FROM proposals WHERE id = :p", p=pid) == "ready"

    # The leader converts it: MOQ at most the 5 units pledged.
    _as(client, "13900000001")
    assert "云南高山蓝莓" in client.get("/leader/proposals").text
    convert = f"/leader/proposals/{pid}/convert"
    _, sku = seed_sku(price=3000)
    local = clock.to_local(clock.now() + timedelta(days=2))
    body = {
        "title": "云南高山蓝莓",
        "sku_id": str(sku),
        "price": "39.90",
        "moq": "6",
        "stock": "50",
        "per_member_limit": "10",
        "cutoff_at": local.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (local.date() + timedelta(days=1)).isoformat(),
        "pickup_point_id": str(leader["point"]),
    }
    r = post(client, convert, {**form_of(client, convert, "idem"), **body})
    assert r.status_code == 400 and 'id="e-moq"' in r.text
    assert scalar("SELECT count(*) FROM waves") == 0
    r = post(client, convert, {**form_of(client, convert, "idem"), **body, "moq": "5"})
    assert r.status_code == 303, alerts(r.text)
    listing = scalar("SELECT listing_id FROM proposals WHERE id = :p", p=pid)
    assert scalar("SELECT moq FROM wave_items") == 5

    # Only voters see the wave during the early window; the rest of the community after it.
    _as(client, "13900000002")  # the author did not vote
    assert client.get(f"/w/{listing}").status_code == 404
    _as(client, "13900000003")
    assert client.get(f"/w/{listing}").status_code == 200
    assert "后来怎么样了" in client.get(f"/proposals/{pid}").text
    execute("UPDATE proposals SET early_until = :t WHERE id = :p", t=clock.now(), p=pid)
    _as(client, "13900000002")
    assert client.get(f"/w/{listing}").status_code == 200


def test_only_members_see_a_community_s_proposals(client: TestClient) -> None:
    leader = _leader(client, "13900000011")
    _member(client, leader, "13900000012")
    account(client, "13900000013")
    _as(client, "13900000013")
    assert client.get(f"/communities/{leader['community_id']}/proposals").status_code == 404
    assert client.get(f"/leader/communities/{leader['community_id']}/cocreate").status_code == 403
