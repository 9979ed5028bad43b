"""The risk engine's graph work: what no single event shows, found over the history.

* **same person**: accounts linked by a device, a phone number or a payout account are merged
  (connected components of the member–identifier graph, scipy.sparse.csgraph); a component of
  many accounts is one person behind them (a device farm).
* **dense rings**: FRAUDAR-style greedy peeling of the helper × starter matrix (scipy.sparse)
  with column weights 1/log(deg + 5), so that camouflage (ring members also helping popular
  honest bargains) cannot hide a ring: a popular column weighs little. The k-core of the
  help graph (networkx) is peeled component by component, block after block.
* **lockstep** (CopyCatch-style): accounts that act on the same targets within the same
  short window, on several targets.
* **invite farms**: an inviter whose invitees place one minimal order and go quiet.
* **beneficiaries**: a starter whose helps come mostly from the accounts of a farm (the same
  person or a lockstep group).

:func:`analyse` is pure: it takes a :class:`History` and returns :class:`Finding` s. The
worker job (``risk.tasks``) runs it over the ``risk_events`` table; the replay runs it over
its log, with the same code.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from tuangou.risk.rules import Event, EventType, Reason


@dataclass(frozen=True)
class GraphPolicy:
    same_person_min: int = 8  # accounts behind one person (a family shares a tablet: ≤ 5)
    ring_core: int = 3  # the k of the k-core the peeling starts from
    ring_min: int = 5  # members of a ring
    ring_density: float = 0.9  # weighted edges per node of the peeled block
    ring_inside_share: float = 0.45  # of the ring's helps, the share among themselves
    lockstep_gap: timedelta = timedelta(seconds=120)  # helps closer than this are a burst
    lockstep_burst: int = 5  # accounts in a burst
    lockstep_targets: int = 2  # targets a pair must share bursts on
    lockstep_min: int = 5  # accounts in a lockstep group
    minimal_order_fen: int = 990
    quiet: timedelta = timedelta(days=3)
    invite_farm_min: int = 5
    invite_farm_share: float = 0.5
    beneficiary_min: int = 4
    beneficiary_share: float = 0.6


DEFAULT_GRAPH_POLICY = GraphPolicy()


@dataclass(frozen=True)
class Edge:
    a: str  # "m:12", "d:<device>", "p:<phone>", "y:<payout>", "t:<target>"
    b: str
    kind: str  # help, invite, device, phone, payout, acts-on


@dataclass(frozen=True)
class Finding:
    kind: str  # dense_ring, same_person, lockstep, invite_farm, helped_by_flagged
    members: tuple[int, ...]
    reasons: tuple[Reason, ...]
    edges: tuple[Edge, ...] = ()

    @property
    def fingerprint(self) -> str:
        """The evidence, as a key: the kind and the members it names. A case cleared with
        this key is not opened again; more members (new evidence) make a new key."""
        text = self.kind + ":" + ",".join(str(m) for m in sorted(self.members))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class History:
    """What the graph work reads: built from events by :meth:`add`, in any order."""

    links: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    helps: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    help_times: dict[str, list[tuple[datetime, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    invites: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    orders: dict[int, list[tuple[datetime, int]]] = field(default_factory=lambda: defaultdict(list))
    last_seen: dict[int, datetime] = field(default_factory=dict)

    def add(self, e: Event) -> None:
        m = e.actor
        if m is None:
            return
        if e.device:
            self.links[m].add("d:" + e.device)
        if e.phone:
            self.links[m].add("p:" + e.phone)
        if e.payout:
            self.links[m].add("y:" + e.payout)
        prev = self.last_seen.get(m)
        if prev is None or e.at > prev:
            self.last_seen[m] = e.at
        if e.type in (EventType.HELP, EventType.VOTE) and e.other is not None and e.other != m:
            self.helps[(m, e.other)] += 1
            if e.target:
                self.help_times[e.target].append((e.at, m))
        elif e.type == EventType.INVITE and e.other is not None:
            self.invites[e.other].add(m)
        elif e.type == EventType.ORDER:
            self.orders[m].append((e.at, e.amount_fen or 0))


def _m(member: int) -> str:
    return f"m:{member}"


def same_person(h: History, p: GraphPolicy) -> list[Finding]:
    """Connected components (scipy.sparse.csgraph) of the accounts × identifiers graph."""
    members = list(h.links)
    if not members:
        return []
    ident_index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, member in enumerate(members):
        for ident in h.links[member]:
            rows.append(i)
            cols.append(ident_index.setdefault(ident, len(ident_index)))
    n = len(members) + len(ident_index)
    adjacency = sparse.coo_matrix(
        (np.ones(len(rows)), (rows, [len(members) + c for c in cols])), shape=(n, n)
    )
    _count, labels = csgraph.connected_components(adjacency, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, member in enumerate(members):
        groups[int(labels[i])].append(member)
    kinds = {"d": "device", "p": "phone", "y": "payout"}
    found = []
    for group in groups.values():
        if len(group) < p.same_person_min:
            continue
        group.sort()
        idents = {ident for m in group for ident in h.links[m]}
        found.append(
            Finding(
                "same_person",
                tuple(group),
                (Reason("same_person", len(group), devices=len(idents)),),
                tuple(
                    Edge(_m(m), ident, kinds[ident[0]])
                    for m in group
                    for ident in sorted(h.links[m])
                ),
            )
        )
    return found


def _peel(m: sparse.csr_matrix, weights: np.ndarray) -> tuple[list[int], list[int], float]:
    """FRAUDAR's greedy peeling of one weighted bipartite matrix: remove the row or column
    whose removal costs the least weight, keep the prefix of highest f(S)/|S|."""
    w = m.multiply(weights[np.newaxis, :]).tocsr()
    wc = w.tocsc()
    n_rows, n_cols = w.shape
    row_deg = np.asarray(w.sum(axis=1)).ravel()
    col_deg = np.asarray(w.sum(axis=0)).ravel()
    total = float(row_deg.sum())
    alive_r = np.ones(n_rows, dtype=bool)
    alive_c = np.ones(n_cols, dtype=bool)
    heap = [(float(row_deg[i]), 0, i) for i in range(n_rows)]
    heap += [(float(col_deg[j]), 1, j) for j in range(n_cols)]
    heapq.heapify(heap)
    size = n_rows + n_cols
    best = total / size if size else 0.0
    best_at = 0
    order: list[tuple[int, int]] = []
    while heap:
        deg, side, i = heapq.heappop(heap)
        if side == 0:
            if not alive_r[i] or deg != row_deg[i]:
                continue
            alive_r[i] = False
            start, end = w.indptr[i], w.indptr[i + 1]
            for j, v in zip(w.indices[start:end], w.data[start:end], strict=True):
                if alive_c[j]:
                    col_deg[j] -= v
                    heapq.heappush(heap, (float(col_deg[j]), 1, int(j)))
        else:
            if not alive_c[i] or deg != col_deg[i]:
                continue
            alive_c[i] = False
            start, end = wc.indptr[i], wc.indptr[i + 1]
            for r, v in zip(wc.indices[start:end], wc.data[start:end], strict=True):
                if alive_r[r]:
                    row_deg[r] -= v
                    heapq.heappush(heap, (float(row_deg[r]), 0, int(r)))
        total -= deg
        size -= 1
        order.append((side, i))
        if size and total / size > best:
            best = total / size
            best_at = len(order)
    removed = set(order[:best_at])
    rows = [i for i in range(n_rows) if (0, i) not in removed]
    cols = [j for j in range(n_cols) if (1, j) not in removed]
    return rows, cols, best


def dense_rings(h: History, p: GraphPolicy) -> list[Finding]:
    if not h.helps:
        return []
    in_deg: dict[int, int] = defaultdict(int)
    out_adj: dict[int, set[int]] = defaultdict(set)
    und = nx.Graph()
    for a, b in h.helps:
        in_deg[b] += 1
        out_adj[a].add(b)
        und.add_edge(a, b)
    und.remove_edges_from(nx.selfloop_edges(und))
    core = nx.k_core(und, p.ring_core)
    found: list[Finding] = []
    for comp in nx.connected_components(core):
        nodes = set(comp)
        while len(nodes) >= p.ring_min:
            edges = [(a, b) for a in nodes for b in out_adj.get(a, ()) if b in nodes]
            rows_ids = sorted({a for a, _ in edges})
            cols_ids = sorted({b for _, b in edges})
            if not rows_ids or not cols_ids:
                break
            ri = {m: i for i, m in enumerate(rows_ids)}
            ci = {m: i for i, m in enumerate(cols_ids)}
            mat = sparse.csr_matrix(
                (
                    np.ones(len(edges)),
                    ([ri[a] for a, _ in edges], [ci[b] for _, b in edges]),
                ),
                shape=(len(rows_ids), len(cols_ids)),
            )
            weights = np.array([1.0 / math.log(in_deg[c] + 5) for c in cols_ids])
            rows, cols, density = _peel(mat, weights)
            block_rows = {rows_ids[i] for i in rows}
            block_cols = {cols_ids[j] for j in cols}
            if density < p.ring_density or len(block_rows) < p.ring_min:
                break
            inside = [(a, b) for a in block_rows for b in out_adj[a] if b in block_cols]
            out = sum(len(out_adj[a]) for a in block_rows)
            members = tuple(sorted(block_rows))
            if out and len(inside) / out >= p.ring_inside_share:
                found.append(
                    Finding(
                        "dense_ring",
                        members,
                        (Reason("dense_ring", len(members), extra=str(len(inside))),),
                        tuple(Edge(_m(a), _m(b), "help") for a, b in sorted(inside)),
                    )
                )
            nodes -= block_rows
    return found


def lockstep(h: History, p: GraphPolicy) -> list[Finding]:
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    burst_span: dict[frozenset[int], float] = {}
    for target, times in h.help_times.items():
        if len(times) < p.lockstep_burst:
            continue
        times.sort()
        cluster: list[tuple[datetime, int]] = [times[0]]
        clusters = []
        for t, m in times[1:]:
            if t - cluster[-1][0] <= p.lockstep_gap:
                cluster.append((t, m))
            else:
                clusters.append(cluster)
                cluster = [(t, m)]
        clusters.append(cluster)
        for c in clusters:
            members = sorted({m for _, m in c})
            if len(members) < p.lockstep_burst:
                continue
            burst_span[frozenset(members)] = (c[-1][0] - c[0][0]).total_seconds()
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    shared[(a, b)].add(target)
    g = nx.Graph()
    g.add_edges_from(pair for pair, ts in shared.items() if len(ts) >= p.lockstep_targets)
    found = []
    for comp in nx.connected_components(g):
        if len(comp) < p.lockstep_min:
            continue
        targets = set().union(*(shared[(a, b)] for a, b in g.subgraph(comp).edges()))
        span = max((s for group, s in burst_span.items() if group & comp), default=0.0)
        group = tuple(sorted(comp))
        found.append(
            Finding(
                "lockstep",
                group,
                (Reason("lockstep", len(group), int(span), len(targets)),),
                tuple(
                    Edge(_m(m), "t:" + t, "acts-on")
                    for t in sorted(targets)
                    for _, m in h.help_times[t]
                    if m in comp
                ),
            )
        )
    return found


def invite_farms(h: History, p: GraphPolicy, now: datetime) -> list[Finding]:
    found = []
    for inviter, invitees in h.invites.items():
        if len(invitees) < p.invite_farm_min:
            continue
        quiet = []
        for m in invitees:
            orders = h.orders.get(m, [])
            if len(orders) != 1:
                continue
            at, amount = orders[0]
            last = h.last_seen.get(m, at)
            if amount <= p.minimal_order_fen and last <= at and now - at >= p.quiet:
                quiet.append(m)
        if len(quiet) >= p.invite_farm_min and len(quiet) >= p.invite_farm_share * len(invitees):
            members = tuple(sorted([inviter, *quiet]))
            found.append(
                Finding(
                    "invite_farm",
                    members,
                    (Reason("invite_farm", len(quiet), devices=len(invitees)),),
                    tuple(Edge(_m(inviter), _m(m), "invite") for m in sorted(invitees)),
                )
            )
    return found


def beneficiaries(h: History, p: GraphPolicy, flagged: set[int]) -> list[Finding]:
    helped_by: dict[int, list[int]] = defaultdict(list)
    for (a, b), _n in h.helps.items():
        helped_by[b].append(a)
    found = []
    for starter, helpers in helped_by.items():
        if starter in flagged:
            continue
        bad = [a for a in helpers if a in flagged]
        if len(bad) >= p.beneficiary_min and len(bad) >= p.beneficiary_share * len(helpers):
            found.append(
                Finding(
                    "helped_by_flagged",
                    (starter,),
                    (Reason("helped_by_flagged", len(bad), devices=len(helpers)),),
                    tuple(Edge(_m(a), _m(starter), "help") for a in bad),
                )
            )
    return found


def analyse(h: History, now: datetime, p: GraphPolicy = DEFAULT_GRAPH_POLICY) -> list[Finding]:
    """Every finding over the history, as of ``now``."""
    farms = same_person(h, p) + lockstep(h, p)
    found = farms + dense_rings(h, p) + invite_farms(h, p, now)
    # A farm works for its owner, outside it; a ring's beneficiaries are its members, and
    # its camouflage helps (popular honest bargains) must not make their starters suspects.
    return found + beneficiaries(h, p, members_of(farms))


def members_of(findings: Iterable[Finding]) -> set[int]:
    return {m for f in findings for m in f.members}
