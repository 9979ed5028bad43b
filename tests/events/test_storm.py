"""The last seats under concurrency, on both backends: 60 members race for 10 seats at the
same instant; exactly 10 are seated and 50 wait in a strict order with no gaps, and the
counter equals the sign-ups that hold a seat."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from tests.conftest import audit_violations, rows
from tuangou import wiring
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction

RACERS = 60
SEATS = 10


def seed(n: int, *, fee: int = 0) -> tuple[int, list[int]]:
    """A published event of ``SEATS`` seats in a community of ``n`` members."""
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core import locks
    from tuangou.events import service as events

    def make(session: Any) -> tuple[int, list[int]]:
        locks.setup(session)
        boss = accounts.create_user(session, phone="13600000000", password=None, nickname="团长")
        leader = communities.apply(
            session,
            boss.id,
            communities.PickupPointInput(
                name="便利店", address="幸福里", latitude=31.2, longitude=121.4
            ),
        )
        op = accounts.create_user(
            session, phone="13500000000", password=None, nickname="运营", role="operator"
        )
        communities.approve_application(session, leader.id, operator_id=op.id)
        community = communities.create_community(session, boss.id, name="幸福里")
        members = []
        for i in range(n):
            user = accounts.create_user(
                session, phone=f"136{i + 1:08d}", password=None, nickname=f"员{i}"
            )
            communities.join_by_invite(session, community.invite_code, user.id)
            members.append(user.id)
        start = clock.now() + timedelta(days=1)
        event = events.create_event(
            session,
            user_id=boss.id,
            community_id=community.id,
            data=events.EventInput(
                title="品鉴会",
                description="",
                place="会所",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                seats=SEATS,
                fee=fee,
            ),
        )
        events.publish(session, user_id=boss.id, event_id=event.id)
        return event.id, members

    return run_in_transaction(make)


def race(event_id: int, members: list[int]) -> list[str]:
    from tuangou.events import service as events

    gate = threading.Barrier(len(members))

    def one(user_id: int) -> str:
        gate.wait()
        done = run_in_transaction(
            lambda s: events.sign_up(s, user_id=user_id, event_id=event_id).signup.status
        )
        return str(done)

    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        return list(pool.map(one, members))


def test_sixty_members_race_for_ten_seats(db_url: str) -> None:
    wiring.compose()
    event_id, members = seed(RACERS)
    outcomes = race(event_id, members)
    assert outcomes.count("signed_up") == SEATS
    assert outcomes.count("waitlisted") == RACERS - SEATS
    assert rows("SELECT seats, taken FROM events WHERE id = :id", id=event_id) == [(SEATS, SEATS)]
    from tuangou.events import service as events

    def positions(s: Any) -> list[tuple[int, int | None]]:
        return [(r.seq, events.position_of(s, r)) for r in events.signups(s, event_id)]

    found = read(positions)
    seqs = [seq for seq, _ in found]
    assert seqs == sorted(set(seqs))  # each sign-up its own place in line
    waiting = [p for _, p in found if p is not None]
    assert waiting == list(range(1, RACERS - SEATS + 1))  # a strict order, no gaps
    codes = rows("SELECT code FROM event_signups WHERE status = 'signed_up'")
    assert len({c for (c,) in codes}) == SEATS
    assert audit_violations() == []


def test_paid_seats_race_too(db_url: str) -> None:
    wiring.compose()
    event_id, members = seed(30, fee=1000)
    outcomes = race(event_id, members)
    assert outcomes.count("held") == SEATS
    assert outcomes.count("waitlisted") == 30 - SEATS
    assert rows("SELECT COUNT(*) FROM orders WHERE kind = 'event'") == [(SEATS,)]
    assert audit_violations() == []
