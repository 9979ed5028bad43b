"""Leaderboard pages: a community's board with my rank (a tab of the community's pages),
and the leader's monthly award: last month's top, choose, confirm, once."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.leaderboards.support import ActionKind, act, at_local
from tests.pools.support import seed_operator
from tests.web.pages import account, form_of, log_in, log_out, post, scalar
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import run_in_transaction


def _community(client: TestClient) -> dict[str, Any]:
    leader = account(client, "13900000001", nickname="王团长")
    operator_id = seed_operator().user_id

    def work(db: Any) -> dict[str, Any]:
        application = communities.apply(
            db,
            leader,
            communities.PickupPointInput(
                name="幸福里自提点", address="幸福里 3 栋", latitude=31.2, longitude=121.4
            ),
        )
        communities.approve_application(db, application.id, operator_id=operator_id)
        c = communities.create_community(db, leader, name="幸福里")
        return {"leader": leader, "id": c.id, "invite": c.invite_code}

    found = run_in_transaction(work)
    from tuangou.accounts import service as accounts

    for i, name in enumerate(("李阿姨", "张大爷", "赵阿姨", "钱叔叔"), start=2):
        phone = f"1390000000{i}"
        if name == "张大爷":  # the one who logs in
            uid = account(client, phone, nickname=name)
        else:  # no password: no slow hashing
            uid = run_in_transaction(
                lambda db, p=phone, n=name: (
                    accounts.create_user(db, phone=p, password=None, nickname=n).id
                )
            )
        run_in_transaction(lambda db, u=uid: communities.join_by_invite(db, found["invite"], u))
        found[name] = uid
    return found


def _as(client: TestClient, phone: str) -> None:
    log_out(client)
    log_in(client, phone)


def test_the_board_and_the_leaders_award(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: at_local(date(2026, 11, 25)))
    c = _community(client)
    cid = c["id"]
    li, zhang, zhao, qian = (c[n] for n in ("李阿姨", "张大爷", "赵阿姨", "钱叔叔"))
    act(cid, li, ActionKind.INVITE, at_local(date(2026, 11, 20)))  # 5
    act(cid, zhang, ActionKind.EVENT, at_local(date(2026, 11, 21)))  # 3
    act(cid, zhao, ActionKind.HELP, at_local(date(2026, 11, 22)))  # 2
    act(cid, qian, ActionKind.REVIEW_LIKED, at_local(date(2026, 11, 23)))  # 1, 4th
    monkeypatch.setattr(clock, "now", lambda: at_local(date(2026, 12, 3)))  # November final
    act(cid, zhang, ActionKind.HELP, at_local(date(2026, 12, 2)))  # this week and month

    _as(client, "13900000003")  # 张大爷
    page = client.get(f"/communities/{cid}/leaderboard?period=month&at=2026-11")
    assert page.status_code == 200
    ranks = re.findall(r'<span class="badge">(\d+)</span>', page.text)
    assert ranks == ["1", "2", "3", "4"]
    assert page.text.count('class="row current"') == 1
    assert "2026-11-01" in page.text and "2026-11-30" in page.text
    week = client.get(f"/communities/{cid}/leaderboard")
    assert week.status_code == 200 and week.text.count('class="row current"') == 1
    # The award is the leader's.
    assert client.get(f"/leader/communities/{cid}/leaderboard/award").status_code == 403
    log_out(client)
    account(client, "13900000009", nickname="外人")
    _as(client, "13900000009")
    assert client.get(f"/communities/{cid}/leaderboard").status_code == 404

    _as(client, "13900000001")
    url = f"/leader/communities/{cid}/leaderboard/award"
    html = client.get(url).text
    assert sorted(map(int, re.findall(r'name="member" value="(\d+)"', html))) == sorted(
        [li, zhang, zhao]
    )  # the top 3 (the default N), not the 4th
    body = form_of(client, url, "idem", need_key=True)
    chosen = {**body, "member": [li, zhang], "points": "100"}
    confirm = client.post(url, data=chosen, follow_redirects=False)
    assert confirm.status_code == 200 and 'name="confirmed" value="1"' in confirm.text
    done = client.post(url, data={**chosen, "confirmed": "1"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=awarded")
    twice = client.post(url, data={**chosen, "confirmed": "1"}, follow_redirects=False)
    assert twice.status_code == 303  # the same one-time key: the same answer, once
    late = {"idem": "another", "member": [zhao], "points": "50", "confirmed": "1"}
    again = post(client, url, late, form_page=f"/leader/communities/{cid}")
    assert again.status_code == 400
    balances = [
        scalar("SELECT balance FROM points_balances WHERE user_id = :u", u=u) for u in (li, zhang)
    ]
    assert balances == [100, 100]
    assert scalar("SELECT COUNT(*) FROM board_awards WHERE community_id = :c", c=cid) == 1
    assert "100" in client.get(url).text


def test_a_neighbour_marks_a_review_helpful_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.leaderboards.test_feeds import review_of

    monkeypatch.setattr(clock, "now", lambda: at_local(date(2026, 11, 25)))
    c = _community(client)
    rid = review_of(c["李阿姨"], c["id"])
    _as(client, "13900000003")  # 张大爷
    page = client.get(f"/reviews/{rid}")
    assert (
        page.status_code == 200
        and "disabled" not in page.text.split(f"/reviews/{rid}/like")[1][:400]
    )
    for _ in range(2):
        done = post(client, f"/reviews/{rid}/like", form_page=f"/reviews/{rid}")
        assert done.status_code == 303
    assert scalar("SELECT likes FROM reviews WHERE id = :r", r=rid) == 1
    assert scalar("SELECT COUNT(*) FROM outbox_events WHERE topic = 'review.liked'") == 1
    again = client.get(f"/reviews/{rid}").text
    assert "disabled" in again.split(f"/reviews/{rid}/like")[1][:400]
