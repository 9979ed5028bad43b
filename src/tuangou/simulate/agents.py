"""The simulated community: members with friends, the price each accepts, when each looks at
the campaign on their own. Drawn from one seed, so a run is the same every time.

The friendships are a small-world graph (Watts–Strogatz: each member tied to their nearest
neighbours, a share of ties rewired at random), as neighbours in a residential community are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx

from tuangou.simulate.rules import Parameters


@dataclass(frozen=True)
class Agent:
    index: int
    friends: tuple[int, ...]
    wtp_ratio: float  # the highest price accepted, as a share of the single price
    visit_at: float | None  # hours into the campaign when they look on their own, or never


def community(size: int, params: Parameters, *, seed: int, campaign_hours: float) -> list[Agent]:
    rng = random.Random(f"agents:{seed}")
    k = max(2, min(params.friends, size - 1))
    graph = nx.connected_watts_strogatz_graph(size, k, params.rewire, tries=100, seed=seed)
    agents = []
    for i in range(size):
        wtp = rng.gauss(params.wtp_mean, params.wtp_sd)
        visit = rng.uniform(0, campaign_hours) if rng.random() < params.interest else None
        agents.append(Agent(i, tuple(sorted(graph.neighbors(i))), wtp, visit))
    return agents
