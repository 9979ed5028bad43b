"""The inbox's service on both backends: one message per event and recipient, enforced by
the database; each message names what it is about and links to it; a refund of nothing says
nothing; a refund told by its settlement is not told twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from tests.api import auth, count, settled_pair, world
from tests.conftest import Api, rows, run_worker, scalar
from tuangou import demo
from tuangou.core import clock, outbox
from tuangou.core.db import unit_of_work
from tuangou.notifications.models import Notification

AUNTIE = demo.MEMBERS[0][0]  # 李阿姨: a team that formed, and a wave order that arrived
LIU = demo.MEMBERS[4][0]  # 刘婷: picked up an order of the completed wave


def _inbox(api: Api, who: dict[str, str]) -> list[dict[str, Any]]:
    r = api.c.get("/api/notifications", headers=auth(who))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _messages(phone: str) -> list[tuple[str, str, str, str]]:
    """(kind, event key, subject, body) of a member's messages, oldest first."""
    return [
        (str(k), str(e), str(s), str(b))
        for k, e, s, b in rows(
            "SELECT n.kind, n.event_key, n.subject, n.body FROM notifications n"
            " JOIN users u ON u.id = n.user_id WHERE u.phone = :p ORDER BY n.id",
            p=phone,
        )
    ]


def _payload(topic: str) -> dict[str, Any]:
    value = rows("SELECT payload FROM outbox_events WHERE topic = :t", t=topic)[0][0]
    return dict(json.loads(value) if isinstance(value, str) else value)


def test_an_event_emitted_twice_is_one_message(api: Api) -> None:
    w = world(api, 2, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b = w.members
    team_id = api.open(a, w.campaign["id"])["team"]["id"]
    api.join(b, team_id)
    run_worker()
    assert [i["kind"] for i in _inbox(api, a)] == ["team.formed"]
    payload = _payload("team.formed")
    # The same event again, as a second outbox event (another path, a replayed job): one
    # message per member all the same.
    with unit_of_work() as session:
        outbox.emit(session, "team.formed", payload)
    run_worker()
    assert count("outbox_events", "topic = 'team.formed'") == 2
    assert count("outbox_events", "delivered_at IS NULL") == 0
    assert [i["kind"] for i in _inbox(api, a)] == ["team.formed"]
    assert [i["kind"] for i in _inbox(api, b)] == ["team.formed"]
    assert count("notifications", "kind = 'team.formed'") == 2


def test_the_database_holds_one_message_per_event_and_recipient(api: Api) -> None:
    w = world(api, 2)
    a = w.members[0]
    api.open(a, w.campaign["id"])
    api.join(w.members[1], int(scalar("SELECT id FROM teams")))
    run_worker()
    user_id, key = rows("SELECT user_id, event_key FROM notifications ORDER BY id")[0]
    with pytest.raises(IntegrityError), unit_of_work() as session:
        session.add(
            Notification(
                user_id=user_id,
                event_id="another-outbox-event",
                event_key=key,
                kind="team.formed",
                title="已成团",
                body="",
                subject="",
                data={},
                created_at=clock.now(),
            )
        )


def test_a_settlement_without_a_refund_says_none(api: Api) -> None:
    """The group price was the price paid: "退还差价 ¥0.00" is never sent."""
    w, order_ids = settled_pair(api)
    run_worker()
    for who, order_id in zip(w.members, order_ids, strict=True):
        settled = [i for i in _inbox(api, who) if i["kind"] == "team.settled"]
        assert len(settled) == 1
        assert settled[0]["body"] == "成交价 ¥19.90/件。"
        assert settled[0]["target"] == {"type": "order", "id": order_id}
        assert all("¥0.00" not in i["body"] for i in _inbox(api, who))
    assert count("refunds") == 0


def test_a_refund_of_its_own_is_a_message_naming_the_product(api: Api) -> None:
    """Leaving a team before it forms: the refund is the news, with its amount and product."""
    w = world(api, 2, tiers=[[3, 1990]], min_size=3)
    a, b = w.members
    team_id = api.open(a, w.campaign["id"])["team"]["id"]
    order_id = api.join(b, team_id)["order"]["id"]
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=auth(b))
    assert r.status_code == 200, r.text
    run_worker()
    refunds = [i for i in _inbox(api, b) if i["kind"] == "refund.created"]
    assert len(refunds) == 1
    assert refunds[0]["subject"] == w.campaign["title"]
    assert "¥" in refunds[0]["body"] and "退出拼团" in refunds[0]["body"]
    assert refunds[0]["target"] == {"type": "order", "id": order_id}


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    run_worker()
    return client


def test_two_groups_confirmed_name_what_each_is(site: TestClient) -> None:
    """李阿姨's team formed and her wave order was confirmed: two "已成团", each naming its
    product or wave, never the same message twice."""
    confirmed = [m for m in _messages(AUNTIE) if m[0] in ("team.formed", "wave.confirmed")]
    assert len(confirmed) == 2
    subjects = {m[2] for m in confirmed}
    assert subjects == {"红富士苹果 · 阶梯拼团", demo.WAVE_ARRIVED}
    assert len({m[1] for m in _messages(AUNTIE)}) == len(_messages(AUNTIE))
    wave = next(m for m in confirmed if m[0] == "wave.confirmed")
    assert "砀山酥梨 5斤×1" in wave[3]  # what was confirmed
    # Her price protection refund is told in that message, not in one of its own.
    assert "已退还 ¥1.20" in wave[3]
    assert not [m for m in _messages(AUNTIE) if m[0] == "refund.created"]


def test_a_pickup_is_one_message(site: TestClient) -> None:
    """Picking up completes the order: one message (已提货), not a second 订单已完成."""
    kinds = [m[0] for m in _messages(LIU)]
    assert kinds.count("pickup.completed") == 1
    assert "order.completed" not in kinds
    assert count("outbox_events", "topic = 'order.completed'") > 0


def test_a_wave_below_its_minimum_is_one_message_with_the_refund(site: TestClient) -> None:
    # Past the open wave's cut-off (tonight's, or the next night's when loaded late).
    cutoff = scalar("SELECT cutoff_at FROM waves WHERE title = :t", t=demo.WAVE_OPEN)
    cutoff = cutoff if isinstance(cutoff, datetime) else datetime.fromisoformat(str(cutoff))
    clock.advance(cutoff - clock.now() + timedelta(minutes=1))
    run_worker()
    refunded = [m for m in _messages(AUNTIE) if m[0] == "wave.refunded"]
    assert len(refunded) == 1
    _kind, key, subject, body = refunded[0]
    assert subject == demo.WAVE_OPEN
    paid = scalar(
        "SELECT o.paid_amount FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE u.phone = :p AND o.id = :o",
        p=AUNTIE,
        o=int(key.split(":")[1]),
    )
    assert f"已退还 ¥{paid / 100:.2f}" in body
    moq_refunds = count("refunds", "reason = 'moq_not_met'")
    assert moq_refunds > 0
    # The demo's one refund of the operator's hand is told; none of the refunds below minimum.
    manual = count("refunds", "reason = 'manual'")
    assert count("notifications", "kind = 'refund.created'") == manual
    assert count("notifications", "kind = 'wave.refunded'") == moq_refunds
