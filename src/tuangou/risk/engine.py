"""The replay: an event log through the same rules, in memory.

:class:`MemoryStore` answers the per-event questions of :class:`tuangou.risk.rules.Store`
from dictionaries; :class:`Replay` feeds events in time order through
:func:`rules.judge` (the request path's check) and, every
``graph_every`` events and at the end, :func:`graph.analyse` (the worker's job), whose
findings flag members exactly as the job does on the platform.

The log: one JSON object a line, each with ``type`` and ``at`` (ISO-8601, UTC):
``signup {member, device, ip, phone}``, ``invite {inviter, invitee}``,
``bargain {bargain, starter, campaign}``, ``help {helper, bargain, starter, device, ip}``,
``order {member, order, amount_fen, device, ip}`` (and the platform's own ``login``,
``vote {voter, candidate}``, ``join {member, team}``). Unknown types are skipped and counted;
a malformed line is skipped and reported with its line number.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from tuangou.risk import graph, rules
from tuangou.risk.rules import Event, EventType, Flag, FlagStatus, HelpSeen


class _Times:
    """Instants in time order (events arrive in time order), counted since an instant."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: list[datetime] = []

    def add(self, at: datetime) -> None:
        if self.at and at < self.at[-1]:
            bisect.insort(self.at, at)
        else:
            self.at.append(at)

    def since(self, t: datetime | None) -> int:
        if t is None:
            return len(self.at)
        return len(self.at) - bisect.bisect_left(self.at, t)


class MemoryStore:
    def __init__(self) -> None:
        self.flags: dict[int, Flag] = {}
        self.signups: dict[int, datetime] = {}
        self.devices: dict[str, _Times] = defaultdict(_Times)
        self.subnets: dict[str, _Times] = defaultdict(_Times)
        self.phones: dict[int, _Times] = defaultdict(_Times)
        self.helps: dict[str, list[HelpSeen]] = defaultdict(list)
        self.help_times: dict[str, list[datetime]] = defaultdict(list)
        self.actions: dict[tuple[int, str], _Times] = defaultdict(_Times)

    # the Store protocol
    def flag_of(self, member: int) -> Flag | None:
        return self.flags.get(member)

    def signed_up_at(self, member: int) -> datetime | None:
        return self.signups.get(member)

    def device_signups(self, device: str, since: datetime | None) -> int:
        t = self.devices.get(device)
        return t.since(since) if t else 0

    def subnet_signups(self, subnet: str, since: datetime) -> int:
        t = self.subnets.get(subnet)
        return t.since(since) if t else 0

    def phones_near(self, number: int, span: int, since: datetime) -> int:
        n = 0
        for near in rules.near_numbers(number, span):
            t = self.phones.get(near)
            if t:
                n += t.since(since) > 0
        return n

    def helps_on(self, target: str, since: datetime) -> list[HelpSeen]:
        seen = self.helps.get(target)
        if not seen:
            return []
        return seen[bisect.bisect_left(self.help_times[target], since) :]

    def actions_of(self, member: int, type: str, since: datetime) -> int:
        t = self.actions.get((member, type))
        return t.since(since) if t else 0

    # recording what happened
    def record(self, e: Event) -> None:
        if e.type == EventType.SIGNUP and e.actor is not None:
            self.signups.setdefault(e.actor, e.at)
            if e.device:
                self.devices[e.device].add(e.at)
            if e.subnet:
                self.subnets[e.subnet].add(e.at)
            number = rules.phone_number(e.phone)
            if number is not None:
                self.phones[number].add(e.at)
        if e.type == EventType.HELP and e.target:
            self.helps[e.target].append(HelpSeen(e.actor, e.device, e.at))
            self.help_times[e.target].append(e.at)  # events come in time order
        if e.actor is not None:
            self.actions[(e.actor, e.type)].add(e.at)


class Malformed(ValueError):
    pass


def parse_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise Malformed("'at' must be an ISO-8601 string")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise Malformed(f"'at' is not ISO-8601: {value!r}") from e
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at


# What each type of the log carries: (the actor's field, the other member's field, the
# target's field and its prefix).
SCHEMA: dict[str, tuple[str, str | None, str | None]] = {
    "signup": ("member", None, None),
    "login": ("member", None, None),
    "invite": ("invitee", "inviter", None),
    "bargain": ("starter", None, "bargain"),
    "help": ("helper", "starter", "bargain"),
    "vote": ("voter", "candidate", "target"),
    "join": ("member", None, "team"),
    "order": ("member", None, "order"),
}


