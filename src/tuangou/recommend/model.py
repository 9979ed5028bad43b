"""The collaborative-filtering model: ``implicit``'s ALS (or BPR) over members × products,
trained on implicit feedback (how often a member bought a product), single-threaded so that a
seed gives the same model; and its factors as bytes (NumPy's npz) for the database.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from tuangou.recommend.rules import Algorithm, Interaction

DEFAULTS: dict[Algorithm, dict[str, Any]] = {
    Algorithm.ALS: {"factors": 16, "regularization": 0.5, "iterations": 15, "alpha": 4.0},
    Algorithm.BPR: {"factors": 16, "learning_rate": 0.05, "regularization": 0.01, "iterations": 60},
}


@dataclass
class Factors:
    """A trained model: the members' and products' ids and their factor rows."""

    algorithm: str
    member_ids: np.ndarray  # int64, sorted
    item_ids: np.ndarray  # int64, sorted
    members: np.ndarray  # float32, len(member_ids) × k
    items: np.ndarray  # float32, len(item_ids) × k
    _member_row: dict[int, int] = field(default_factory=dict, repr=False)
    _item_row: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._member_row = {int(m): r for r, m in enumerate(self.member_ids)}
        self._item_row = {int(i): r for r, i in enumerate(self.item_ids)}

    def knows(self, member: int) -> bool:
        return member in self._member_row

    def scores(self, member: int, items: Sequence[int]) -> dict[int, float]:
        """The member's score of each known product among ``items`` (unknown ones left out)."""
        row = self._member_row.get(member)
        if row is None:
            return {}
        known = [(i, self._item_row[i]) for i in items if i in self._item_row]
        if not known:
            return {}
        vectors = self.items[[r for _, r in known]]
        values = vectors @ self.members[row]
        return {i: float(v) for (i, _), v in zip(known, values, strict=True)}

    def similar(self, anchors: Iterable[int], items: Sequence[int]) -> dict[int, float]:
        """Each of ``items``'s best cosine similarity to any of the anchor products."""
        rows = [self._item_row[a] for a in anchors if a in self._item_row]
        known = [(i, self._item_row[i]) for i in items if i in self._item_row]
        if not rows or not known:
            return {}
        unit = self.items / np.maximum(np.linalg.norm(self.items, axis=1, keepdims=True), 1e-9)
        sims = unit[[r for _, r in known]] @ unit[rows].T
        return {i: float(v) for (i, _), v in zip(known, sims.max(axis=1), strict=True)}

    def rank_all(self, member: int, exclude: set[int], k: int) -> list[int]:
        """The top ``k`` products for the member, leaving out ``exclude`` (evaluation)."""
        row = self._member_row.get(member)
        if row is None:
            return []
        values = self.items @ self.members[row]
        order = np.argsort(-values, kind="stable")
        ranked: list[int] = []
        for r in order:
            item = int(self.item_ids[r])
            if item not in exclude:
                ranked.append(item)
                if len(ranked) == k:
                    break
        return ranked

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez_compressed(
            out,
            algorithm=np.array(self.algorithm),
            member_ids=self.member_ids,
            item_ids=self.item_ids,
            members=self.members,
            items=self.items,
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Factors:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                str(z["algorithm"]),
                z["member_ids"].astype(np.int64),
                z["item_ids"].astype(np.int64),
                z["members"].astype(np.float32),
                z["items"].astype(np.float32),
            )


def matrix(interactions: Iterable[Interaction]) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The members × products matrix of summed weights, with the ids of its rows and columns."""
    pairs: dict[tuple[int, int], float] = {}
    for i in interactions:
        pairs[(i.member, i.item)] = pairs.get((i.member, i.item), 0.0) + i.weight
    member_ids = np.array(sorted({m for m, _ in pairs}), dtype=np.int64)
    item_ids = np.array(sorted({i for _, i in pairs}), dtype=np.int64)
    mrow = {int(m): r for r, m in enumerate(member_ids)}
    icol = {int(i): c for c, i in enumerate(item_ids)}
    rows = np.fromiter((mrow[m] for m, _ in pairs), dtype=np.int32, count=len(pairs))
    cols = np.fromiter((icol[i] for _, i in pairs), dtype=np.int32, count=len(pairs))
    data = np.fromiter(pairs.values(), dtype=np.float32, count=len(pairs))
    shape = (len(member_ids), len(item_ids))
    return sparse.csr_matrix((data, (rows, cols)), shape=shape), member_ids, item_ids


def train(
    interactions: Iterable[Interaction],
    *,
    algorithm: Algorithm = Algorithm.ALS,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> Factors:
    """Fit the model on these interactions (one thread: the same data and seed give the same
    factors)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    chosen = {**DEFAULTS[algorithm], **(params or {})}
    user_items, member_ids, item_ids = matrix(interactions)
    if user_items.nnz == 0:
        raise ValueError("no interactions to train on")
    with threadpool_limits(limits=1):
        if algorithm == Algorithm.ALS:
            alpha = float(chosen.get("alpha", 1.0))
            fitted: Any = AlternatingLeastSquares(
                factors=int(chosen["factors"]),
                regularization=float(chosen["regularization"]),
                iterations=int(chosen["iterations"]),
                alpha=alpha,
                random_state=seed,
                num_threads=1,
                calculate_training_loss=False,
            )
        else:
            fitted = BayesianPersonalizedRanking(
                factors=int(chosen["factors"]),
                learning_rate=float(chosen["learning_rate"]),
                regularization=float(chosen["regularization"]),
                iterations=int(chosen["iterations"]),
                random_state=seed,
                num_threads=1,
            )
        fitted.fit(user_items.tocsr(), show_progress=False)
    members = np.asarray(fitted.user_factors, dtype=np.float32)
    items = np.asarray(fitted.item_factors, dtype=np.float32)
    if not (np.isfinite(members).all() and np.isfinite(items).all()):
        raise ValueError("training diverged (non-finite factors)")
    return Factors(str(algorithm), member_ids, item_ids, members, items)
