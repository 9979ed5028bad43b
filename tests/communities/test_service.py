"""The service functions other domains call, and races, on both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.communities import POINT, count, rows, state
from tuangou.accounts import service as accounts
from tuangou.communities import errors
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError, InvalidInput

_phones = iter(range(10**6))


def _user(session: Session, nickname: str = "团员", role: str = "member") -> int:
    phone = f"136{next(_phones):08d}"
    return accounts.create_user(
        session, phone=phone, password=None, nickname=nickname, role=role
    ).id


def _point(**kw: Any) -> communities.PickupPointInput:
    return communities.PickupPointInput(**{**POINT, **kw})


def _leader(nickname: str = "团长") -> tuple[int, int]:
    """(user id, leader id) of a freshly approved leader."""

    def work(session: Session) -> tuple[int, int]:
        op = _user(session, "运营", "operator")
        uid = _user(session, nickname)
        application = communities.apply(session, uid, _point())
        approval = communities.approve_application(session, application.id, operator_id=op)
        return uid, approval.leader.id

    return run_in_transaction(work)


def _race(fns: list[Callable[[], Any]]) -> list[Any]:
    """Run the functions at once; each result is its return value or the error it raised."""
    barrier = threading.Barrier(len(fns))
    results: list[Any] = [None] * len(fns)

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fns[i]()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_the_functions_waves_call(db: str) -> None:
    uid, lid = _leader("李阿姨")

    def work(session: Session) -> None:
        member = _user(session, "王大爷")
        outsider = _user(session, "路人")
        leader = communities.get_leader_by_user(session, uid)
        assert leader.id == lid
        assert communities.require_publishing_leader(session, uid).id == lid
        with pytest.raises(errors.NotALeader) as exc:
            communities.get_leader_by_user(session, member)
        assert (exc.value.code, exc.value.status) == ("not_a_leader", 403)
        with pytest.raises(errors.NotALeader):
            communities.require_publishing_leader(session, member)

        points = communities.pickup_points_of(session, lid)
        assert [p.name for p in points] == [POINT["name"]]
        assert communities.get_pickup_point(session, points[0].id).leader_id == lid
        assert communities.require_own_pickup_point(session, lid, points[0].id) is points[0]
        with pytest.raises(errors.PickupPointNotFound):
            communities.get_pickup_point(session, points[0].id + 99)

        c = communities.create_community(session, uid, name="幸福里", rules_text="群规")
        assert communities.get_community(session, c.id) is c
        with pytest.raises(errors.CommunityNotFound):
            communities.get_community(session, c.id + 99)
        assert communities.is_member(session, c.id, uid)  # the leader belongs to it
        assert not communities.is_member(session, c.id, member)
        m, new = communities.join_by_invite(session, c.invite_code, member, rules_version=1)
        assert new and m.role == "member"
        assert communities.is_member(session, c.id, member)
        assert [x.id for x in communities.communities_of(session, member)] == [c.id]
        assert communities.communities_of(session, outsider) == []

        assert communities.assert_can_manage(session, uid, c.id) is c
        with pytest.raises(errors.NotCommunityManager) as mgr:
            communities.assert_can_manage(session, member, c.id)
        assert (mgr.value.code, mgr.value.status) == ("not_community_manager", 403)
        communities.set_admin(session, uid, c.id, member, admin=True)
        assert communities.assert_can_manage(session, member, c.id) is c

        paused = communities.set_leader_status(session, lid, "paused", "信用分过低")
        assert (paused.status, paused.paused_reason) == ("paused", "信用分过低")
        with pytest.raises(errors.LeaderPaused) as p:
            communities.require_publishing_leader(session, uid)
        assert (p.value.code, p.value.status) == ("leader_paused", 403)
        assert communities.get_leader_by_user(session, uid).id == lid  # still a leader
        with pytest.raises(InvalidInput):
            communities.set_leader_status(session, lid, "banned", "x")
        with pytest.raises(InvalidInput):
            communities.set_leader_status(session, lid, "paused", "")
        assert communities.set_leader_status(session, lid, "active", "").status == "active"
        assert communities.upline(session, lid) == []
        with pytest.raises(errors.LeaderNotFound):
            communities.upline(session, lid + 99)

    run_in_transaction(work)
    topics = [t for (t,) in rows("SELECT topic FROM outbox_events ORDER BY created_at")]
    assert topics.count("leader.paused") == 1 and topics.count("leader.resumed") == 1


def test_two_operators_approving_at_once_make_one_leader(db: str) -> None:
    def setup(session: Session) -> tuple[list[int], int]:
        ops = [_user(session, "运营", "operator") for _ in range(4)]
        application = communities.apply(session, _user(session, "李阿姨"), _point())
        return ops, application.id

    ops, app_id = run_in_transaction(setup)

    def approve(op: int) -> Callable[[], int]:
        return lambda: run_in_transaction(
            lambda s: communities.approve_application(s, app_id, operator_id=op).leader.id
        )

    results = _race([approve(op) for op in ops])
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1, results
    assert [e.code for e in lost] == ["application_decided"] * 3
    assert count("leaders") == 1 and count("pickup_points") == 1
    assert count("outbox_events", "topic = 'leader.approved'") == 1
    (decided_by,) = rows("SELECT decided_by FROM leader_applications")[0]
    assert decided_by in ops


def _invite(user_id: int, leader_id: int) -> int:
    return run_in_transaction(lambda s: communities.invite_sub_leader(s, user_id, leader_id).id)


def test_acceptances_racing_cannot_build_a_third_level(db: str) -> None:
    """b accepts a's invitation while c accepts b's, many times: at most one of each pair
    succeeds, and the database never holds three levels."""
    for _ in range(6):
        (ua, _), (ub, b), (uc, c) = _leader("甲"), _leader("乙"), _leader("丙")
        to_b, to_c = (_invite(u, x) for u, x in ((ua, b), (ub, c)))

        def accept(user_id: int, invitation_id: int) -> Callable[[], int]:
            return lambda: run_in_transaction(
                lambda s: communities.accept_invitation(s, user_id, invitation_id)[1].id
            )

        results = _race([accept(ub, to_b), accept(uc, to_c)])
        assert sum(isinstance(r, int) for r in results) == 1, results
        assert [r.code for r in results if isinstance(r, DomainError)] == ["third_level_refused"]
    depth3 = rows(
        "SELECT COUNT(*) FROM leaders x JOIN leaders y ON x.parent_leader_id = y.id"
        " WHERE y.parent_leader_id IS NOT NULL"
    )
    assert depth3 == [(0,)]


def test_accepting_twice_at_once_makes_one_link(db: str) -> None:
    (ua, _), (ub, b) = _leader("甲"), _leader("乙")
    invitation = run_in_transaction(lambda s: communities.invite_sub_leader(s, ua, b).id)

    def accept() -> int:
        return run_in_transaction(lambda s: communities.accept_invitation(s, ub, invitation)[1].id)

    results = _race([accept for _ in range(4)])
    assert len(set(results)) == 1 and all(isinstance(r, int) for r in results), results
    assert count("sub_leader_links", "leader_id = :b", b=b) == 1
    assert count("outbox_events", "topic = 'leader.invitation_accepted'") == 1


def test_joining_twice_at_once_makes_one_membership(db: str) -> None:
    uid, _ = _leader()

    def setup(session: Session) -> tuple[str, int]:
        c = communities.create_community(session, uid, name="群")
        return c.invite_code, _user(session)

    code, member = run_in_transaction(setup)

    def join() -> bool:
        return run_in_transaction(lambda s: communities.join_by_invite(s, code, member)[1])

    results = _race([join for _ in range(6)])
    assert sorted(results) == [False] * 5 + [True]
    assert count("community_members", "user_id = :u", u=member) == 1


def test_a_refused_service_call_changes_nothing(db: str) -> None:
    uid, lid = _leader()
    before = state()
    for fn in (
        lambda s: communities.apply(s, uid, _point()),  # already a leader
        lambda s: communities.add_pickup_point(s, uid, _point(longitude=200.0)),
        lambda s: communities.add_pickup_point(s, uid, _point(latitude=float("nan"))),
        lambda s: communities.create_community(s, uid, name=" "),
        lambda s: communities.set_leader_status(s, lid, "paused", " "),
    ):
        with pytest.raises(DomainError):
            run_in_transaction(fn)
        assert state() == before
    with unit_of_work(readonly=True) as session:
        assert communities.get_leader(session, lid).status == "active"
