"""Community events over the API, on both backends: every rule and refusal of the leader's
event, sign-up and its waitlist, paid seats, check-in, reminders and cancellation."""

from __future__ import annotations

from datetime import timedelta

from tests.communities import auth, inbox, refused
from tests.conftest import Api, audit_violations, rows, run_worker
from tests.events import holding, make_world, seats_row
from tuangou.core import clock
from tuangou.points.rules import DEFAULT_EVENT_POINTS


def test_a_free_event_seats_members_then_waitlists_them_in_order(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=2)
    a, b, c, d = (w.member(n) for n in ("甲", "乙", "丙", "丁"))
    for who in (a, b):
        r = w.sign_up(who, event["id"])
        assert r.status_code == 200, r.text
        assert r.json()["signup"]["status"] == "signed_up"
        assert len(r.json()["signup"]["code"]) == 6
        assert r.json()["payment"] is None
    for n, who in enumerate((c, d), start=1):
        r = w.sign_up(who, event["id"])
        assert r.status_code == 200, r.text
        assert r.json()["signup"]["status"] == "waitlisted"
        assert r.json()["signup"]["position"] == n
        assert r.json()["signup"]["code"] is None
    seen = w.get(d, event["id"])
    assert (seen["seats_left"], seen["waitlist"], seen["mine"]["position"]) == (0, 2, 2)
    assert seats_row(event["id"]) == (2, 2) and holding(event["id"]) == 2
    refused(w.sign_up(a, event["id"]), 409, "already_signed_up")
    run_worker()
    assert any(m["kind"] == "event.signed_up" for m in inbox(api, a))
    assert audit_violations() == []


