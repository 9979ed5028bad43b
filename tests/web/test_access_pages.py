"""Pages of level early access and of suppliers linked to communities: the operator links a
supplier (with a trail), the supplier turns the community's ready proposal into a pre-sale
wave of its own goods from its 共创需求 section, and the wave page tells a member whose level
opens it early how many hours early, and everyone it shows to when it opens."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.cocreate.support import propose, set_threshold, vote, voters
from tests.pools.support import seed_leader, seed_operator, seed_sku
from tests.web.pages import account, alerts, form_of, log_in, log_out, post, scalar
from tuangou.accounts import service as accounts
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.points import service as points


def _staff(phone: str, role: str, supplier_id: int | None = None) -> int:
    return run_in_transaction(
        lambda db: (
            accounts.create_user(
                db,
                phone=phone,
                password="secret123",
                nickname="运营" if role == "operator" else "果园",
                role=role,
                supplier_id=supplier_id,
            ).id
        )
    )


def _as(client: TestClient, phone: str) -> None:
    log_out(client)
    log_in(client, phone)


def test_links_supplier_conversion_and_the_early_notice(client: TestClient) -> None:
    leader = seed_leader(seed_operator().user_id)
    cid = leader.community_id
    set_threshold(leader, votes=3, units=10_000, early_hours=1)
    author, *people = voters(leader, 4)
    pid = propose(author, leader, title="云南高山蓝莓")
    for person, pledge in zip(people[:3], (1, 2, 2), strict=True):
        vote(person, pid, pledge=pledge)
    # A neighbour who did not vote, at 热心邻居 (2 hours early), and one without a level.
    early = account(client, "13900000011", nickname="热心的邻居")
    late = account(client, "13900000012", nickname="新邻居")
    for user_id in (early, late):
        run_in_transaction(
            lambda db, u=user_id: communities.join_by_invite(db, leader.invite_code, u)
        )
    run_in_transaction(
        lambda db: points.award(db, user_id=early, reason="task", key="lvl", points=800)
    )
    supplier, sku = seed_sku(title="蓝莓")
    other, _ = seed_sku(title="茶叶")
    _staff("13900000021", "operator")
    _staff("13900000022", "supplier", supplier)
    _staff("13900000023", "supplier", other)

    # The operator links the supplier; a community that does not exist changes nothing.
    _as(client, "13900000021")
    page = client.get("/ops/supplier-links")
    assert page.status_code == 200 and "供应商关联" in page.text
    bad = post(
        client,
        "/ops/supplier-links",
        {"community_id": "999999", "supplier_id": str(supplier)},
        form_page="/ops/supplier-links",
    )
    assert bad.status_code == 400 and alerts(bad.text)
    assert scalar("SELECT count(*) FROM community_suppliers") == 0
    r = post(
        client,
        "/ops/supplier-links",
        {"community_id": str(cid), "supplier_id": str(supplier)},
        form_page="/ops/supplier-links",
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=saved")
    assert "已关联" in client.get("/ops/supplier-links").text

    # Another supplier is refused; the linked one sees the proposal in 共创需求.
    convert = f"/supplier/proposals/{pid}/convert"
    _as(client, "13900000023")
    assert client.get(convert).status_code == 403
    _as(client, "13900000022")
    listed = client.get("/supplier/proposals")
    assert listed.status_code == 200 and "共创需求" in listed.text and "云南高山蓝莓" in listed.text
    cutoff = clock.to_local(clock.now()) + timedelta(days=2)
    fields = {
        **form_of(client, convert, "idem"),
        "title": "云南高山蓝莓 预售",
        "sku_id": str(sku),
        "price": "39.90",
        "stock": "40",
        "per_member_limit": "5",
        "commission": "10",
        "cutoff_at": cutoff.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (cutoff.date() + timedelta(days=1)).isoformat(),
    }
    r = post(client, convert, {**fields, "moq": "6"}, form_page=convert)
    assert r.status_code == 400 and scalar("SELECT count(*) FROM waves") == 0
    r = post(client, convert, {**fields, "moq": "5"}, form_page=convert)
    assert r.status_code == 303, alerts(r.text)
    assert r.headers["location"] == "/supplier/proposals?done=published"
    listing = scalar("SELECT listing_id FROM proposals WHERE id = :id", id=pid)
    assert scalar("SELECT supplier_id FROM proposals WHERE id = :id", id=pid) == supplier

    # The early member is told their level and its hours; the other does not see it yet.
    _as(client, "13900000011")
    wave = client.get(f"/w/{listing}")
    assert wave.status_code == 200
    assert "你是热心邻居，可提前 2 小时购买" in wave.text and "对所有人开放" in wave.text
    level = client.get("/me/level").text
    assert "预售团对所有人开放前 2 小时，你即可查看和下单" in level
    _as(client, "13900000012")
    assert client.get(f"/w/{listing}").status_code == 404

    # The operator unlinks it: the trail keeps both.
    _as(client, "13900000021")
    r = post(
        client,
        "/ops/supplier-links/unlink",
        {"community_id": str(cid), "supplier_id": str(supplier)},
        form_page="/ops/supplier-links",
    )
    assert r.status_code == 303
    assert scalar("SELECT count(*) FROM community_suppliers") == 0
    assert "已取消关联" in client.get("/ops/supplier-links").text
