"""The audit can fail: for each of invariants 1–5, a specific corruption is reported by the
check of that invariant.

Each corruption is made inside one transaction, the audit reads it there, and the transaction
is rolled back, so that the database's own guards (check constraints, the unique seat index)
can be lifted for the moment the fault is staged, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api import auth, scalar, world
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


# ---------------------------------------------------------------- 1. no oversell


def test_1_oversold_campaign(state: dict[str, Any]) -> None:
    with staged(lift_checks=(("team_campaigns", "ck_team_campaigns_no_oversell"),)) as s:
        _sql(s, "UPDATE team_campaigns SET sold = stock + 1 WHERE id = :c", c=state["campaign"])
        found = _report(s, 1)
    assert _reported(found, f"campaign {state['campaign']}:", "> stock"), found


def test_1_held_counter_out_of_step_with_unpaid_orders(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "UPDATE team_campaigns SET held = held + 1 WHERE id = :c", c=state["campaign"])
        found = _report(s, 1)
    assert _reported(found, f"campaign {state['campaign']}: held 2", "unpaid orders hold 1"), found


def test_1_sold_counter_out_of_step_with_orders(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "UPDATE orders SET status = 'cancelled' WHERE id = :o", o=state["confirmed"])
        found = _report(s, 1)
    assert _reported(found, f"campaign {state['campaign']}: sold 3", "orders sold 2"), found


def test_1_sku_allocated_beyond_its_stock(state: dict[str, Any]) -> None:
    with staged(lift_checks=(("skus", "ck_skus_allocated_within_stock"),)) as s:
        _sql(s, "UPDATE skus SET allocated = stock + 1 WHERE id = :k", k=state["sku"])
        found = _report(s, 1)
    assert _reported(found, f"sku {state['sku']}: allocated"), found


# ---------------------------------------------------------------- 2. seats


def test_2_a_member_with_two_seats(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "DROP INDEX uq_team_seats_live")
        _sql(
            s,
            """INSERT INTO team_seats (team_id, user_id, order_id, status, is_opener, joined_at)
               VALUES (:t, :u, 999001, 'paid', :f, :now)""",
            t=state["settled_team"],
            u=state["m1"],
            f=False,
            now=clock.now(),
        )
        found = _report(s, 2)
    assert _reported(found, f"team {state['settled_team']}: member {state['m1']} holds 2"), found


def test_2_team_over_its_max_size(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(
            s,
            """INSERT INTO team_seats (team_id, user_id, order_id, status, is_opener, joined_at)
               VALUES (:t, :u, 999002, 'paid', :f, :now)""",
            t=state["settled_team"],
            u=state["outsider"],
            f=False,
            now=clock.now(),
        )
        found = _report(s, 2)
    assert _reported(found, f"team {state['settled_team']}: 3 seats taken, max 2"), found


def test_2_paid_counter_out_of_step_with_seats(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "UPDATE teams SET paid_count = 0 WHERE id = :t", t=state["open_team"])
        found = _report(s, 2)
    assert _reported(found, f"team {state['open_team']}: counter says 0 paid, 1 seats paid"), found


# ---------------------------------------------------------------- 3. settle once, refund once


def test_3_team_past_its_deadline_not_settled(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(
            s,
            "UPDATE teams SET deadline = :d WHERE id = :t",
            d=clock.now() - timedelta(hours=1),
            t=state["open_team"],
        )
        found = _report(s, 3)
    assert _reported(found, f"team {state['open_team']}: past its deadline"), found


def test_3_order_left_unsettled_after_its_team_settled(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "UPDATE orders SET status = 'paid' WHERE id = :o", o=state["confirmed"])
        found = _report(s, 3)
    assert _reported(found, f"order {state['confirmed']} left paid after settlement"), found


def test_3_order_refunded_twice_for_one_reason(state: dict[str, Any]) -> None:
    order = state["failed_order"]
    with staged() as s:
        _sql(
            s,
            """INSERT INTO refunds (key, order_id, user_id, amount, reason, note, funded_by,
                                    status, created_at)
               SELECT 'again', order_id, user_id, 1, reason, '', funded_by, 'pending', created_at
               FROM refunds WHERE order_id = :o""",
            o=order,
        )
        found = _report(s, 3)
    assert _reported(found, f"order {order}: refunded 2 times for team_failed"), found


def test_3_refunds_beyond_what_was_paid(state: dict[str, Any]) -> None:
    order = state["failed_order"]
    with staged() as s:
        _sql(s, "UPDATE refunds SET amount = amount + 10 WHERE order_id = :o", o=order)
        found = _report(s, 3)
    assert _reported(found, f"order {order}: refunded 2000 > paid 1990"), found


# ---------------------------------------------------------------- 4. order money


def test_4_kept_is_not_the_final_price(state: dict[str, Any]) -> None:
    order = state["confirmed"]
    with staged() as s:
        _sql(s, "UPDATE orders SET final_unit_price = 1890 WHERE id = :o", o=order)
        found = _report(s, 4)
    assert _reported(found, f"order {order}: kept 1990, expected final 1890"), found


def test_4_paid_amount_without_a_payment(state: dict[str, Any]) -> None:
    order = state["confirmed"]
    with staged() as s:
        _sql(s, "UPDATE payments SET status = 'failed' WHERE order_id = :o", o=order)
        found = _report(s, 4)
    assert _reported(found, f"order {order}: paid_amount 1990, successful payments 0"), found


def test_4_failed_order_keeps_money(state: dict[str, Any]) -> None:
    order = state["failed_order"]
    with staged() as s:
        _sql(s, "UPDATE orders SET refunded_amount = 1000 WHERE id = :o", o=order)
        found = _report(s, 4)
    assert _reported(found, f"order {order}: refunded", "keeps 990"), found


# ---------------------------------------------------------------- 5. the journal


def test_5_unbalanced_transfer(state: dict[str, Any]) -> None:
    transfer = scalar("SELECT MIN(id) FROM ledger_transfers")
    with staged() as s:
        _sql(
            s,
            """INSERT INTO ledger_entries (transfer_id, account, order_id, amount)
               VALUES (:t, 'gateway', NULL, 1)""",
            t=transfer,
        )
        found = _report(s, 5)
    assert _reported(found, "all entries sum to 1"), found
    assert _reported(found, f"transfer {transfer} sums to 1"), found


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


def test_5_escrow_out_of_step_with_the_order(state: dict[str, Any]) -> None:
    order = state["confirmed"]
    with staged() as s:
        _transfer(s, "staged:escrow", order, [("escrow", -100), ("platform_revenue", 100)])
        found = _report(s, 5)
    assert _reported(found, f"order {order}: escrow holds 1890, orders say 1990"), found


def test_5_supplier_payable_goes_negative(state: dict[str, Any]) -> None:
    account = f"supplier_payable:{state['supplier']}"
    with staged() as s:
        _transfer(s, "staged:payout", None, [(account, -5000), ("gateway", 5000)])
        found = _report(s, 5)
    assert _reported(found, f"account {account} is negative (-3010)"), found


def test_5_refund_owed_but_not_recorded(state: dict[str, Any]) -> None:
    with staged() as s:
        _sql(s, "UPDATE refunds SET status = 'pending' WHERE order_id = :o",
             o=state["failed_order"])
        found = _report(s, 5)
    assert _reported(found, "refunds account 0 ≠ refunds not yet sent 1990"), found


def test_staged_faults_are_rolled_back(state: dict[str, Any]) -> None:
    with staged(lift_checks=(("team_campaigns", "ck_team_campaigns_no_oversell"),)) as s:
        _sql(s, "UPDATE team_campaigns SET sold = stock + 1")
        assert _report(s, 1)
    assert audit_violations() == []
    # The lifted guard is back.
    from sqlalchemy.exc import IntegrityError

    from tests.api import execute

    with pytest.raises(IntegrityError):
        execute("UPDATE team_campaigns SET sold = stock + 1")
