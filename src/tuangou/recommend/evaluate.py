"""``tuangou recommend evaluate``: the model beside two baselines, on one time-based split.

Each member's last interactions are held out (``rules.time_split``: every training
interaction of a member is strictly earlier than their held-out ones); the model, the global
popularity and the member's community's popularity are all computed from the training part
in the same run, and each ranks, for each member with held-out products, the products the
member has not bought in training. recall@10 and NDCG@10 are averaged over those members.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuangou.recommend import model as cf
from tuangou.recommend import rules
from tuangou.recommend.rules import Algorithm, Interaction

K = 10


@dataclass
class Scores:
    recall: float
    ndcg: float
    members: int


@dataclass
class Report:
    interactions: int
    train: int
    members: int  # evaluated (with held-out products)
    items: int
    methods: dict[str, Scores] = field(default_factory=dict)

    def lines(self) -> list[str]:
        found = [
            f"interactions {self.interactions}, training {self.train}, "
            f"members evaluated {self.members}, products {self.items}",
        ]
        for name, s in self.methods.items():
            found.append(f"{name:<22} recall@{K} {s.recall:.4f}  NDCG@{K} {s.ndcg:.4f}")
        found.append(
            rules.ratio_line(self.methods["model"].recall, self.methods["popularity"].recall)
        )
        return found


def _score(
    test: dict[int, set[int]], seen: dict[int, set[int]], rank: Callable[[int, set[int]], list[int]]
) -> Scores:
    recall = ndcg = 0.0
    for member, relevant in test.items():
        ranked = rank(member, seen.get(member, set()))
        recall += rules.recall_at(ranked, relevant, K)
        ndcg += rules.ndcg_at(ranked, relevant, K)
    n = max(1, len(test))
    return Scores(recall / n, ndcg / n, len(test))


def _top(counts: Counter[int]) -> list[int]:
    return [i for i, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _first(order: Sequence[int], exclude: set[int], k: int = K) -> list[int]:
    found: list[int] = []
    for i in order:
        if i not in exclude:
            found.append(i)
            if len(found) == k:
                break
    return found


def _ranker(fitted: cf.Factors) -> Callable[[int, set[int]], list[int]]:
    return lambda member, exclude: fitted.rank_all(member, exclude, K)


def evaluate(
    interactions: list[Interaction],
    community_of: dict[int, int],
    *,
    algorithms: Sequence[Algorithm] = (Algorithm.ALS, Algorithm.BPR),
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> Report:
    split = rules.time_split(interactions)
    # Members whose held-out products are all ones they had bought before are not evaluated:
    # every method leaves a member's training products out of its ranking.
    seen: dict[int, set[int]] = defaultdict(set)
    for i in split.train:
        seen[i.member].add(i.item)
    test = {m: items - seen[m] for m, items in split.test.items()}
    test = {m: items for m, items in test.items() if items}
    report = Report(
        len(interactions),
        len(split.train),
        len(test),
        len({i.item for i in interactions}),
    )
    for n, algorithm in enumerate(algorithms):
        fitted = cf.train(split.train, algorithm=algorithm, params=params, seed=seed)
        name = "model" if n == 0 else f"model ({algorithm})"
        report.methods[name] = _score(test, seen, _ranker(fitted))
    everyone = _top(Counter(i.item for i in split.train))
    report.methods["popularity"] = _score(test, seen, lambda m, ex: _first(everyone, ex))
    per_community: dict[int, Counter[int]] = defaultdict(Counter)
    for i in split.train:
        per_community[community_of.get(i.member, 0)][i.item] += 1
    ranked_in = {c: _top(counts) for c, counts in per_community.items()}

    def community(member: int, exclude: set[int]) -> list[int]:
        own = ranked_in.get(community_of.get(member, 0), [])
        return _first([*own, *everyone], exclude)

    report.methods["community_popularity"] = _score(test, seen, community)
    return report
