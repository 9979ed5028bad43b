"""The risk engine on the database (both backends): events recorded, cases opened and
decided, the graph job, and what a decision does to the members' next actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import scalar
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.risk import graph, tasks
from tuangou.risk import service as risk
from tuangou.risk.rules import Action, Reason


def members(n: int, prefix: str = "1360") -> list[int]:
    return run_in_transaction(
        lambda s: [
            accounts.create_user(
                s, phone=f"{prefix}{i:07d}", password="secret123", nickname=f"m{i}"
            ).id
            for i in range(n)
        ]
    )


def assess(**kw: Any) -> risk.Verdict:
    return run_in_transaction(lambda s: risk.assess(s, **kw))


@pytest.fixture
def hooks() -> Any:
    calls: list[tuple[list[int], str]] = []

    def record(session: Any, ids: list[int], reason: str) -> None:
        calls.append((ids, reason))

    risk.register_on_confirmed(record)
    yield calls
    risk.unregister_on_confirmed(record)  # the composition root's own hooks stay


def test_every_event_is_recorded_with_its_verdict(db_url: str) -> None:
    (m,) = members(1)
    verdict = assess(type="login", actor=m, device="d1", ip="100.64.3.7")
    assert verdict.action == Action.ALLOW
    assert scalar("SELECT subnet FROM risk_events WHERE actor = :m", m=m) == "100.64.3.0/24"


def test_a_help_burst_from_few_devices_opens_one_case_naming_the_helpers(db_url: str) -> None:
    helpers = members(8)
    starter = helpers.pop()
    bargain = type("B", (), {"id": 5, "starter_id": starter})()
    verdicts = [
        run_in_transaction(
            lambda s, h=h: risk.help_check(s, h, bargain, f"dev{h % 2}", "100.64.9.9")
        )
        for h in helpers
    ]
    assert [v.action for v in verdicts[:5]] == [Action.ALLOW] * 5
    assert verdicts[5].action == Action.HOLD
    assert "6 helpers within 90 s sharing 2 devices" in verdicts[5].text()
    cases = run_in_transaction(lambda s: risk.list_cases(s))
    assert len(cases) == 1
    # The 7th helper within the window joins the same case rather than opening another.
    assert verdicts[6].action == Action.HOLD
    assert {m.id for m in cases[0].members} == set(helpers)
    assert "7 helpers within 90 s sharing 2 devices" in cases[0].reasons[0].text()
    # A flagged helper may not help again.
    again = run_in_transaction(lambda s: risk.help_check(s, helpers[0], bargain, "dev9", None))
    assert again.action == Action.BLOCK


def ring_case(session: Session, ids: list[int]) -> Any:
    finding = graph.Finding(
        "dense_ring",
        tuple(ids),
        (Reason("dense_ring", len(ids), extra="20"),),
        tuple(graph.Edge(f"m:{a}", f"m:{b}", "help") for a in ids for b in ids if a != b),
    )
    return risk.open_case(session, finding, source="graph")


def test_confirming_a_ring_blocks_its_members_and_calls_the_hooks(db_url: str, hooks: Any) -> None:
    ids = members(5)
    case = run_in_transaction(lambda s: ring_case(s, ids))
    assert assess(type="login", actor=ids[0]).action == Action.CHALLENGE  # flagged
    view = run_in_transaction(
        lambda s: risk.decide_case(s, case.id, confirm=True, operator_id=ids[0], note="互助群")
    )
    assert view.status == "confirmed"
    assert {m.flag for m in view.members} == {"blocked"}
    assert hooks == [(ids, f"risk case {case.id} confirmed (dense_ring)")]
    assert assess(type="order", actor=ids[1], amount_fen=990).action == Action.BLOCK
    with pytest.raises(risk.CaseDecided):
        run_in_transaction(
            lambda s: risk.decide_case(s, case.id, confirm=False, operator_id=ids[0])
        )


def test_a_cleared_member_is_not_flagged_again_for_the_same_evidence(
    db_url: str, hooks: Any
) -> None:
    ids = members(6)
    first = run_in_transaction(lambda s: ring_case(s, ids[:5]))
    run_in_transaction(lambda s: risk.decide_case(s, first.id, confirm=False, operator_id=ids[0]))
    assert hooks == []
    assert (
        assess(type="help", actor=ids[0], target="bargain:1", other=ids[1]).action == Action.ALLOW
    )
    assert run_in_transaction(lambda s: ring_case(s, ids[:5])) is None  # the same evidence
    grown = run_in_transaction(lambda s: ring_case(s, ids))  # new evidence: one more member
    assert grown is not None
    assert (
        sorted(m.id for m in run_in_transaction(lambda s: risk.get_case(s, grown.id)).members)
        == ids
    )


def test_the_graph_job_finds_a_ring_in_the_recorded_helps_and_runs_once_per_period(
    db_url: str,
) -> None:
    ring = members(7)
    honest = members(12, prefix="1361")
    step = 0
    try:
        for s in ring:  # slowly: one help every 7 minutes
            for m in ring:
                if m != s:
                    step += 1
                    clock.set_offset(timedelta(minutes=7 * step - 60 * 24))
                    assess(type="help", actor=m, target=f"bargain:{s}", other=s, device=f"d{m}")
    finally:
        clock.set_offset(timedelta(0))
    for i, m in enumerate(honest):  # honest helps: one each
        other = honest[(i + 1) % len(honest)]
        assess(type="help", actor=m, target=f"bargain:{other}", other=other, device=f"h{m}")
    assert tasks.analyse_graph() == 1
    cases = run_in_transaction(lambda s: risk.list_cases(s))
    assert [(c.kind, sorted(m.id for m in c.members)) for c in cases] == [("dense_ring", ring)]
    assert "7 accounts that mostly help each other" in cases[0].reasons[0].text()
    assert tasks.analyse_graph() == 0  # not due again yet
    clock.advance(timedelta(minutes=6))
    try:
        assert tasks.analyse_graph() == 0  # due, and nothing new
    finally:
        clock.set_offset(timedelta(0))


def test_the_gate_keeps_a_refused_attempt(db_url: str) -> None:
    ids = members(1)
    run_in_transaction(lambda s: ring_case(s, ids))
    with pytest.raises(risk.RiskRefused):
        risk.gate(None, type="invite", actor=ids[0], other=None)
    assert scalar("SELECT action FROM risk_events WHERE type = 'invite'") == "block"
