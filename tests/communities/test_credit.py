"""Leader credit (团长信用): the pure score, and what it decides over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.aftersales.conftest import Flow, arrive, pick_up
from tests.conftest import Api, _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, snapshot
from tuangou.core import clock
from tuangou.credit.rules import THRESHOLD, WEIGHTS, CreditFacts, score

# ---------------------------------------------------------------- the pure score


@st.composite
def histories(draw: st.DrawFn) -> CreditFacts:
    n = st.integers(min_value=0, max_value=400)
    shipments = draw(n)
    cases = draw(n)
    ratings = draw(n)
    return CreditFacts(
        shipments=shipments,
        on_time=draw(st.integers(0, shipments)),
        completed=draw(n),
        unpicked=draw(n),
        orders=draw(n),
        cases=cases,
        accepted=draw(st.integers(0, cases)),
        ratings=ratings,
        stars=draw(st.integers(ratings, 5 * ratings)),
    )


# Each turns a history into one that is better in exactly one respect (or None if it cannot).
IMPROVEMENTS: dict[str, Callable[[CreditFacts], CreditFacts | None]] = {
    "one more shipment on time": lambda f: (
        replace(f, on_time=f.on_time + 1) if f.on_time < f.shipments else None
    ),
    "one more on-time shipment": lambda f: replace(
        f, shipments=f.shipments + 1, on_time=f.on_time + 1
    ),
    "one more order picked up": lambda f: replace(f, completed=f.completed + 1),
    "one fewer left unpicked": lambda f: (
        replace(f, unpicked=f.unpicked - 1) if f.unpicked else None
    ),
    "one more order": lambda f: replace(f, orders=f.orders + 1),
    "one fewer accepted case": lambda f: (
        replace(f, accepted=f.accepted - 1, cases=f.cases - 1) if f.accepted else None
    ),
    "one case rejected instead of accepted": lambda f: (
        replace(f, accepted=f.accepted - 1) if f.accepted else None
    ),
    "one fewer rejected case": lambda f: (
        replace(f, cases=f.cases - 1) if f.cases > f.accepted else None
    ),
    "one more star": lambda f: replace(f, stars=f.stars + 1) if f.stars < 5 * f.ratings else None,
}


@settings(deadline=None)  # pure, but the machine may be busy with other tests
@given(histories())
def test_the_score_is_within_0_100_and_is_the_sum_of_its_parts(facts: CreditFacts) -> None:
    credit = score(facts)
    assert 0 <= credit.score <= 100
    assert credit.score == sum(p.points for p in credit.parts)
    assert {p.name: p.weight for p in credit.parts} == WEIGHTS
    assert sum(WEIGHTS.values()) == 100
    for part in credit.parts:
        assert 0 <= part.value <= 1
        assert 0 <= part.points <= part.weight
    assert credit.below_threshold == (credit.score < THRESHOLD)


@settings(deadline=None, max_examples=300)
@given(histories(), st.sampled_from(sorted(IMPROVEMENTS)))
def test_the_score_is_monotone_in_each_good_part(facts: CreditFacts, how: str) -> None:
    better = IMPROVEMENTS[how](facts)
    if better is None:
        return
    before, after = score(facts), score(better)
    assert after.score >= before.score, how
    for old, new in zip(before.parts, after.parts, strict=True):
        assert new.value >= old.value, (how, old.name)


def test_a_new_leader_is_neutral_and_not_paused() -> None:
    credit = score(CreditFacts())
    assert credit.score == 80
    assert not credit.below_threshold
    assert all(p.observed is None and p.sample == 0 for p in credit.parts)


def test_history_outweighs_the_prior() -> None:
    perfect = CreditFacts(
        shipments=60, on_time=60, completed=300, orders=300, ratings=200, stars=1000
    )
    assert score(perfect).score == 100
    awful = CreditFacts(
        shipments=60,
        on_time=10,
        completed=100,
        unpicked=100,
        orders=200,
        cases=60,
        accepted=50,
        ratings=100,
        stars=150,
    )
    assert score(awful).score < 20
    # One bad order in a good record moves the score a little, not to the floor.
    one_bad = replace(perfect, cases=1, accepted=1)
    assert 95 <= score(one_bad).score <= 100


@pytest.mark.parametrize(
    "facts",
    [
        CreditFacts(shipments=1, on_time=2),
        CreditFacts(cases=1, accepted=2),
        CreditFacts(ratings=2, stars=11),
        CreditFacts(ratings=2, stars=1),
        CreditFacts(orders=-1),
    ],
)
def test_impossible_histories_are_refused(facts: CreditFacts) -> None:
    with pytest.raises(ValueError):
        score(facts)


# ---------------------------------------------------------------- over HTTP


@pytest.fixture(autouse=True)
def _photos(tmp_path: Path) -> Iterator[None]:
    from tuangou.core.storage import LocalDiskStorage, set_storage

    set_storage(LocalDiskStorage(tmp_path / "uploads"))
    yield
    set_storage(None)


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(Waves(api))


def _credit(flow: Flow, who: dict[str, str]) -> dict[str, Any]:
    r = flow.c.get("/api/leader/credit", headers=_auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _publish(flow: Flow, leader: dict[str, Any]) -> Any:
    body = {
        "community_id": leader["community_id"],
        "pickup_point_id": leader["pickup_point_id"],
        "title": "又一期",
        "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        "items": [{"sku_id": flow.apples, "price": 1000, "moq": 1, "stock": 10}],
    }
    return flow.c.post("/api/leader/waves", json=body, headers=_auth(leader))


def test_a_new_leader_has_a_neutral_credit_and_publishes(flow: Flow) -> None:
    leader = flow.leader()
    credit = _credit(flow, leader)
    assert credit["score"] == 80 and credit["threshold"] == THRESHOLD
    assert not credit["below_threshold"]
    assert [p["name"] for p in credit["parts"]] == list(WEIGHTS)
    assert sum(p["points"] for p in credit["parts"]) == credit["score"]
    assert _publish(flow, leader).status_code == 201
    problem(
        flow.c.get("/api/leader/credit", headers=_auth(flow.api.signup("路人"))),
        403,
        "not_a_leader",
    )


def test_a_leader_with_bad_history_cannot_publish_and_is_paused_until_it_recovers(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuangou.core.config import reset_settings

    monkeypatch.setenv("TUANGOU_TOKEN_TTL_DAYS", "365")  # the test lives through 92 days
    reset_settings()
    leader = flow.leader()
    wave = flow.wave(leader)
    buyers = [flow.order(leader, wave, f"团员{i}", apples=1, pears=0) for i in range(4)]
    flow.settle()
    for member, order_id in buyers:
        arrive(order_id)
        pick_up(order_id)
        r = flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 1}])
        assert r.status_code == 201, r.text
        accepted = flow.c.post(f"/api/aftersales/{r.json()['id']}/accept", headers=_auth(flow.op))
        assert accepted.status_code == 200, accepted.text
        rated = flow.c.post(
            f"/api/wave-orders/{order_id}/rating",
            json={"stars": 1, "comment": "货不对"},
            headers=_auth(member),
        )
        assert rated.status_code == 201, rated.text
    assert audit_violations() == []

    credit = _credit(flow, leader)
    assert credit["below_threshold"] and credit["score"] < THRESHOLD
    parts = {p["name"]: p for p in credit["parts"]}
    assert sum(p["points"] for p in credit["parts"]) == credit["score"]
    assert parts["after_sale"]["observed"] == 1.0 and parts["after_sale"]["sample"] == 4
    assert parts["complaint"]["observed"] == 1.0
    assert parts["rating"]["observed"] == 1.0 and parts["rating"]["sample"] == 4
    assert parts["pickup"]["observed"] == 1.0  # everyone picked up: that part is good
    assert parts["receipt"]["observed"] == 1.0
    assert parts["pickup"]["points"] > parts["after_sale"]["points"]
    # Operators see the same; a leader cannot look at another's.
    admin_url = f"/api/admin/leaders/{leader['leader_id']}/credit"
    seen = flow.c.get(admin_url, headers=_auth(flow.op)).json()
    assert seen["score"] == credit["score"] and seen["parts"] == credit["parts"]
    problem(flow.c.get(admin_url, headers=_auth(leader)), 403, "forbidden")

    # Below the threshold: no new wave, no adoption, and nothing changes.
    catalogue = flow.c.post(
        "/api/supplier/waves",
        json={
            "title": "产地直发",
            "cutoff_at": (clock.now() + timedelta(hours=5)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=2)).date().isoformat(),
            "items": [{"sku_id": flow.pears, "price": 700, "moq": 1, "stock": 50}],
        },
        headers=flow.waves.supplier,
    )
    assert catalogue.status_code == 201, catalogue.text
    before = snapshot()
    body = problem(_publish(flow, leader), 403, "credit_below_threshold")
    assert body["score"] == credit["score"] and body["threshold"] == THRESHOLD
    problem(
        flow.c.post(
            f"/api/leader/waves/{catalogue.json()['id']}/adopt",
            json={
                "community_id": leader["community_id"],
                "pickup_point_id": leader["pickup_point_id"],
            },
            headers=_auth(leader),
        ),
        403,
        "credit_below_threshold",
    )
    assert changed_tables(before, snapshot()) == []

    # A leader an operator paused by hand is never resumed by the credit job.
    other = flow.leader("赵团长")
    r = flow.c.post(
        f"/api/admin/leaders/{other['leader_id']}/pause",
        json={"reason": "投诉核查中"},
        headers=_auth(flow.op),
    )
    assert r.status_code == 200, r.text

    # The next day's job pauses the leader; publishing is then refused as paused.
    clock.advance(timedelta(days=1))
    run_worker()
    leaders = {x["id"]: x for x in flow.c.get("/api/admin/leaders", headers=_auth(flow.op)).json()}
    assert leaders[leader["leader_id"]]["status"] == "paused"
    problem(_publish(flow, leader), 403, "leader_paused")
    assert "leader.paused" in flow.inbox_kinds(leader)
    assert _credit(flow, leader)["leader_status"] == "paused"

    # The bad history ages out of the window: the job lifts its own pause, not the operator's.
    clock.advance(timedelta(days=91))
    run_worker()
    leaders = {x["id"]: x for x in flow.c.get("/api/admin/leaders", headers=_auth(flow.op)).json()}
    assert leaders[leader["leader_id"]]["status"] == "active"
    assert leaders[other["leader_id"]]["status"] == "paused"
    assert _credit(flow, leader)["score"] == 80
    assert _publish(flow, leader).status_code == 201
    assert audit_violations() == []
