"""Community events on the pages, on both backends. On the demo's data: members see the
tasting, their state and check-in code (with its QR), pay for a held seat and wait in line;
a stranger sees nothing; the leader sees who signed up and checks members in at the counter
(typed, used and scanned codes). On a small world: the forms that create, publish, sign up,
cancel a sign-up and cancel an event."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import segno
from fastapi.testclient import TestClient

from tests.web.pages import alerts, form_of, rows, scalar
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import log_in as pages_log_in
from tuangou import demo
from tuangou.core import clock

PAID, SECOND, HELD, WAITING = (phone for phone, _ in demo.NEIGHBOURS[2:6])
LEADER = demo.LEADERS[2][0]


@pytest.fixture
def web(client: TestClient) -> TestClient:
    assert demo.load()["loaded"] is True
    return client


def tasting() -> tuple[int, int]:
    (row,) = rows("SELECT id, community_id FROM events WHERE title = :t", t=demo.EVENT_TITLE)
    return int(row[0]), int(row[1])


def code_of(phone: str, event_id: int) -> str:
    return str(
        scalar(
            "SELECT s.code FROM event_signups s JOIN users u ON u.id = s.user_id"
            " WHERE u.phone = :p AND s.event_id = :e",
            p=phone,
            e=event_id,
        )
    )


def test_the_demos_tasting_for_its_members_and_at_its_leaders_counter(web: TestClient) -> None:
    event_id, community_id = tasting()
    log_in(web, PAID)
    page = web.get(f"/c/{community_id}/events")
    assert page.status_code == 200 and demo.EVENT_TITLE in page.text
    assert f'href="/events/{event_id}"' in page.text
    page = web.get(f"/events/{event_id}")
    assert page.status_code == 200
    code = code_of(PAID, event_id)
    assert code in page.text and "<svg" in page.text  # the code, and its QR
    assert "¥9.90" in page.text and "候补" in page.text  # the fee; someone waits
    mine = web.get("/me/events")
    assert mine.status_code == 200 and demo.EVENT_TITLE in mine.text
    # The seat's order reads as the event's, in 我的订单 and on its page.
    order_id = scalar(
        "SELECT s.order_id FROM event_signups s JOIN users u ON u.id = s.user_id"
        " WHERE u.phone = :p AND s.event_id = :e",
        p=PAID,
        e=event_id,
    )
    assert demo.EVENT_TITLE in web.get(f"/orders/{order_id}").text
    assert demo.EVENT_TITLE in web.get("/orders").text
    # The held seat pays from the event page: to the sandbox's pay page.
    log_in(web, HELD)
    page = web.get(f"/events/{event_id}")
    assert f'action="/events/{event_id}/pay"' in page.text
    body = form_of(web, f"/events/{event_id}", "key", need_key=True)
    reply = web.post(f"/events/{event_id}/pay", data=body, follow_redirects=False)
    assert reply.status_code == 303, alerts(reply.text)
    assert reply.headers["location"].startswith("/pay/")
    # The one waiting sees their place in line, and no code.
    log_in(web, WAITING)
    page = web.get(f"/events/{event_id}")
    assert "候补第 1 位" in page.text and 'id="checkin-code"' not in page.text
    # A member of another community sees nothing of it.
    log_in(web, demo.MEMBERS[0][0])
    assert web.get(f"/events/{event_id}").status_code == 404
    # The leader: the community's events, the event's sign-ups, the counter.
    log_in(web, LEADER)
    page = web.get(f"/leader/communities/{community_id}/events")
    assert page.status_code == 200 and demo.EVENT_TITLE in page.text
    page = web.get(f"/leader/events/{event_id}")
    assert page.status_code == 200
    assert page.text.count('class="row"') >= 4  # two paid, one held, one waiting
    counter = f"/leader/events/{event_id}/checkin"
    page = web.get(counter)
    assert page.status_code == 200 and "/static/scan.js" in page.text
    code = code_of(PAID, event_id)
    reply = web.post(counter, data={**form_of(web, counter, "once"), "code": code})
    assert reply.status_code == 200 and 'data-result="ok"' in reply.text
    reply = web.post(counter, data={**form_of(web, counter, "once"), "code": code})
    assert 'data-result="bad"' in reply.text and "已签到" in reply.text
    reply = web.post(counter, data={**form_of(web, counter, "once"), "code": "000000"})
    assert 'data-result="bad"' in reply.text
    assert (
        scalar(
            "SELECT COUNT(*) FROM event_signups WHERE event_id = :e AND attended_at IS NOT NULL",
            e=event_id,
        )
        == 1
    )
    # A member of the community who does not manage it is refused the counter.
    log_in(web, SECOND)
    assert web.get(counter).status_code == 403
    # A photo of a member's QR at the counter (the scan), as the camera's script sends it.
    code = code_of(SECOND, event_id)
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="png", scale=8, border=4)
    log_in(web, LEADER)
    counter = f"/leader/events/{event_id}/checkin"
    reply = web.post(
        f"{counter}/scan",
        data=form_of(web, counter, "once", need_key=True),
        files={"image": ("frame.png", b"\x89PNG not really", "image/png")},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 200 and reply.json()["found"] is False
    reply = web.post(
        f"{counter}/scan",
        data=form_of(web, counter, "once", need_key=True),
        files={"image": ("frame.png", buffer.getvalue(), "image/png")},
        headers={"Accept": "application/json"},
    )
    assert reply.json() == {"found": True, "next": counter}
    page = web.get(counter)
    assert 'data-result="ok"' in page.text and f"签到码 {code}" in page.text
    assert (
        scalar(
            "SELECT COUNT(*) FROM event_signups s JOIN users u ON u.id = s.user_id"
            " WHERE u.phone = :p AND s.attended_at IS NOT NULL",
            p=SECOND,
        )
        == 1
    )


def test_the_forms_create_publish_sign_up_cancel_and_cancel_the_event(client: TestClient) -> None:
    """On a small world of its own (a leader, a community, a member), not the demo's."""
    from tests.communities import join, make_community, make_leader
    from tests.conftest import Api

    api = Api(client)
    leader = make_leader(api, api.operator(), "陈团长")
    community = make_community(api, leader)
    member = api.signup("吴姐")
    join(api, dict(member), community["invite_code"])
    phone_of = "SELECT phone FROM users WHERE id = :id"
    leader_phone = str(scalar(phone_of, id=int(leader["user_id"])))
    member_phone = str(scalar(phone_of, id=int(member["user_id"])))
    community_id = community["id"]
    web = client
    web.cookies.clear()
    pages_log_in(web, leader_phone)
    start = clock.to_local(clock.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    body = {
        **form_of(web, f"/leader/communities/{community_id}/events", "key", need_key=True),
        "title": "亲子手工课",
        "place": "翠湖苑会所",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "seats": "5",
        "fee": "0",
    }
    reply = web.post(
        f"/leader/communities/{community_id}/events", data=body, follow_redirects=False
    )
    assert reply.status_code == 303, alerts(reply.text)
    new = int(scalar("SELECT id FROM events WHERE title = '亲子手工课'"))
    assert reply.headers["location"] == f"/leader/events/{new}?done=created"
    page = web.get(reply.headers["location"])
    assert page.status_code == 200 and 'id="done"' in page.text
    reply = web.post(
        f"/leader/events/{new}/publish",
        data=form_of(web, f"/leader/events/{new}"),
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert scalar("SELECT status FROM events WHERE id = :id", id=new) == "published"
    web.cookies.clear()
    pages_log_in(web, member_phone)
    reply = web.post(
        f"/events/{new}/signup",
        data=form_of(web, f"/events/{new}", "key", need_key=True),
        follow_redirects=False,
    )
    assert reply.status_code == 303, alerts(reply.text)
    assert code_of(member_phone, new) in web.get(f"/events/{new}").text
    # Signed up, the page offers no sign-up; a stale form sent again is refused on the page.
    again = web.post(
        f"/events/{new}/signup",
        data={**form_of(web, f"/events/{new}"), "key": "another-tap"},
        follow_redirects=False,
    )
    assert again.status_code == 409 and alerts(again.text)
    reply = web.post(
        f"/events/{new}/cancel", data=form_of(web, f"/events/{new}"), follow_redirects=False
    )
    assert reply.status_code == 303
    assert scalar("SELECT taken FROM events WHERE id = :id", id=new) == 0
    # The leader cancels the event only with the box ticked.
    web.cookies.clear()
    pages_log_in(web, leader_phone)
    unticked = web.post(f"/leader/events/{new}/cancel", data=form_of(web, f"/leader/events/{new}"))
    assert unticked.status_code == 400 and alerts(unticked.text)
    reply = web.post(
        f"/leader/events/{new}/cancel",
        data={**form_of(web, f"/leader/events/{new}"), "confirm": "yes"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert scalar("SELECT status FROM events WHERE id = :id", id=new) == "cancelled"
