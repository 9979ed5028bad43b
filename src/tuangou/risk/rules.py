"""The risk engine's pure rules: the per-event check that sits in a request's path.

An :class:`Event` (a signup, login, help, invite, vote, join or order) is judged by
:func:`decide` from :class:`Facts`, which :func:`gather` reads from a :class:`Store`: the
history the event is judged against. The platform's store reads the ``risk_events`` table
(``risk.service``); the replay's store is in memory (``risk.engine``). Both answer the same
questions, so the replay runs the very rules that guard the requests.

The heavier graph work (rings, lockstep groups, the same person behind many accounts, invite
farms) is in :mod:`tuangou.risk.graph`; its findings reach this check as the actor's
:class:`Flag`.

Every verdict keeps its reasons as :class:`Reason` (a code and its numbers), rendered in
words an operator can read ("14 helpers within 90 s sharing 2 devices").
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any, Protocol


class Action(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"  # prove the phone (an SMS code) before going on
    HOLD = "hold"  # goes on, and a review case is opened
    BLOCK = "block"  # refused (``risk_refused``), never saying which signal


class Severity(IntEnum):
    ALLOW = 0
    CHALLENGE = 1
    HOLD = 2
    BLOCK = 3


SEVERITY = {
    Action.ALLOW: Severity.ALLOW,
    Action.CHALLENGE: Severity.CHALLENGE,
    Action.HOLD: Severity.HOLD,
    Action.BLOCK: Severity.BLOCK,
}


class EventType(StrEnum):
    SIGNUP = "signup"
    LOGIN = "login"
    INVITE = "invite"  # actor: the invitee who accepted; other: the inviter
    BARGAIN = "bargain"  # actor: the starter; target: the bargain
    HELP = "help"  # actor: the helper; target: the bargain; other: its starter
    VOTE = "vote"  # actor: the voter; other: whom the vote is for
    JOIN = "join"  # actor: the member; target: the team
    ORDER = "order"  # actor: the member; target: the order


class FlagStatus(StrEnum):
    FLAGGED = "flagged"  # a finding names the member; a case is open
    BLOCKED = "blocked"  # an operator confirmed the case


class CaseStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    CLEARED = "cleared"


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    actor: int | None = None
    target: str | None = None  # "bargain:12", "team:3", "order:9"
    other: int | None = None  # the member the action is for (starter, inviter, candidate)
    device: str | None = None
    ip: str | None = None
    phone: str | None = None
    amount_fen: int | None = None
    payout: str | None = None  # a payout account, when the event names one

    @property
    def subnet(self) -> str | None:
        return subnet_of(self.ip)


@dataclass(frozen=True)
class Reason:
    """One signal, as a code and its numbers; :meth:`text` says it in words."""

    code: str
    n: int = 0
    within_s: int = 0
    devices: int = 0
    extra: str = ""

    def text(self, lang: str = "en") -> str:
        zh, en = REASON_TEXT.get(self.code, (self.code, self.code))
        template = zh if lang.startswith("zh") else en
        return template.format(
            n=self.n,
            s=self.within_s,
            m=self.within_s // 60,
            h=self.within_s // 3600,
            d=self.devices,
            x=self.extra,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "n": self.n,
            "within_s": self.within_s,
            "devices": self.devices,
            "extra": self.extra,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Reason:
        return cls(
            code=str(data.get("code", "")),
            n=int(data.get("n", 0)),
            within_s=int(data.get("within_s", 0)),
            devices=int(data.get("devices", 0)),
            extra=str(data.get("extra", "")),
        )


REASON_TEXT: dict[str, tuple[str, str]] = {
    "flag_blocked": ("该账号所在团伙已被运营确认", "a ring this account belongs to was confirmed"),
    "flag_open": ("该账号在待审核的风险案件中: {x}", "this account is in an open review case: {x}"),
    "device_burst": (
        "同一设备 {h} 小时内注册了 {n} 个账号",
        "{n} accounts signed up on one device within {h} h",
    ),
    "device_many": ("同一设备上共有 {n} 个账号", "{n} accounts on one device"),
    "subnet_burst": (
        "同一网段 (/24) {m} 分钟内注册了 {n} 个新账号",
        "{n} new accounts from one /24 subnet within {m} min",
    ),
    "phone_sequence": (
        "{h} 小时内有 {n} 个相邻的连号手机号注册",
        "{n} sequential phone numbers signed up within {h} h",
    ),
    "help_burst": (
        "{s} 秒内 {n} 人助力，共用 {d} 台设备",
        "{n} helpers within {s} s sharing {d} devices",
    ),
    "help_device_shared": (
        "同一设备为同一砍价助力了 {n} 次",
        "{n} helps on one bargain from one device",
    ),
    "velocity": ("{m} 分钟内 {n} 次{x}", "{n} {x} actions within {m} min"),
    "new_account": ("账号注册仅 {m} 分钟", "account only {m} min old"),
    "dense_ring": (
        "{n} 个账号几乎只互相助力 ({x} 次助力)",
        "{n} accounts that mostly help each other ({x} helps)",
    ),
    "same_person": (
        "{n} 个账号通过 {d} 台设备/手机号/收款账户关联为同一人",
        "{n} accounts linked as one person by {d} shared devices, phones or payout accounts",
    ),
    "lockstep": (
        "{n} 个账号在 {s} 秒内对同样的 {d} 个目标一起行动",
        "{n} accounts acting together on the same {d} targets within {s} s",
    ),
    "helped_by_flagged": (
        "{n} 次助力来自被标记的账号 (共 {d} 人助力)",
        "{n} of {d} helpers are flagged accounts",
    ),
    "invite_farm": (
        "邀请的 {n} 人只下了一笔最低金额订单后再无活动 (共邀请 {d} 人)",
        "{n} invitees placed one minimal order and went quiet (of {d} invited)",
    ),
}


@dataclass(frozen=True)
class Verdict:
    action: Action
    reasons: tuple[Reason, ...] = ()
    members: tuple[int, ...] = ()  # who the evidence implicates (the actor first)

    @property
    def allowed(self) -> bool:
        return self.action in (Action.ALLOW, Action.HOLD)

    def text(self, lang: str = "en") -> str:
        return "; ".join(r.text(lang) for r in self.reasons)


ALLOW = Verdict(Action.ALLOW)


@dataclass(frozen=True)
class Flag:
    status: FlagStatus
    summary: str = ""


@dataclass(frozen=True)
class Policy:
    """The thresholds of the per-event check (the defaults are tuned on the generated logs
    of ``risk.generate``: see docs/RISK.md)."""

    device_window: timedelta = timedelta(hours=1)
    device_burst_hold: int = 7  # accounts signed up on one device within the window
    device_burst_block: int = 15
    device_total_hold: int = 9  # accounts ever seen signing up on one device
    subnet_window: timedelta = timedelta(minutes=10)
    subnet_burst_challenge: int = 12
    phone_window: timedelta = timedelta(hours=24)
    phone_span: int = 3  # numbers within ±span count as sequential
    phone_sequence_challenge: int = 4
    help_window: timedelta = timedelta(seconds=90)
    help_burst_hold: int = 6  # helpers of one bargain within the window ...
    help_burst_device_share: float = 0.5  # ... on at most this share of distinct devices
    help_same_device_hold: int = 6  # helps of one bargain from one device (a family: ≤ 4) ...
    same_device_window: timedelta = timedelta(hours=24)  # ... within a day
    velocity_window: timedelta = timedelta(hours=1)
    velocity_hold: dict[str, int] = field(
        default_factory=lambda: {EventType.HELP: 25, EventType.INVITE: 30, EventType.VOTE: 30}
    )
    new_account_age: timedelta = timedelta(minutes=30)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class HelpSeen:
    actor: int | None
    device: str | None
    at: datetime


class Store(Protocol):
    """The history an event is judged against (the events before it)."""

    def flag_of(self, member: int) -> Flag | None: ...

    def signed_up_at(self, member: int) -> datetime | None: ...

    def device_signups(self, device: str, since: datetime | None) -> int: ...

    def subnet_signups(self, subnet: str, since: datetime) -> int: ...

    def phones_near(self, number: int, span: int, since: datetime) -> int: ...

    def helps_on(self, target: str, since: datetime) -> Sequence[HelpSeen]: ...

    def actions_of(self, member: int, type: str, since: datetime) -> int: ...


@dataclass(frozen=True)
class Facts:
    flag: Flag | None = None
    age: timedelta | None = None
    device_recent: int = 0  # accounts signed up on the device within the window (with this)
    device_total: int = 0
    subnet_recent: int = 0
    phone_neighbours: int = 0  # recent signups with a number within ±span (with this)
    helpers_recent: int = 0  # distinct helpers of the target within the window (with this)
    helper_devices: int = 0  # distinct devices among them
    burst_members: tuple[int, ...] = ()
    same_device_helps: int = 0  # helps of the target from this device (with this)
    velocity: int = 0  # the actor's actions of this type within the window (with this)


def subnet_of(ip: str | None) -> str | None:
    """The /24 of an IPv4 address (the /48 of an IPv6 one), or None."""
    if not ip:
        return None
    return _subnet(ip)


@functools.lru_cache(maxsize=65_536)
def _subnet(ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if addr.is_loopback or addr.is_unspecified:
        return None  # the machine itself (a proxy that does not forward the address)
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def phone_number(phone: str | None) -> int | None:
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    return int(digits[-15:]) if digits else None  # fits a BIGINT


def near_numbers(number: int, span: int) -> list[int]:
    """The numbers within ±``span`` of ``number`` but itself: a run of SIM cards bought
    together has sequential numbers."""
    return [number + d for d in range(-span, span + 1) if d]


def judge(event: Event, store: Store, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """:func:`decide` on what :func:`gather` reads; the account's age is read only when some
    signal fired (it is kept among the reasons, never a reason alone)."""
    facts = gather(event, store, policy)
    verdict = decide(event, facts, policy)
    if verdict.reasons and event.actor is not None:
        signed = store.signed_up_at(event.actor)
        if signed is not None:
            verdict = decide(event, replace(facts, age=event.at - signed), policy)
    return verdict


def gather(event: Event, store: Store, policy: Policy = DEFAULT_POLICY) -> Facts:
    """What the store knows that bears on ``event`` (the event itself counted in), but the
    account's age (see :func:`judge`)."""
    at = event.at
    flag = store.flag_of(event.actor) if event.actor is not None else None
    age = None
    device_recent = device_total = subnet_recent = phone_neighbours = 0
    helpers_recent = helper_devices = same_device = velocity = 0
    burst: tuple[int, ...] = ()
    if event.type == EventType.SIGNUP:
        if event.device:
            device_recent = store.device_signups(event.device, at - policy.device_window) + 1
            device_total = store.device_signups(event.device, None) + 1
        if event.subnet:
            subnet_recent = store.subnet_signups(event.subnet, at - policy.subnet_window) + 1
        number = phone_number(event.phone)
        if number is not None:
            since = at - policy.phone_window
            phone_neighbours = store.phones_near(number, policy.phone_span, since) + 1
    if event.type == EventType.HELP and event.target:
        day = list(store.helps_on(event.target, at - policy.same_device_window))
        day.append(HelpSeen(event.actor, event.device, at))
        seen = [h for h in day if h.at >= at - policy.help_window]
        helpers = {h.actor for h in seen if h.actor is not None}
        helpers_recent = len(helpers)
        helper_devices = len({h.device or f"?{h.actor}" for h in seen})
        burst = tuple(sorted(helpers))
        if event.device:
            same_device = sum(1 for h in day if h.device == event.device)
    if event.actor is not None and event.type in policy.velocity_hold:
        velocity = store.actions_of(event.actor, event.type, at - policy.velocity_window) + 1
    return Facts(
        flag=flag,
        age=age,
        device_recent=device_recent,
        device_total=device_total,
        subnet_recent=subnet_recent,
        phone_neighbours=phone_neighbours,
        helpers_recent=helpers_recent,
        helper_devices=helper_devices,
        burst_members=burst,
        same_device_helps=same_device,
        velocity=velocity,
    )


