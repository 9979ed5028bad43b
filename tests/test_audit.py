"""The audit can fail: for each of invariants 1–5, a specific corruption is reported by the
check of that invariant.

Each corruption is made inside one transaction, the audit reads it there, and the transaction
is rolled back, so that the database's own guards (check constraints, the unique seat index)
can be lifted for the moment the fault is staged, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api import auth, world
from tests.conftest import Api, audit_violations, run_worker
from tuangou import audit
from tuangou.core import clock
from tuangou.core.db import new_session


@pytest.fixture
def state(api: Api) -> dict[str, Any]:
    """A little of everything: a completed order, a confirmed one, a failed team with its
    refund, and an open team with an unpaid seat."""
    w = world(api, 5, tiers=[[2, 1990]], window_hours=1)
    m = w.members
    cid = w.campaign["id"]
    # A team that fails: opened, paid, and nobody joins within the hour.
    failed = api.open(m[4], cid)
    clock.advance(timedelta(hours=2))
    run_worker()
    # A team that settles; one of its orders is shipped and received.
    opened = api.open(m[0], cid)
    settled_team = opened["team"]["id"]
    completed = opened["order"]["id"]
    confirmed = api.join(m[1], settled_team)["order"]["id"]
    ship = {"carrier": "顺丰", "tracking_no": "SF1"}
    assert api.c.post(
        f"/api/supplier/orders/{completed}/ship", json=ship, headers=w.supplier
    ).is_success
    assert api.c.post(f"/api/orders/{completed}/confirm-receipt", headers=auth(m[0])).is_success
    # An open team with one paid and one unpaid seat.
    open_team = api.open(m[2], cid)["team"]["id"]
    held = api.join(m[3], open_team, pay=False)["order"]["id"]
    run_worker()
    ids = {
        "campaign": cid,
        "sku": w.campaign["sku_id"],
        "supplier": w.supplier_id,
        "settled_team": settled_team,
        "open_team": open_team,
        "failed_team": failed["team"]["id"],
        "failed_order": failed["order"]["id"],
        "completed": completed,
        "confirmed": confirmed,
        "held": held,
        "outsider": int(api.signup("路人")["user_id"]),
        "m1": int(m[1]["user_id"]),
    }
    assert api.team(settled_team)["status"] == "settled"
    assert api.team(ids["failed_team"])["status"] == "failed"
    assert api.team(open_team)["status"] == "open"
    assert audit_violations() == []
    return ids


@contextmanager
def staged(*, lift_checks: tuple[tuple[str, str], ...] = ()) -> Iterator[Session]:
    """A transaction to stage a fault in, rolled back afterwards; ``lift_checks`` are
    (table, constraint) check constraints to lift for it."""
    session = new_session()
    sqlite = session.get_bind().dialect.name == "sqlite"
    try:
        if lift_checks:
            if sqlite:
                session.execute(text("PRAGMA ignore_check_constraints = ON"))
            else:
                for table, name in lift_checks:
                    session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        yield session
    finally:
        session.rollback()
        if lift_checks and sqlite:
            session.execute(text("PRAGMA ignore_check_constraints = OFF"))
            session.commit()
        session.close()


def _report(session: Session, invariant: int) -> list[str]:
    checks = {c.invariant: c for c in audit.run(session)}
    assert set(checks) == {1, 2, 3, 4, 5}
    return checks[invariant].violations


def _sql(session: Session, sql: str, **params: Any) -> None:
    session.execute(text(sql), params)


def _reported(violations: list[str], *parts: str) -> bool:
    return any(all(p in v for p in parts) for v in violations)


Lift = tuple[tuple[str, str], ...]
Stage = Callable[[Session, dict[str, Any]], list[tuple[str, ...]]]
CASES: list[tuple[int, str, Lift, Stage]] = []


def case(invariant: int, *, lift: Lift = ()) -> Callable[[Stage], Stage]:
    """A corruption that the check of ``invariant`` must report. The function stages it and
    returns the parts of each violation message expected."""

    def register(stage: Stage) -> Stage:
        CASES.append((invariant, stage.__name__, lift, stage))
        return stage

    return register


# ---------------------------------------------------------------- 1. no oversell


@case(1, lift=(("team_campaigns", "ck_team_campaigns_no_oversell"),))
def oversold_campaign(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE team_campaigns SET sold = stock + 1 WHERE id = :c", c=st["campaign"])
    return [(f"campaign {st['campaign']}:", "> stock")]


@case(1)
def held_counter_out_of_step(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE team_campaigns SET held = held + 1 WHERE id = :c", c=st["campaign"])
    return [(f"campaign {st['campaign']}: held 2", "unpaid orders hold 1")]


@case(1)
def sold_counter_out_of_step(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE orders SET status = 'cancelled' WHERE id = :o", o=st["confirmed"])
    return [(f"campaign {st['campaign']}: sold 3", "orders sold 2")]


@case(1)
def reservation_counter_out_of_step(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE team_campaigns SET reserved = reserved + 1 WHERE id = :c", c=st["campaign"])
    return [(f"campaign {st['campaign']}: reserved", "but its teams reserve")]


@case(1)
def settled_team_still_reserving(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE teams SET reserved = reserved + 1 WHERE id = :t", t=st["settled_team"])
    return [(f"team {st['settled_team']}: settled but still reserves 1",)]


@case(1, lift=(("skus", "ck_skus_allocated_within_stock"),))
def sku_over_allocated(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE skus SET allocated = stock + 1 WHERE id = :k", k=st["sku"])
    return [(f"sku {st['sku']}: allocated",)]


# ---------------------------------------------------------------- 2. seats


def _extra_seat(s: Session, team: int, user: int, order: int) -> None:
    _sql(
        s,
        """INSERT INTO team_seats (team_id, user_id, order_id, status, is_opener, joined_at)
           VALUES (:t, :u, :o, 'paid', :f, :now)""",
        t=team,
        u=user,
        o=order,
        f=False,
        now=clock.now(),
    )


@case(2)
def member_with_two_seats(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "DROP INDEX uq_team_seats_live")  # the database's own guard, lifted
    _extra_seat(s, st["settled_team"], st["m1"], 999001)
    return [(f"team {st['settled_team']}: member {st['m1']} holds 2",)]


@case(2)
def team_over_max_size(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _extra_seat(s, st["settled_team"], st["outsider"], 999002)
    return [(f"team {st['settled_team']}: 3 seats taken, max 2",)]


@case(2)
def paid_counter_out_of_step(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE teams SET paid_count = 0 WHERE id = :t", t=st["open_team"])
    return [(f"team {st['open_team']}: counter says 0 paid, 1 seats paid",)]


# ---------------------------------------------------------------- 3. settle once, refund once


@case(3)
def team_past_deadline_unsettled(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(
        s,
        "UPDATE teams SET deadline = :d WHERE id = :t",
        d=clock.now() - timedelta(days=1),  # well past any grace the worker has
        t=st["open_team"],
    )
    return [(f"team {st['open_team']}: past its deadline",)]


@case(3)
def order_unsettled_after_settlement(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE orders SET status = 'paid' WHERE id = :o", o=st["confirmed"])
    return [(f"order {st['confirmed']} left paid after settlement",)]


@case(3)
def refunded_twice_for_one_reason(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(
        s,
        """INSERT INTO refunds (key, order_id, user_id, amount, reason, note, funded_by,
                                status, created_at)
           SELECT 'again', order_id, user_id, 1, reason, '', funded_by, 'pending', created_at
           FROM refunds WHERE order_id = :o""",
        o=st["failed_order"],
    )
    return [(f"order {st['failed_order']}: refunded 2 times for team_failed",)]


@case(3)
def refunds_beyond_paid(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE refunds SET amount = amount + 10 WHERE order_id = :o", o=st["failed_order"])
    return [(f"order {st['failed_order']}: refunded 2000 > paid 1990",)]


# ---------------------------------------------------------------- 4. order money


@case(4)
def kept_is_not_the_final_price(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE orders SET final_unit_price = 1890 WHERE id = :o", o=st["confirmed"])
    return [(f"order {st['confirmed']}: kept 1990, expected final 1890",)]


@case(4)
def paid_without_a_payment(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE payments SET status = 'failed' WHERE order_id = :o", o=st["confirmed"])
    return [(f"order {st['confirmed']}: paid_amount 1990, successful payments 0",)]


@case(4)
def failed_order_keeps_money(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE orders SET refunded_amount = 1000 WHERE id = :o", o=st["failed_order"])
    return [(f"order {st['failed_order']}: refunded", "keeps 990")]


# ---------------------------------------------------------------- 5. the journal


def _transfer(session: Session, tid: str, order: int | None, legs: list[tuple[str, int]]) -> None:
    _sql(
        session,
        """INSERT INTO ledger_transfers (id, kind, order_id, memo, created_at)
           VALUES (:t, 'staged', :o, '', :now)""",
        t=tid,
        o=order,
        now=clock.now(),
    )
    for account, amount in legs:
        _sql(
            session,
            """INSERT INTO ledger_entries (transfer_id, account, order_id, amount)
               VALUES (:t, :a, :o, :m)""",
            t=tid,
            a=account,
            o=order,
            m=amount,
        )


@case(5)
def unbalanced_transfer(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    transfer = s.execute(text("SELECT MIN(id) FROM ledger_transfers")).scalar()
    _sql(
        s,
        """INSERT INTO ledger_entries (transfer_id, account, order_id, amount)
           VALUES (:t, 'gateway', NULL, 1)""",
        t=transfer,
    )
    return [("all entries sum to 1",), (f"transfer {transfer} sums to 1",)]


@case(5)
def escrow_out_of_step(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _transfer(s, "staged:escrow", st["confirmed"], [("escrow", -100), ("platform_revenue", 100)])
    return [(f"order {st['confirmed']}: escrow holds 1890, orders say 1990",)]


@case(5)
def supplier_payable_negative(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    account = f"supplier_payable:{st['supplier']}"
    _transfer(s, "staged:payout", None, [(account, -5000), ("gateway", 5000)])
    return [(f"account {account} is negative (-3010)",)]


@case(5)
def refund_sent_but_unrecorded(s: Session, st: dict[str, Any]) -> list[tuple[str, ...]]:
    _sql(s, "UPDATE refunds SET status = 'pending' WHERE order_id = :o", o=st["failed_order"])
    return [("refunds account 0 ≠ refunds not yet sent 1990",)]


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("invariant", [1, 2, 3, 4, 5])
def test_audit_reports_each_corruption(state: dict[str, Any], invariant: int) -> None:
    cases = [c for c in CASES if c[0] == invariant]
    assert len(cases) >= 2
    for _, name, lift, stage in cases:
        with staged(lift_checks=lift) as session:
            expected = stage(session, state)
            found = _report(session, invariant)
        for parts in expected:
            assert _reported(found, *parts), (name, parts, found)
        # Rolled back: the next case starts from a consistent database.
        assert audit_violations() == [], name


def test_staged_faults_are_rolled_back(state: dict[str, Any]) -> None:
    from sqlalchemy.exc import IntegrityError

    from tests.api import execute

    with staged(lift_checks=(("team_campaigns", "ck_team_campaigns_no_oversell"),)) as s:
        _sql(s, "UPDATE team_campaigns SET sold = stock + 1")
        assert _report(s, 1)
    assert audit_violations() == []
    # The lifted guard is back.
    with pytest.raises(IntegrityError):
        execute("UPDATE team_campaigns SET sold = stock + 1")
