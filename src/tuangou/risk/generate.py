"""A generator of event logs with labelled fraud, for the risk engine's tests and benchmark.

The honest population lives in compounds (小区): each compound shares a /24 subnet (its
Wi-Fi), families of one to five share a tablet four times in ten, a compound's leader invites
many members (a few of whom place one small order and are not seen again), leaders' promotions
bring bursts of signups from one subnet, members start bargains that family, neighbours and
relatives in other compounds help (a family passing its tablet round within minutes), and a
few leaders' bargains are popular.

Into it go four patterns of fraud, each member labelled with its pattern:

* ``help_ring``: a dozen accounts that start bargains and help each other's, slowly, each on
  its own phone, from scattered networks;
* ``camouflaged_ring``: the same, whose members also help popular honest bargains;
* ``device_farm``: dozens of accounts made on a few devices (sequential SIM numbers) that help
  their owner's bargains together, within minutes; some farms make their accounts in a burst,
  some over days;
* ``invite_farm``: an inviter whose invitees each place one minimal order and go quiet.

Everything is drawn from one seeded ``random.Random``: the same seed gives the same log.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

HONEST = "honest"
PATTERNS = ("help_ring", "camouflaged_ring", "device_farm", "invite_farm")
START = datetime(2026, 11, 1)
DAYS = 30


@dataclass
class Log:
    events: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)  # member → pattern or "honest"

    def lines(self) -> Iterator[str]:
        for e in sorted(self.events, key=lambda e: e["at"]):
            yield json.dumps(e, separators=(",", ":"))

    def write(self, path: str, labels_path: str | None = None) -> None:
        with open(path, "w", encoding="utf-8") as f:
            for line in self.lines():
                f.write(line + "\n")
        if labels_path:
            with open(labels_path, "w", encoding="utf-8") as f:
                json.dump(self.label_doc(), f)

    def label_doc(self) -> dict[str, Any]:
        patterns: dict[str, list[int]] = {}
        for m, p in sorted(self.labels.items()):
            patterns.setdefault(p, []).append(m)
        return {
            "members": {str(m): p for m, p in sorted(self.labels.items())},
            "patterns": patterns,
        }


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.log = Log()
        self.next_member = 1
        self.next_bargain = 1
        self.next_order = 1
        self.popular: list[tuple[int, int, datetime]] = []  # (bargain, starter, started)
        self.phones: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def at(self, base: datetime | None = None, within: timedelta | None = None) -> datetime:
        if base is None:
            return START + timedelta(seconds=self.r.uniform(0, DAYS * 86400))
        span = (within or timedelta(days=1)).total_seconds()
        return base + timedelta(seconds=self.r.uniform(0, span))

    def emit(self, type_: str, at: datetime, **data: Any) -> None:
        self.log.events.append({"type": type_, "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), **data})

    def device(self) -> str:
        return f"dev-{self.r.getrandbits(48):012x}"

    def phone(self) -> str:
        while True:
            p = f"1{self.r.choice('3456789')}{self.r.randrange(10**9):09d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def mobile_ip(self) -> str:
        r = self.r
        first = r.choice((39, 112, 117, 183, 223))
        return f"{first}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def member(self, label: str, at: datetime, device: str, ip: str, phone: str) -> int:
        m = self.next_member
        self.next_member += 1
        self.log.labels[m] = label
        self.emit("signup", at, member=m, device=device, ip=ip, phone=phone)
        return m

    def bargain(self, starter: int, at: datetime) -> int:
        b = self.next_bargain
        self.next_bargain += 1
        self.emit("bargain", at, bargain=b, starter=starter, campaign=1 + b % 17)
        return b

    def help(self, helper: int, b: int, starter: int, at: datetime, device: str, ip: str) -> None:
        self.emit("help", at, helper=helper, bargain=b, starter=starter, device=device, ip=ip)

    def order(self, m: int, at: datetime, amount: int, device: str, ip: str) -> None:
        o = self.next_order
        self.next_order += 1
        self.emit("order", at, member=m, order=o, amount_fen=amount, device=device, ip=ip)


@dataclass
class _Person:
    id: int
    device: str
    ip: str
    joined: datetime
    family: int
    compound: int


def generate(members: int = 10_000, seed: int = 7, fraud_share: float = 0.07) -> Log:
    """A log of about ``members`` members, ``fraud_share`` of them in fraud patterns."""
    g = _Gen(seed)
    r = g.r
    fraud_budget = int(members * fraud_share)
    honest_n = members - fraud_budget
    people: list[_Person] = []
    compounds: list[list[_Person]] = []
    family_of: dict[int, list[_Person]] = {}
    leaders: list[_Person] = []
    fam = 0
    c = 0
    while len(people) < honest_n:
        size = r.randint(60, 260)
        subnet = f"100.{64 + c // 256}.{c % 256}"
        residents: list[_Person] = []
        promo = g.at()  # a leader's promotion: a burst of signups in minutes
        while len(residents) < size and len(people) < honest_n:
            fam += 1
            n = r.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))
            tablet = g.device() if r.random() < 0.4 and n > 1 else None
            base = promo if r.random() < 0.06 else g.at()
            members_f = []
            for _ in range(n):
                dev = tablet or g.device()
                ip = f"{subnet}.{r.randrange(2, 254)}"
                at = g.at(base, timedelta(minutes=8) if base is promo else timedelta(hours=2))
                m = g.member(HONEST, at, dev, ip, g.phone())
                p = _Person(m, dev, ip, at, fam, c)
                members_f.append(p)
                residents.append(p)
                people.append(p)
            for p in members_f:
                family_of[p.id] = members_f
        compounds.append(residents)
        leaders.append(residents[0])
        c += 1

    # Honest invitations and orders: a leader invites many; most invitees buy again and again.
    invited: set[int] = set()
    for leader, residents in zip(leaders, compounds, strict=True):
        for p in residents[1:]:
            if r.random() < 0.35:
                g.emit("invite", p.joined + timedelta(minutes=1), inviter=leader.id, invitee=p.id)
                invited.add(p.id)
    for p in people:
        if r.random() < 0.12 and p.id in invited:  # one small order, then gone: honest too
            g.order(p.id, g.at(p.joined, timedelta(days=2)), r.randint(290, 990), p.device, p.ip)
            continue
        for _ in range(r.choice((0, 1, 1, 2, 2, 3, 4, 6))):
            at = g.at(p.joined, timedelta(days=DAYS))
            g.order(p.id, at, r.randint(590, 25_000), p.device, p.ip)

    # Honest bargains: family, neighbours and relatives in other compounds help.
    for p in people:
        if r.random() >= 0.3:
            continue
        popular = p in leaders and r.random() < 0.5
        for _ in range(r.choice((1, 1, 2))):
            start = g.at(p.joined, timedelta(days=DAYS))
            b = g.bargain(p.id, start)
            if popular:
                g.popular.append((b, p.id, start))
            helpers: list[_Person] = []
            fam_helpers = [q for q in family_of[p.id] if q is not p]
            helpers += fam_helpers
            neighbours = compounds[p.compound]
            helpers += r.sample(neighbours, min(len(neighbours), r.randint(1, 4)))
            if r.random() < 0.5:
                other = compounds[r.randrange(len(compounds))]
                helpers += r.sample(other, min(len(other), r.randint(1, 2)))
            if popular:
                helpers += r.sample(people, r.randint(15, 40))
            seen: set[int] = set()
            tablet_at = g.at(start, timedelta(hours=6))
            for q in helpers:
                if q.id == p.id or q.id in seen:
                    continue
                seen.add(q.id)
                if q.device == p.device or (q in fam_helpers and q.device == fam_helpers[0].device):
                    at = g.at(tablet_at, timedelta(minutes=4))  # the tablet passed round
                else:
                    at = g.at(start, timedelta(hours=20))
                ip = q.ip if r.random() < 0.6 else g.mobile_ip()
                g.help(q.id, b, p.id, max(at, q.joined + timedelta(seconds=1)), q.device, ip)

    # Fraud, pattern by pattern, until the budget is spent.
    budget = {
        "help_ring": fraud_budget * 22 // 100,
        "camouflaged_ring": fraud_budget * 20 // 100,
        "device_farm": fraud_budget * 33 // 100,
        "invite_farm": fraud_budget * 25 // 100,
    }
    for pattern in PATTERNS:
        left = budget[pattern]
        while left >= 6:
            made = _FRAUD[pattern](g, min(left, _size(g, pattern)))
            left -= made
    return g.log


def _size(g: _Gen, pattern: str) -> int:
    return {
        "help_ring": g.r.randint(6, 14),
        "camouflaged_ring": g.r.randint(8, 15),
        "device_farm": g.r.randint(14, 40),
        "invite_farm": g.r.randint(10, 28),
    }[pattern]


def _ring(g: _Gen, n: int, camouflage: bool) -> int:
    r = g.r
    label = "camouflaged_ring" if camouflage else "help_ring"
    start = g.at(START, timedelta(days=DAYS - 8))
    ring = []
    for _ in range(n):
        dev, ip = g.device(), g.mobile_ip()
        at = g.at(start, timedelta(days=3))
        ring.append((g.member(label, at, dev, ip, g.phone()), dev, at))
    for starter, _dev, joined in ring:
        for _ in range(r.choice((1, 2))):
            s_at = g.at(joined + timedelta(hours=1), timedelta(days=4))
            b = g.bargain(starter, s_at)
            for helper, dev, h_joined in ring:
                if helper != starter and r.random() < 0.85:
                    at = max(g.at(s_at, timedelta(hours=20)), h_joined + timedelta(minutes=5))
                    g.help(helper, b, starter, at, dev, g.mobile_ip())
        if camouflage and g.popular:
            for b, s, s_at in r.sample(g.popular, min(len(g.popular), r.randint(3, 8))):
                g.help(
                    starter, b, s, max(g.at(s_at, timedelta(hours=20)), joined), _dev, g.mobile_ip()
                )
    for m, dev, joined in ring:
        if r.random() < 0.5:
            g.order(m, g.at(joined, timedelta(days=5)), r.randint(990, 9900), dev, g.mobile_ip())
    return n


def _device_farm(g: _Gen, n: int) -> int:
    r = g.r
    devices = [g.device() for _ in range(r.randint(1, 3))]
    subnet = f"10.{r.randrange(256)}.{r.randrange(256)}"
    burst = r.random() < 0.6
    start = g.at(START, timedelta(days=DAYS - 6))
    base = 13_000_000_000 + r.randrange(10**9)
    owner_dev = g.device()
    owner = g.member(
        "device_farm",
        g.at(start - timedelta(days=2), timedelta(days=1)),
        owner_dev,
        g.mobile_ip(),
        g.phone(),
    )
    accounts = []
    for i in range(n - 1):
        at = g.at(start, timedelta(minutes=80) if burst else timedelta(days=4))
        dev = devices[i % len(devices)]
        accounts.append(
            (
                g.member("device_farm", at, dev, f"{subnet}.{r.randrange(2, 254)}", str(base + i)),
                dev,
            )
        )
    work = start + (timedelta(hours=2) if burst else timedelta(days=4, hours=1))
    for _ in range(r.randint(3, 5)):
        b_at = g.at(work, timedelta(days=2))
        b = g.bargain(owner, b_at)
        t = b_at + timedelta(minutes=r.randint(5, 60))
        for m, dev in accounts:
            t += timedelta(seconds=r.randint(3, 20))
            g.help(m, b, owner, t, dev, f"{subnet}.{r.randrange(2, 254)}")
    return n


def _invite_farm(g: _Gen, n: int) -> int:
    r = g.r
    start = g.at(START, timedelta(days=DAYS - 10))
    inviter_dev = g.device()
    inviter = g.member("invite_farm", start, inviter_dev, g.mobile_ip(), g.phone())
    g.order(
        inviter, g.at(start, timedelta(days=3)), r.randint(2000, 9000), inviter_dev, g.mobile_ip()
    )
    devices = [g.device() for _ in range(r.randint(2, n))]  # emulators, often one per account
    for i in range(n - 1):
        at = g.at(start + timedelta(hours=1), timedelta(days=4))
        dev = devices[i % len(devices)]
        ip = g.mobile_ip()
        m = g.member("invite_farm", at, dev, ip, g.phone())
        g.emit("invite", at + timedelta(seconds=30), inviter=inviter, invitee=m)
        g.order(
            m, at + timedelta(minutes=r.randint(2, 50)), r.choice((1, 10, 100, 500, 990)), dev, ip
        )
    return n


_FRAUD = {
    "help_ring": lambda g, n: _ring(g, n, camouflage=False),
    "camouflaged_ring": lambda g, n: _ring(g, n, camouflage=True),
    "device_farm": _device_farm,
    "invite_farm": _invite_farm,
}


def score(flagged: set[str], labels: dict[str, str]) -> dict[str, dict[str, float]]:
    """Precision and recall, overall and per pattern. A pattern's precision counts every
    honest member flagged against it (the strictest reading): tp / (tp + all false positives)."""
    fp = sum(1 for m in flagged if labels.get(m, HONEST) == HONEST)
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, set[str]] = {}
    for m, p in labels.items():
        if p != HONEST:
            groups.setdefault(p, set()).add(m)
            groups.setdefault("overall", set()).add(m)
    for name in ("overall", *PATTERNS):
        members = groups.get(name, set())
        tp = len(members & flagged)
        out[name] = {
            "members": len(members),
            "tp": tp,
            "fp": fp,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / len(members) if members else 1.0,
        }
    return out
