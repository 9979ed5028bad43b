"""The what-if simulator against the real engine, on both backends: the same seed gives the
same figures, different seeds a spread; the live database is unchanged by a run; a team
size the community cannot fill really fails in the engine; the members are calibrated from
the deployment's own history where it has some; the stored runs and the worker's job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import rows
from tests.pools.support import seed_operator, seed_sku
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import Base, read, run_in_transaction
from tuangou.payments import service as payments
from tuangou.simulate import engine, rules, service, tasks
from tuangou.simulate.rules import Spec
from tuangou.teams import service as teams

PRICE = 3990


def _history(sku_id: int, pairs: int = 3) -> None:
    """Team buys of the past: ``pairs`` teams of two, each opened, joined and paid."""

    def work(session: Any) -> None:
        now = clock.now()
        campaign = teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=sku_id,
                title="往期",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=1),
                tiers=[(2, 2990)],
                stock=20,
            ),
        )
        address = {
            "name": "李",
            "phone": "13900000000",
            "region": "浙江 杭州 西湖",
            "line": "文三路 1 号",
        }
        for n in range(pairs):
            a, b = (
                accounts.create_user(
                    session, phone=f"1370000{n:02d}{i}0", password=None, nickname="邻"
                )
                for i in (1, 2)
            )
            seat = teams.open_team(session, user_id=a.id, campaign_id=campaign.id, address=address)
            payments.sandbox_pay_now(session, seat.started.payment)
            joined = teams.join_team(session, user_id=b.id, team_id=seat.team.id, address=address)
            payments.sandbox_pay_now(session, joined.started.payment)

    run_in_transaction(work)


def _counts() -> dict[str, int]:
    def count(session: Any) -> dict[str, int]:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }

    return read(count)


def _figures(outcome: engine.Outcome) -> list[Any]:
    return [(r["label"], r["error"], r["runs"]) for r in outcome.rows]


def test_the_grid_and_its_spread() -> None:
    assert rules.parse_hours("24h,48h") == (24, 48)
    assert rules.parse_tiers("none;5:2690,10:2390") == ((), ((5, 2690), (10, 2390)))
    assert rules.parse_completion("on,off") == (True, False)
    spec = Spec(sku_id=1, price=100, team_sizes=(2, 3), windows=(24, 48), completions=(True, False))
    assert len(spec.settings()) == 8
    ladder = rules.Setting(3, 24, ((2, 90), (5, 80)), False)
    assert ladder.tiers(100) == [(3, 100), (5, 80)] and ladder.max_size() == 5
    assert Spec.of_json(spec.to_json()) == spec
    found = rules.spread([0.0, 1.0, 0.5, None])
    assert (found["mean"], found["min"], found["max"], found["n"]) == (0.5, 0.0, 1.0, 3)
    assert found["p10"] == pytest.approx(0.1) and found["p90"] == pytest.approx(0.9)
    with pytest.raises(rules.SpecProblem) as refused:
        rules.check(Spec(sku_id=1, price=100, team_sizes=(1,)))
    assert refused.value.field == "team_size"


def test_same_seed_same_figures_and_the_live_database_unchanged(db: str) -> None:
    _, sku_id = seed_sku(price=PRICE, stock=500)
    _history(sku_id)
    before = _counts()
    ledger = rows("SELECT * FROM ledger_entries ORDER BY id")
    spec = Spec(sku_id=sku_id, price=2990, team_sizes=(2,), members=16, runs=2, seed=7)
    first = engine.simulate(spec)
    again = engine.simulate(spec)
    assert _figures(first) == _figures(again)
    (row,) = first.rows
    assert row["error"] is None and len(row["runs"]) == 2
    # Different seeds, different communities: the runs spread.
    assert len({(r["gmv"], r["teams"], r["buyers"]) for r in row["runs"]}) > 1
    assert (
        row["summary"]["gmv"]["min"]
        <= row["summary"]["gmv"]["mean"]
        <= row["summary"]["gmv"]["max"]
    )
    assert sum(r["gmv"] for r in row["runs"]) > 0
    # The members were calibrated from the three past teams where those are enough.
    sources = {p[0]: p[2] for p in first.params.described()}
    assert sources["open_share"].startswith("history") and first.params.open_share == 0.5
    assert sources["pay_prob"].startswith("history")
    assert sources["response_hours"] == "default"  # three joins: too few to tell
    assert first.sandbox == ("copy" if db.startswith("sqlite") else "fresh")
    # Nothing of it reached the live database.
    assert _counts() == before
    assert rows("SELECT * FROM ledger_entries ORDER BY id") == ledger


def test_a_team_too_large_for_the_community_fails_in_the_engine(db: str) -> None:
    _, sku_id = seed_sku(price=PRICE, stock=500)
    spec = Spec(sku_id=sku_id, price=2990, team_sizes=(2, 15), members=16, runs=1, seed=3)
    small, large = engine.simulate(spec).rows
    assert small["summary"]["success_rate"]["mean"] > 0.5
    assert large["runs"][0]["teams"] > 0
    assert large["summary"]["success_rate"]["mean"] == 0  # nobody's team of 15 forms
    assert large["summary"]["left_in_failed"]["mean"] == 1
    assert large["summary"]["refunds"]["mean"] == large["runs"][0]["refunds"] > 0
    # A ladder the campaign rules refuse is the engine's refusal, shown for its setting.
    above = Spec(sku_id=sku_id, price=PRICE + 100, members=4, runs=1)
    (refused,) = engine.simulate(above).rows
    assert refused["error"].startswith("invalid_campaign") and refused["runs"] == []


def test_stored_runs_one_at_a_time(db: str) -> None:
    _, sku_id = seed_sku(price=PRICE, stock=500)
    operator = seed_operator()
    with pytest.raises(service.InvalidSimulation):
        run_in_transaction(
            lambda s: service.create_run(s, Spec(sku_id=sku_id, price=0), operator_id=None)
        )
    spec = Spec(sku_id=sku_id, price=2990, members=6, runs=1)
    first, second = (
        run_in_transaction(lambda s: service.create_run(s, spec, operator_id=operator.user_id).id)
        for _ in range(2)
    )
    started: list[int] = []
    assert tasks.start_queued(started.append) == 1
    assert tasks.start_queued(started.append) == 0  # one runs at a time
    assert started == [first]
    assert service.execute(first) == "done"
    run = read(lambda s: service.get_run(s, first))
    assert run.status == "done" and run.progress == 100
    assert run.results is not None and run.results["rows"][0]["summary"]["gmv"]["n"] == 1
    assert tasks.start_queued(started.append) == 1 and started == [first, second]
    # A run not heard from for long was interrupted: failed, and the next may start.
    clock.advance(timedelta(minutes=rules.STALE_MINUTES + 1))
    assert tasks.start_queued(started.append) == 0
    assert read(lambda s: service.get_run(s, second)).error == "interrupted"


def test_the_command_prints_the_parameters_and_a_row_per_setting(db: str) -> None:
    from typer.testing import CliRunner

    from tuangou.cli import app

    _, sku_id = seed_sku(price=PRICE, stock=500)
    args = ["simulate", "--sku", str(sku_id), "--price", "2990", "--team-size", "2,3"]
    done = CliRunner().invoke(app, [*args, "--members", "6", "--runs", "1", "--database-url", db])
    assert done.exit_code == 0, done.output
    assert "link_conversion" in done.output and "default" in done.output
    assert "2p · 24h" in done.output and "3p · 24h" in done.output
    refused = CliRunner().invoke(app, [*args, "--team-size", "1", "--database-url", db])
    assert refused.exit_code == 2 and "team sizes must be 2 to 50" in refused.output