def test_a_cancellation_promotes_the_next_in_line_who_is_told(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=1)
    a, b, c = w.member("甲"), w.member("乙"), w.member("丙")
    for who in (a, b, c):
        assert w.sign_up(who, event["id"]).status_code == 200
    r = w.cancel(a, event["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert w.get(b, event["id"])["mine"]["status"] == "signed_up"
    assert w.get(b, event["id"])["mine"]["code"]
    assert w.get(c, event["id"])["mine"]["position"] == 1
    refused(w.cancel(a, event["id"]), 409, "not_signed_up")
    run_worker()
    promoted = [m for m in inbox(api, b) if m["kind"] == "event.promoted"]
    assert len(promoted) == 1 and "草莓品鉴会" in promoted[0]["body"]
    assert not [m for m in inbox(api, c) if m["kind"] == "event.promoted"]
    # A member who cancelled may sign up again: at the end of the line.
    r = w.sign_up(a, event["id"])
    assert r.json()["signup"] == {**r.json()["signup"], "status": "waitlisted", "position": 2}
    assert audit_violations() == []


def test_not_a_member_sees_no_event_and_cannot_sign_up(api: Api) -> None:
    w = make_world(api)
    event = w.create()
    stranger = dict(api.signup("路人"))
    refused(w.sign_up(stranger, event["id"]), 404, "event_not_found")
    r = api.c.get(f"/api/events/{event['id']}", headers=auth(stranger))
    refused(r, 404, "event_not_found")
    r = api.c.get(f"/api/communities/{w.community['id']}/events", headers=auth(stranger))
    assert r.status_code == 404
    # The operator sees it.
    assert api.c.get(f"/api/events/{event['id']}", headers=w.op).status_code == 200
    assert rows("SELECT COUNT(*) FROM event_signups") == [(0,)]


def test_drafts_are_for_managers_and_open_no_sign_up(api: Api) -> None:
    w = make_world(api)
    draft = w.create(publish=False)
    m = w.member()
    refused(api.c.get(f"/api/events/{draft['id']}", headers=auth(m)), 404, "event_not_found")
    listed = api.c.get(f"/api/communities/{w.community['id']}/events", headers=auth(m)).json()
    assert listed == []
    refused(w.sign_up(m, draft["id"]), 404, "event_not_found")
    mine = api.c.get(f"/api/communities/{w.community['id']}/events", headers=auth(w.leader))
    assert [e["status"] for e in mine.json()] == ["draft"]
    # A member cannot manage it.
    r = api.c.post(f"/api/leader/events/{draft['id']}/publish", headers=auth(m))
    refused(r, 403, "not_event_manager")


def test_the_leaders_input_is_checked_and_a_refusal_changes_nothing(api: Api) -> None:
    w = make_world(api)
    url = f"/api/leader/communities/{w.community['id']}/events"
    start = clock.now() + timedelta(days=1)
    good = {
        "title": "亲子手工课",
        "place": "会所",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "seats": 5,
    }
    bad = [
        {"seats": 0},
        {"seats": 1001},
        {"fee": -1},
        {"ends_at": (start - timedelta(hours=1)).isoformat()},
        {"starts_at": (clock.now() - timedelta(hours=1)).isoformat()},
        {"closes_at": (start + timedelta(minutes=1)).isoformat()},
        {"title": "  "},
    ]
    for change in bad:
        r = api.c.post(url, json={**good, **change}, headers=auth(w.leader))
        assert r.status_code == 422, (change, r.text)
    assert rows("SELECT COUNT(*) FROM events") == [(0,)]
    m = w.member()
    r = api.c.post(url, json=good, headers=auth(m))
    refused(r, 403, "not_community_manager")
    r = api.c.post(url, json=good, headers=auth(w.leader))
    assert r.status_code == 201, r.text
    assert r.json()["closes_at"] == r.json()["starts_at"]  # sign-up closes at the start


def test_seats_cannot_go_below_those_taken_and_more_seats_seat_the_waitlist(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=2)
    members = [w.member(f"员{i}") for i in range(4)]
    for who in members:
        w.sign_up(who, event["id"])
    url = f"/api/leader/events/{event['id']}"
    r = api.c.patch(url, json={"seats": 1}, headers=auth(w.leader))
    refused(r, 409, "event_seats_below_taken")
    assert seats_row(event["id"]) == (2, 2)
    r = api.c.patch(url, json={"seats": 3}, headers=auth(w.leader))
    assert r.status_code == 200, r.text
    assert (r.json()["taken"], r.json()["waitlist"]) == (3, 1)
    assert w.get(members[2], event["id"])["mine"]["status"] == "signed_up"
    assert w.get(members[3], event["id"])["mine"]["position"] == 1
    r = api.c.patch(url, json={"fee": 500}, headers=auth(w.leader))
    refused(r, 409, "event_fee_locked")


def test_sign_up_closes_at_its_time(api: Api) -> None:
    w = make_world(api)
    start = clock.now() + timedelta(days=1)
    event = w.create(
        closes_at=(start - timedelta(hours=12)).isoformat(), start_in=timedelta(days=1)
    )
    a, b = w.member("甲"), w.member("乙")
    assert w.sign_up(a, event["id"]).status_code == 200
    clock.advance(timedelta(hours=13))
    refused(w.sign_up(b, event["id"]), 409, "signup_closed")
    refused(w.cancel(a, event["id"]), 409, "signup_closed")
    assert holding(event["id"]) == 1


def test_check_in_valid_used_foreign_and_cancelled(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=1)
    other = w.create(title="另一场")
    a, b = w.member("甲"), w.member("乙")
    code = w.sign_up(a, event["id"]).json()["signup"]["code"]
    w.sign_up(b, event["id"])  # waitlisted
    other_code = w.sign_up(b, other["id"]).json()["signup"]["code"]
    r = w.check_in(event["id"], code)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == a["user_id"]
    used = w.check_in(event["id"], f" {code[:3]}-{code[3:]} ")
    refused(used, 409, "checkin_code_used")
    assert used.json()["attended_at"] == r.json()["attended_at"]
    if other_code != code:
        refused(w.check_in(event["id"], other_code), 404, "checkin_code_invalid")
    refused(w.check_in(event["id"], "12ab"), 404, "checkin_code_invalid")
    # A member's own code, then cancelled: not signed up.
    w.cancel(b, other["id"])
    refused(w.check_in(other["id"], other_code), 409, "not_signed_up")
    # A member cannot check anyone in.
    refused(w.check_in(event["id"], code, who=b), 403, "not_event_manager")
    att = api.c.get(f"/api/leader/events/{event['id']}/attendees", headers=auth(w.leader))
    assert [(x["name"] != "", x["status"], x["attended_at"] is not None) for x in att.json()] == [
        (True, "signed_up", True),
        (True, "waitlisted", False),
    ]
    from tuangou.core.db import read
    from tuangou.events import service as events

    assert [u for u, _ in read(lambda s: events.attendance_of(s, event["id"]))] == [a["user_id"]]
    assert rows("SELECT COUNT(*) FROM outbox_events WHERE topic = 'event.attended'") == [(1,)]
    # Attending earned the member points, once however often the worker runs.
    run_worker()
    run_worker()
    balance = api.c.get("/api/me/points", headers=auth(a)).json()["balance"]
    assert balance == DEFAULT_EVENT_POINTS


def test_reminders_go_once_per_member_before_the_start(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=2, start_in=timedelta(hours=5))
    a, b, c = w.member("甲"), w.member("乙"), w.member("丙")
    for who in (a, b, c):
        w.sign_up(who, event["id"])
    run_worker()
    assert not [m for m in inbox(api, a) if m["kind"] == "event.reminder"]
    clock.advance(timedelta(hours=3, minutes=30))
    run_worker()
    run_worker()
    for who, told in ((a, 1), (b, 1), (c, 0)):
        assert len([m for m in inbox(api, who) if m["kind"] == "event.reminder"]) == told
    assert rows("SELECT COUNT(*) FROM event_signups WHERE reminded_at IS NOT NULL") == [(2,)]


def test_the_audit_sees_a_seat_counter_that_lies(api: Api) -> None:
    w = make_world(api)
    event = w.create(seats=3)
    w.sign_up(w.member(), event["id"])
    assert audit_violations() == []
    from tests.api import execute

    execute("UPDATE events SET taken = taken + 1 WHERE id = :id", id=event["id"])
    found = audit_violations()
    assert any(f"event {event['id']}" in v for v in found), found
