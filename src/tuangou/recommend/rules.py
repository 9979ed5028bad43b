"""The pure part of recommendations (猜你喜欢): the weights of the blend, the reasons in
words, the time-based split of an evaluation and its metrics. No database, no framework.

The blend (see docs/ARCHITECTURE.md, "Recommendations"): each candidate product gets

    score = W_MODEL × model + W_NEIGHBOURS × neighbours + W_INVITER × inviter
            + W_COMMUNITY × community + W_POPULAR × popular

where ``model`` is the member's collaborative-filtering score scaled to 0..1 over the
candidates, and each social signal is the share (0..1) of the buyers of the last
``SOCIAL_DAYS`` days in that circle who bought the product: the neighbours at the member's
pickup point, the member's inviter (0 or 1), the member's communities, everyone. The
strongest term names the reason shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The weights of the blend (documented in docs/ARCHITECTURE.md).
W_MODEL = 1.0
W_NEIGHBOURS = 0.6
W_INVITER = 0.4
W_COMMUNITY = 0.5
W_POPULAR = 0.2
# How far back the social signals look, and how many recommendations a row shows.
SOCIAL_DAYS = 30
ROW_SIZE = 10
# How many trained models are kept (the newest good one is served).
KEEP_VERSIONS = 3
# A trained model needs at least this much data to be kept as good.
MIN_MEMBERS = 2
MIN_ITEMS = 2


class Source(StrEnum):
    """Which source ranked the reply."""

    MODEL = "model"
    COMMUNITY_POPULARITY = "community_popularity"
    POPULARITY = "popularity"


class Reason(StrEnum):
    """Why a product is recommended: the strongest term of its blend."""

    NEIGHBOURS = "neighbours"  # 你的邻居也在买
    INVITER = "inviter"  # 邀请你的好友也买了
    COMMUNITY = "community"  # 同小区热卖
    MODEL = "model"  # 为你推荐
    POPULAR = "popular"  # 大家都在买


# The reason in words: English (the pages' msgid) and Chinese (the API's default words).
REASON_WORDS: dict[Reason, tuple[str, str]] = {
    Reason.NEIGHBOURS: ("Your neighbours are buying it too", "你的邻居也在买"),
    Reason.INVITER: ("The friend who invited you bought it", "邀请你的好友也买了"),
    Reason.COMMUNITY: ("Popular in your community", "同小区热卖"),
    Reason.MODEL: ("Picked for you", "为你推荐"),
    Reason.POPULAR: ("Everyone is buying it", "大家都在买"),
}


class Context(StrEnum):
    HOME = "home"
    AFTER_ORDER = "after_order"


class ModelStatus(StrEnum):
    GOOD = "good"
    FAILED = "failed"


class Algorithm(StrEnum):
    ALS = "als"
    BPR = "bpr"


DEFAULT_ALGORITHM = Algorithm.ALS  # the better of the two in `tuangou recommend evaluate`


@dataclass(frozen=True)
class Signals:
    """A candidate's terms, each 0..1."""

    model: float = 0.0
    neighbours: float = 0.0
    inviter: float = 0.0
    community: float = 0.0
    popular: float = 0.0


def blend(s: Signals) -> tuple[float, Reason]:
    """The candidate's score and the reason it is shown (its strongest weighted term; the
    model's when nothing social is stronger)."""
    terms = [
        (W_NEIGHBOURS * s.neighbours, Reason.NEIGHBOURS),
        (W_INVITER * s.inviter, Reason.INVITER),
        (W_COMMUNITY * s.community, Reason.COMMUNITY),
        (W_MODEL * s.model, Reason.MODEL),
        (W_POPULAR * s.popular, Reason.POPULAR),
    ]
    score = sum(t for t, _ in terms)
    best = max(terms, key=lambda t: t[0])
    return score, best[1] if best[0] > 0 else Reason.POPULAR


def scale(values: dict[int, float]) -> dict[int, float]:
    """Min-max to 0..1 (all equal: 0.5 each; nothing: nothing)."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high - low <= 1e-12:
        return dict.fromkeys(values, 0.5)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def shares(buyers: dict[int, set[int]], circle: int) -> dict[int, float]:
    """Per product, the share of a circle of ``circle`` buyers who bought it."""
    if circle <= 0:
        return {}
    return {item: len(who) / circle for item, who in buyers.items()}


# ---------------------------------------------------------------- the evaluation


@dataclass(frozen=True)
class Interaction:
    member: int
    item: int
    at: datetime
    weight: float = 1.0


@dataclass(frozen=True)
class Split:
    train: list[Interaction]
    test: dict[int, set[int]]  # member -> held-out items
    held_from: dict[int, datetime]  # member -> the instant of their first held-out one


def time_split(
    interactions: Iterable[Interaction], *, holdout: int = 2, min_train: int = 2
) -> Split:
    """Hold out each member's last ``holdout`` interactions (in time): a member with fewer
    than ``holdout + min_train`` stays whole in training. Interactions at the same instant
    as the first held-out one are held out too, so each member's training interactions are
    all strictly earlier than their held-out ones."""
    per: dict[int, list[Interaction]] = {}
    for i in interactions:
        per.setdefault(i.member, []).append(i)
    train: list[Interaction] = []
    test: dict[int, set[int]] = {}
    held_from: dict[int, datetime] = {}
    for member, found in per.items():
        found.sort(key=lambda i: i.at)
        if len(found) < holdout + min_train:
            train.extend(found)
            continue
        cut = found[-holdout].at
        before = [i for i in found if i.at < cut]
        after = [i for i in found if i.at >= cut]
        if len(before) < min_train:
            train.extend(found)
            continue
        train.extend(before)
        test[member] = {i.item for i in after}
        held_from[member] = cut
    train.sort(key=lambda i: (i.at, i.member, i.item))
    return Split(train, test, held_from)


def recall_at(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def ndcg_at(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 2) for r, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
    return dcg / ideal


def ratio_line(model: float, baseline: float) -> str:
    """The evaluation's last line."""
    ratio = model / baseline if baseline > 0 else float("inf")
    return f"recall@10 model/popularity: {ratio:.2f}"