# What a member an open case names may still do: log in and buy, with a review; not help,
# invite or vote (the actions that carry rewards).
_FLAGGED_ACTION: dict[str, Action] = {
    EventType.HELP: Action.BLOCK,
    EventType.INVITE: Action.BLOCK,
    EventType.VOTE: Action.BLOCK,
    EventType.LOGIN: Action.CHALLENGE,
}


def decide(event: Event, facts: Facts, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """The verdict on one event: the most severe action any signal asks for, with every
    reason that asked."""
    found: list[tuple[Action, Reason]] = []
    members: list[int] = [] if event.actor is None else [event.actor]
    if facts.flag is not None:
        if facts.flag.status == FlagStatus.BLOCKED:
            found.append((Action.BLOCK, Reason("flag_blocked")))
        else:
            action = _FLAGGED_ACTION.get(event.type, Action.HOLD)
            found.append((action, Reason("flag_open", extra=facts.flag.summary)))
    if event.type == EventType.SIGNUP:
        hours = int(policy.device_window.total_seconds())
        if facts.device_recent >= policy.device_burst_block:
            found.append((Action.BLOCK, Reason("device_burst", facts.device_recent, hours)))
        elif facts.device_recent >= policy.device_burst_hold:
            found.append((Action.HOLD, Reason("device_burst", facts.device_recent, hours)))
        elif facts.device_total >= policy.device_total_hold:
            found.append((Action.HOLD, Reason("device_many", facts.device_total)))
        if facts.subnet_recent >= policy.subnet_burst_challenge:
            secs = int(policy.subnet_window.total_seconds())
            found.append((Action.CHALLENGE, Reason("subnet_burst", facts.subnet_recent, secs)))
        if facts.phone_neighbours >= policy.phone_sequence_challenge and (
            facts.device_recent >= 2 or facts.subnet_recent >= 3
        ):
            # A run of SIM cards is only a signal with a shared device or network: a family's
            # or a company's contract has sequential numbers too.
            secs = int(policy.phone_window.total_seconds())
            found.append((Action.CHALLENGE, Reason("phone_sequence", facts.phone_neighbours, secs)))
    if event.type == EventType.HELP:
        secs = int(policy.help_window.total_seconds())
        if (
            facts.helpers_recent >= policy.help_burst_hold
            and facts.helper_devices <= facts.helpers_recent * policy.help_burst_device_share
        ):
            found.append(
                (
                    Action.HOLD,
                    Reason("help_burst", facts.helpers_recent, secs, facts.helper_devices),
                )
            )
            members.extend(m for m in facts.burst_members if m != event.actor)
        if facts.same_device_helps >= policy.help_same_device_hold:
            found.append((Action.HOLD, Reason("help_device_shared", facts.same_device_helps)))
    limit = policy.velocity_hold.get(event.type)
    if limit is not None and facts.velocity >= limit:
        secs = int(policy.velocity_window.total_seconds())
        found.append((Action.HOLD, Reason("velocity", facts.velocity, secs, extra=event.type)))
    if not found:
        return ALLOW
    if facts.age is not None and facts.age < policy.new_account_age:
        age_s = int(facts.age.total_seconds())
        found.append((Action.ALLOW, Reason("new_account", within_s=age_s)))
    action = max((a for a, _ in found), key=lambda a: SEVERITY[a])
    return Verdict(action, tuple(r for _, r in found), tuple(dict.fromkeys(members)))


def flags(verdict: Verdict) -> bool:
    """Whether a verdict puts its members under review (a hold or a block)."""
    return SEVERITY[verdict.action] >= Severity.HOLD