@dataclass
class ReplayReport:
    events: int = 0
    skipped_types: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    malformed: list[tuple[int, str]] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    findings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flagged: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Replay:
    """The engine over a log. Members are the log's ids (any JSON scalar), interned."""

    def __init__(
        self,
        policy: rules.Policy = rules.DEFAULT_POLICY,
        graph_policy: graph.GraphPolicy = graph.DEFAULT_GRAPH_POLICY,
        graph_every: int = 50_000,
    ) -> None:
        self.policy = policy
        self.graph_policy = graph_policy
        self.graph_every = graph_every
        self.store = MemoryStore()
        self.history = graph.History()
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self.flagged: set[int] = set()
        self.report = ReplayReport()

    def member(self, value: object) -> int:
        if value is None or isinstance(value, bool | dict | list):
            raise Malformed("a member id must be a number or a string")
        key = str(value)
        got = self.ids.get(key)
        if got is None:
            got = self.ids[key] = len(self.names)
            self.names.append(key)
        return got

    def parse(self, line: str) -> Event | None:
        """One line of the log as an event; None for an unknown type (counted)."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise Malformed(f"not JSON ({e.msg})") from e
        if not isinstance(obj, dict):
            raise Malformed("not a JSON object")
        type_ = obj.get("type")
        if not isinstance(type_, str):
            raise Malformed("no 'type'")
        at = parse_at(obj.get("at"))
        shape = SCHEMA.get(type_)
        if shape is None:
            self.report.skipped_types[type_] += 1
            return None
        actor_key, other_key, target_key = shape
        if actor_key not in obj:
            raise Malformed(f"{type_} without '{actor_key}'")
        amount = obj.get("amount_fen")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
            raise Malformed("'amount_fen' must be an integer")
        if type_ == "order" and amount is None:
            raise Malformed("order without 'amount_fen'")
        other = obj.get(other_key) if other_key else None
        target = obj.get(target_key) if target_key else None
        return Event(
            type=type_,
            at=at,
            actor=self.member(obj[actor_key]),
            other=None if other is None else self.member(other),
            target=None if target is None else f"{target_key}:{target}",
            device=_text(obj.get("device")),
            ip=_text(obj.get("ip")),
            phone=_text(obj.get("phone")),
            amount_fen=amount,
            payout=_text(obj.get("payout")),
        )

    def read(self, lines: Iterable[str]) -> list[Event]:
        events: list[Event] = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                e = self.parse(line)
            except Malformed as err:
                self.report.malformed.append((n, str(err)))
                continue
            if e is not None:
                events.append(e)
        events.sort(key=lambda e: e.at)  # stable: ties keep the log's order
        return events

    def step(self, e: Event) -> rules.Verdict:
        verdict = rules.judge(e, self.store, self.policy)
        self.store.record(e)
        self.history.add(e)
        self.report.verdicts[verdict.action] += 1
        if rules.flags(verdict):
            for m in verdict.members:
                self._flag(m, verdict.text())
        return verdict

    def _flag(self, member: int, summary: str) -> None:
        self.flagged.add(member)
        if member not in self.store.flags:
            self.store.flags[member] = Flag(FlagStatus.FLAGGED, summary)

    def run_graph(self, now: datetime) -> list[graph.Finding]:
        found = graph.analyse(self.history, now, self.graph_policy)
        for f in found:
            for m in f.members:
                self._flag(m, f.reasons[0].text() if f.reasons else f.kind)
        return found

    def run(self, events: Iterable[Event]) -> ReplayReport:
        import time

        started = time.perf_counter()
        last: datetime | None = None
        for e in events:
            self.step(e)
            last = e.at
            self.report.events += 1
            if self.graph_every and self.report.events % self.graph_every == 0:
                self.run_graph(e.at)
        findings: list[graph.Finding] = []
        if last is not None:
            findings = self.run_graph(last)
        for f in findings:
            self.report.findings[f.kind] += 1
        self.report.flagged = sorted((self.names[m] for m in self.flagged), key=_natural)
        self.report.seconds = time.perf_counter() - started
        return self.report


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


def _natural(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


def replay_lines(lines: Iterable[str], **kw: object) -> ReplayReport:
    r = Replay(**kw)  # type: ignore[arg-type]
    return r.run(r.read(lines))


def iter_file(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        yield from f
