"""The pure part of recommendations: the generator is deterministic per seed and bounded,
the time-based split leaks nothing from a member's future, the metrics, the blend, and the
evaluation's last line (the model measured against popularity on the generator's data)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tuangou.recommend import evaluate, generator, rules
from tuangou.recommend.rules import Interaction


def test_the_generator_is_deterministic_per_seed_and_bounded() -> None:
    a = generator.generate(seed=3, members=120, items=40, communities=4)
    b = generator.generate(seed=3, members=120, items=40, communities=4)
    c = generator.generate(seed=4, members=120, items=40, communities=4)
    assert a.interactions == b.interactions and a.members == b.members and a.items == b.items
    assert a.interactions != c.interactions
    assert len(a.members) == 120 and len(a.items) == 40
    assert all(1 <= i.item <= 40 and 1 <= i.member <= 120 for i in a.interactions)
    # Time order, over one year, and inviters are earlier members of the same community.
    assert [i.at for i in a.interactions] == sorted(i.at for i in a.interactions)
    assert all(
        generator.START <= i.at < generator.START + timedelta(days=366) for i in a.interactions
    )
    by_id = {m.id: m for m in a.members}
    for m in a.members:
        if m.inviter is not None:
            assert m.inviter < m.id and by_id[m.inviter].community == m.community
    assert generator.bounded(10**9, 10**9) == (generator.MAX_MEMBERS, generator.MAX_ITEMS)
    assert generator.bounded(0, 0) == (10, 10)


def test_the_generator_has_seasons() -> None:
    world = generator.generate(seed=5, members=400, items=80)
    seasonal = {i.id: i.season for i in world.items if i.season}
    bought = [(i.at.month, seasonal[i.item]) for i in world.interactions if i.item in seasonal]
    near = sum(1 for month, peak in bought if min(abs(month - peak), 12 - abs(month - peak)) <= 1)
    assert near / len(bought) > 0.5  # 3 months of 12 hold most of a seasonal product's sales


T0 = datetime(2026, 1, 1)
moments = st.lists(
    st.tuples(st.integers(1, 6), st.integers(1, 15), st.integers(0, 40)), max_size=80
)


@given(moments)
def test_the_split_never_trains_on_a_members_future(rows: list[tuple[int, int, int]]) -> None:
    data = [Interaction(m, i, T0 + timedelta(days=d)) for m, i, d in rows]
    split = rules.time_split(data, holdout=2, min_train=2)
    for i in split.train:
        if i.member in split.held_from:
            assert i.at < split.held_from[i.member]
    # Whatever was held out is exactly the member's interactions from that instant on.
    for member, cut in split.held_from.items():
        later = {i.item for i in data if i.member == member and i.at >= cut}
        assert split.test[member] == later
        assert sum(1 for i in data if i.member == member and i.at >= cut) >= 2
    assert len(split.train) + sum(
        1 for i in data if i.member in split.held_from and i.at >= split.held_from[i.member]
    ) == len(data)


def test_a_tie_with_the_first_held_out_one_is_held_out_too() -> None:
    day = [T0, T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=2)]
    data = [Interaction(1, n, at) for n, at in enumerate([T0 - timedelta(days=1), *day])]
    split = rules.time_split(data, holdout=1, min_train=2)
    assert split.test[1] == {3, 4}
    assert {i.item for i in split.train} == {0, 1, 2}


def test_the_metrics() -> None:
    assert rules.recall_at([5, 6, 7], {7, 9}) == 0.5
    assert rules.recall_at([1] * 3, set()) == 0.0
    assert rules.ndcg_at([7, 1], {7}) == 1.0
    assert 0 < rules.ndcg_at([1, 7], {7}) < 1
    assert rules.ratio_line(0.3, 0.1) == "recall@10 model/popularity: 3.00"


def test_the_strongest_term_names_the_reason() -> None:
    score, reason = rules.blend(rules.Signals(model=0.2, neighbours=0.9))
    assert reason == rules.Reason.NEIGHBOURS
    assert score == rules.W_MODEL * 0.2 + rules.W_NEIGHBOURS * 0.9
    assert rules.blend(rules.Signals(model=1.0, community=0.1))[1] == rules.Reason.MODEL
    assert rules.blend(rules.Signals())[1] == rules.Reason.POPULAR
    assert rules.scale({1: 2.0, 2: 4.0}) == {1: 0.0, 2: 1.0}
    assert rules.scale({1: 3.0}) == {1: 0.5}


def test_the_model_beats_popularity_on_the_generators_data() -> None:
    world = generator.generate(seed=7, members=800)
    report = evaluate.evaluate(
        world.interactions,
        {m.id: m.community for m in world.members},
        algorithms=[rules.Algorithm.ALS],
    )
    model, popular = report.methods["model"], report.methods["popularity"]
    assert report.members > 100
    assert model.recall >= 1.5 * popular.recall
    assert model.ndcg > popular.ndcg
    assert model.recall > report.methods["community_popularity"].recall


def test_evaluate_prints_its_last_line() -> None:
    from tuangou.cli import app

    done = CliRunner().invoke(app, ["recommend", "evaluate", "--seed", "7", "--members", "300"])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert any(line.startswith("popularity") for line in lines)
    assert any(line.startswith("community_popularity") for line in lines)
    assert any(line.startswith("model (bpr)") for line in lines)
    last = lines[-1]
    assert last.startswith("recall@10 model/popularity: ")
    float(last.rsplit(" ", 1)[1])
    refused = CliRunner().invoke(app, ["recommend", "evaluate", "--members", "5"])
    assert refused.exit_code == 2
