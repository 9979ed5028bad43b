"""The risk engine on the platform's database.

* :func:`assess` is the per-event check in a request's path: it judges a signup, login, help,
  invite, vote, join or order with :mod:`tuangou.risk.rules` against the ``risk_events``
  table (:class:`SqlStore`), records the event and its verdict, and for a hold or a block
  flags the members the evidence names and opens a review case. The entry points call it
  through the hook the composition root installs (``api.deps.register_risk_gate``); the
  caller refuses a block (:class:`RiskRefused`, which never says which signal).
* :func:`help_check` is the same check for a bargain's help, in the shape the bargains
  domain registers (``bargains.register_help_check``).
* The graph job (``risk.tasks.analyse``) opens cases for the findings of
  :mod:`tuangou.risk.graph`; :func:`open_case` skips evidence an operator already cleared.
* :func:`decide_case`: an operator confirms a case (its members are blocked, and the hooks
  registered with :func:`register_on_confirmed` reverse what they gained, e.g. their helps)
  or clears it (the flags go, and the same evidence flags those members no more).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import get_or_404, run_in_transaction
from tuangou.core.errors import Conflict, DomainError, Forbidden, NotFound
from tuangou.risk import graph, rules
from tuangou.risk.errors import RiskErrorCode
from tuangou.risk.models import RiskCase, RiskClearance, RiskEvent, RiskFlag
from tuangou.risk.rules import (
    Action,
    CaseStatus,
    Event,
    EventType,
    Flag,
    FlagStatus,
    HelpSeen,
    Reason,
    Verdict,
)

__all__ = [
    "Action",
    "CaseStatus",
    "Event",
    "EventType",
    "FlagStatus",
    "Verdict",
    "assess",
    "decide_case",
    "help_check",
    "register_on_confirmed",
]


class RiskRefused(Forbidden):
    code = RiskErrorCode.RISK_REFUSED
    status = 403
    title = "This action was refused for the safety of the platform"


class RiskChallenge(Forbidden):
    code = RiskErrorCode.RISK_CHALLENGE
    status = 403
    title = "Please confirm it is you with a code sent to your phone"


class CaseNotFound(NotFound):
    code = RiskErrorCode.CASE_NOT_FOUND
    title = "Risk case not found"


class CaseDecided(Conflict):
    code = RiskErrorCode.CASE_DECIDED
    title = "This risk case was already decided"


OnConfirmed = Callable[[Session, list[int], str], Any]
_on_confirmed: list[OnConfirmed] = []


def register_on_confirmed(fn: OnConfirmed) -> None:
    """Called with (session, member ids, reason) when an operator confirms a case: the place
    for another domain to reverse what the members gained (their helps, their rewards)."""
    if fn not in _on_confirmed:
        _on_confirmed.append(fn)


def unregister_on_confirmed(fn: OnConfirmed) -> None:
    if fn in _on_confirmed:
        _on_confirmed.remove(fn)


# ---------------------------------------------------------------- the store of the events


class SqlStore:
    """:class:`rules.Store` over ``risk_events`` (the events before the one judged)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def flag_of(self, member: int) -> Flag | None:
        row = self.s.execute(
            select(RiskFlag.status, RiskFlag.summary).where(RiskFlag.member_id == member)
        ).first()
        return None if row is None else Flag(FlagStatus(row.status), row.summary)

    def signed_up_at(self, member: int) -> datetime | None:
        at = self.s.scalar(
            select(func.min(RiskEvent.at)).where(
                RiskEvent.actor == member, RiskEvent.type == EventType.SIGNUP
            )
        )
        if at is not None:
            return at
        try:
            return accounts.get_user(self.s, member).created_at
        except DomainError:
            return None

    def _count(self, *where: Any) -> int:
        return int(self.s.scalar(select(func.count()).select_from(RiskEvent).where(*where)) or 0)

    def device_signups(self, device: str, since: datetime | None) -> int:
        where = [RiskEvent.type == EventType.SIGNUP, RiskEvent.device == device]
        if since is not None:
            where.append(RiskEvent.at >= since)
        return self._count(*where)

    def subnet_signups(self, subnet: str, since: datetime) -> int:
        return self._count(
            RiskEvent.type == EventType.SIGNUP, RiskEvent.subnet == subnet, RiskEvent.at >= since
        )

    def phones_near(self, number: int, span: int, since: datetime) -> int:
        return int(
            self.s.scalar(
                select(func.count(func.distinct(RiskEvent.phone_num))).where(
                    RiskEvent.phone_num.in_(rules.near_numbers(number, span)),
                    RiskEvent.type == EventType.SIGNUP,
                    RiskEvent.at >= since,
                )
            )
            or 0
        )

    def helps_on(self, target: str, since: datetime) -> list[HelpSeen]:
        rows = self.s.execute(
            select(RiskEvent.actor, RiskEvent.device, RiskEvent.at).where(
                RiskEvent.target == target,
                RiskEvent.type == EventType.HELP,
                RiskEvent.at >= since,
            )
        )
        return [HelpSeen(a, d, at) for a, d, at in rows]

    def actions_of(self, member: int, type: str, since: datetime) -> int:
        return self._count(RiskEvent.actor == member, RiskEvent.type == type, RiskEvent.at >= since)


# ---------------------------------------------------------------- the per-event check


def assess(
    session: Session,
    *,
    type: str,
    actor: int | None,
    target: str | None = None,
    other: int | None = None,
    device: str | None = None,
    ip: str | None = None,
    phone: str | None = None,
    amount_fen: int | None = None,
    payout: str | None = None,
    policy: rules.Policy = rules.DEFAULT_POLICY,
) -> Verdict:
    """Judge one event, record it with its verdict, and for a hold or a block flag the
    members the evidence names (a review case). Flushes; the caller's unit of work commits
    (the entry points run it in its own, so that a refused event is kept)."""
    event = _event(
        type=type,
        actor=actor,
        target=target,
        other=other,
        device=device,
        ip=ip,
        phone=phone,
        amount_fen=amount_fen,
        payout=payout,
    )
    return _judge(session, event, policy)[0]


def _event(
    *,
    type: str,
    actor: int | None,
    target: str | None = None,
    other: int | None = None,
    device: str | None = None,
    ip: str | None = None,
    phone: str | None = None,
    amount_fen: int | None = None,
    payout: str | None = None,
) -> Event:
    return Event(
        type=EventType(type),
        at=clock.now(),
        actor=actor,
        target=target and target[:64],
        other=other,
        device=(device or None) and device[:128],
        ip=(ip or None) and ip[:64],
        phone=(phone or None) and phone[:32],
        amount_fen=amount_fen,
        payout=(payout or None) and payout[:128],
    )


def _judge(session: Session, event: Event, policy: rules.Policy) -> tuple[Verdict, int]:
    verdict = rules.judge(event, SqlStore(session), policy)
    row = RiskEvent(
        type=event.type,
        at=event.at,
        actor=event.actor,
        target=event.target,
        other=event.other,
        device=event.device,
        ip=event.ip,
        subnet=event.subnet,
        phone=event.phone,
        phone_num=rules.phone_number(event.phone),
        amount_fen=event.amount_fen,
        payout=event.payout,
        action=verdict.action,
        reasons=json.dumps([r.as_dict() for r in verdict.reasons]) if verdict.reasons else None,
    )
    session.add(row)
    if rules.flags(verdict) and verdict.members and _new_evidence(verdict):
        codes = "+".join(sorted({r.code for r in verdict.reasons if r.code != "new_account"}))
        edges = _event_edges(verdict.members, event.device, event.target)
        finding = graph.Finding(codes[:32], verdict.members, verdict.reasons, edges)
        if not _grow_case(session, finding):
            open_case(session, finding, source="event")
    session.flush()
    return verdict, row.id


def record(session: Session, event: Event) -> None:
    """Keep an event that happened elsewhere (an import, the demo's history) as allowed,
    without judging it: the graph work reads it like any other."""
    session.add(
        RiskEvent(
            type=event.type,
            at=event.at,
            actor=event.actor,
            target=event.target,
            other=event.other,
            device=event.device,
            ip=event.ip,
            subnet=event.subnet,
            phone=event.phone,
            phone_num=rules.phone_number(event.phone),
            amount_fen=event.amount_fen,
            payout=event.payout,
            action=Action.ALLOW,
        )
    )


def _event_edges(
    members: Sequence[int], device: str | None, target: str | None
) -> tuple[graph.Edge, ...]:
    """What a held event's picture shows: its members, their device and their target."""
    edges = [graph.Edge(f"m:{m}", f"d:{device}", "device") for m in members if device]
    edges += [graph.Edge(f"m:{m}", f"t:{target}", "acts-on") for m in members if target]
    return tuple(edges)


def _new_evidence(verdict: Verdict) -> bool:
    """A verdict that only repeats a member's open or confirmed case opens none."""
    return any(r.code not in ("flag_open", "flag_blocked") for r in verdict.reasons)


def help_check(
    session: Session, helper_id: int, bargain: Any, device: str | None, ip: str | None
) -> Verdict:
    """The check of one help on a bargain (``bargains.register_help_check``): the verdict's
    ``.action`` is allow, hold (count it, under review), challenge or block (refuse it)."""
    starter = getattr(bargain, "starter_id", None) or getattr(bargain, "user_id", None)
    return assess(
        session,
        type=EventType.HELP,
        actor=helper_id,
        target=f"bargain:{getattr(bargain, 'id', bargain)}",
        other=starter,
        device=device,
        ip=ip,
    )


def refuse(verdict: Verdict, *, challenge_ok: bool = False) -> None:
    """Raise what a verdict means for the request that asked: a block is refused; a challenge
    too, unless the caller has just proved the phone (``challenge_ok``)."""
    if verdict.action == Action.BLOCK:
        raise RiskRefused()
    if verdict.action == Action.CHALLENGE and not challenge_ok:
        raise RiskChallenge()


def gate(session: Session | None, *, challenge_ok: bool = False, **event: Any) -> int | None:
    """The entry points' gate (``api.deps.register_risk_gate``): judge and record the event
    (in ``session``, else in a unit of work of its own, kept even when the action is then
    refused), and raise the refusal of a block (or of a challenge not yet met)."""

    def judge(s: Session) -> tuple[Verdict, int]:
        return _judge(s, _event(**event), rules.DEFAULT_POLICY)

    verdict, event_id = judge(session) if session is not None else run_in_transaction(judge)
    refuse(verdict, challenge_ok=challenge_ok)
    return event_id


def bind_actor(session: Session, event_id: int, actor: int) -> None:
    """The account a signup screened before it existed created; a held signup's case names
    it now."""
    row = session.get(RiskEvent, event_id)
    if row is None or row.actor is not None:
        return
    row.actor = actor
    if row.action == Action.HOLD and row.reasons:
        reasons = tuple(Reason.of(r) for r in json.loads(row.reasons))
        codes = "+".join(sorted({r.code for r in reasons if r.code != "new_account"}))
        edges = _event_edges((actor,), row.device, row.target)
        open_case(session, graph.Finding(codes[:32], (actor,), reasons, edges), source="event")
    session.flush()


# ---------------------------------------------------------------- cases


def _cleared(session: Session, fingerprint: str, members: Sequence[int]) -> set[int]:
    return set(
        session.scalars(
            select(RiskClearance.member_id).where(
                RiskClearance.fingerprint == fingerprint, RiskClearance.member_id.in_(members)
            )
        )
    )


def _known_members(session: Session, members: Sequence[int]) -> list[int]:
    """The members that are accounts (a replayed or refused signup's id may not be)."""
    names = accounts.masked_names(session, list(members))
    return [m for m in members if m in names]


def open_case(session: Session, finding: graph.Finding, *, source: str) -> RiskCase | None:
    """A review case for a finding, and its members flagged; None when the same evidence is
    already open or confirmed, or was cleared for every member it names."""
    fp = finding.fingerprint
    if session.scalar(
        select(RiskCase.id)
        .where(RiskCase.fingerprint == fp, RiskCase.status != CaseStatus.CLEARED)
        .limit(1)
    ):
        return None
    members = _known_members(session, finding.members)
    cleared = _cleared(session, fp, members)
    members = [m for m in members if m not in cleared]
    if not members:
        return None
    case = RiskCase(
        kind=finding.kind,
        source=source,
        status=CaseStatus.OPEN,
        fingerprint=fp,
        members=json.dumps(members),
        reasons=json.dumps([r.as_dict() for r in finding.reasons]),
        edges=json.dumps([[e.a, e.b, e.kind] for e in finding.edges[:400]]),
        opened_at=clock.now(),
    )
    session.add(case)
    session.flush()
    summary = "; ".join(r.text() for r in finding.reasons)[:200]
    flagged = set(
        session.scalars(select(RiskFlag.member_id).where(RiskFlag.member_id.in_(members)))
    )
    for m in members:
        if m not in flagged:
            session.add(
                RiskFlag(
                    member_id=m,
                    status=FlagStatus.FLAGGED,
                    case_id=case.id,
                    summary=summary,
                    at=case.opened_at,
                )
            )
    session.flush()
    return case


def _grow_case(session: Session, finding: graph.Finding) -> bool:
    """A burst that grows (a 7th helper within the 90 s of the case's 6) adds its new members
    to the open case of the same kind that names the others, rather than opening another."""
    case_ids = set(
        session.scalars(
            select(RiskFlag.case_id).where(
                RiskFlag.member_id.in_(finding.members), RiskFlag.status == FlagStatus.FLAGGED
            )
        )
    )
    if not case_ids:
        return False
    case = session.scalars(
        select(RiskCase)
        .where(
            RiskCase.id.in_(case_ids),
            RiskCase.kind == finding.kind,
            RiskCase.status == CaseStatus.OPEN,
        )
        .order_by(RiskCase.id)
        .limit(1)
    ).first()
    if case is None:
        return False
    known = _members(case)
    new = [m for m in _known_members(session, finding.members) if m not in known]
    case.members = json.dumps(known + new)
    case.reasons = json.dumps([r.as_dict() for r in finding.reasons])
    old_edges = [tuple(e) for e in json.loads(case.edges)]
    more = [(e.a, e.b, e.kind) for e in finding.edges if (e.a, e.b, e.kind) not in old_edges]
    case.edges = json.dumps([list(e) for e in (old_edges + more)[:400]])
    flagged = set(session.scalars(select(RiskFlag.member_id).where(RiskFlag.member_id.in_(new))))
    summary = "; ".join(r.text() for r in finding.reasons)[:200]
    for m in new:
        if m not in flagged:
            session.add(
                RiskFlag(
                    member_id=m,
                    status=FlagStatus.FLAGGED,
                    case_id=case.id,
                    summary=summary,
                    at=clock.now(),
                )
            )
    session.flush()
    return True


@dataclass(frozen=True)
class CaseMember:
    id: int
    name: str
    flag: str | None  # flagged, blocked, or None (cleared, or flagged by another case)


@dataclass(frozen=True)
class CaseView:
    id: int
    kind: str
    source: str
    status: str
    opened_at: datetime
    decided_at: datetime | None
    note: str | None
    members: list[CaseMember]
    reasons: list[Reason]
    edges: list[tuple[str, str, str]]


def _members(case: RiskCase) -> list[int]:
    return [int(m) for m in json.loads(case.members)]


def list_cases(
    session: Session, *, status: str | None = CaseStatus.OPEN, limit: int = 100
) -> list[CaseView]:
    query = select(RiskCase).order_by(RiskCase.opened_at, RiskCase.id).limit(limit)
    if status:
        query = query.where(RiskCase.status == status)
    return [_view(session, c) for c in session.scalars(query).all()]


def count_open(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(RiskCase).where(RiskCase.status == CaseStatus.OPEN)
        )
        or 0
    )


def get_case(session: Session, case_id: int) -> CaseView:
    return _view(session, get_or_404(session, RiskCase, case_id, CaseNotFound))


def _view(session: Session, case: RiskCase) -> CaseView:
    members = _members(case)
    names = accounts.masked_names(session, members)
    flags = {
        m: status
        for m, status in session.execute(
            select(RiskFlag.member_id, RiskFlag.status).where(RiskFlag.member_id.in_(members))
        )
    }
    return CaseView(
        id=case.id,
        kind=case.kind,
        source=case.source,
        status=case.status,
        opened_at=case.opened_at,
        decided_at=case.decided_at,
        note=case.note,
        members=[CaseMember(m, names.get(m, "?"), flags.get(m)) for m in members],
        reasons=[Reason.of(r) for r in json.loads(case.reasons)],
        edges=[(a, b, k) for a, b, k in json.loads(case.edges)],
    )


def decide_case(
    session: Session, case_id: int, *, confirm: bool, operator_id: int, note: str | None = None
) -> CaseView:
    """Confirm (block the members; the on-confirmed hooks reverse their gains) or clear (the
    flags go; this evidence flags these members no more). Once: a second decision is 409."""
    get_or_404(session, RiskCase, case_id, CaseNotFound)
    now = clock.now()
    status = CaseStatus.CONFIRMED if confirm else CaseStatus.CLEARED
    moved = session.execute(
        update(RiskCase)
        .where(RiskCase.id == case_id, RiskCase.status == CaseStatus.OPEN)
        .values(status=status, decided_at=now, decided_by=operator_id, note=note or None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise CaseDecided()
    case = session.get(RiskCase, case_id, populate_existing=True)
    assert case is not None
    members = _members(case)
    if confirm:
        summary = ("confirmed: " + "; ".join(r.text() for r in _reasons(case)))[:200]
        known = set(
            session.scalars(select(RiskFlag.member_id).where(RiskFlag.member_id.in_(members)))
        )
        session.execute(
            update(RiskFlag)
            .where(RiskFlag.member_id.in_(members))
            .values(status=FlagStatus.BLOCKED, case_id=case_id, summary=summary, at=now)
            .execution_options(synchronize_session=False)
        )
        for m in members:
            if m not in known:
                session.add(
                    RiskFlag(
                        member_id=m,
                        status=FlagStatus.BLOCKED,
                        case_id=case_id,
                        summary=summary,
                        at=now,
                    )
                )
        session.flush()
        reason = f"risk case {case_id} confirmed ({case.kind})"
        for hook in list(_on_confirmed):
            hook(session, members, reason)
    else:
        session.execute(
            delete(RiskFlag)
            .where(
                RiskFlag.member_id.in_(members),
                RiskFlag.status == FlagStatus.FLAGGED,
            )
            .execution_options(synchronize_session=False)
        )
        cleared = _cleared(session, case.fingerprint, members)
        for m in members:
            if m not in cleared:
                session.add(
                    RiskClearance(
                        member_id=m, fingerprint=case.fingerprint, case_id=case_id, at=now
                    )
                )
    session.flush()
    return _view(session, case)


def _reasons(case: RiskCase) -> list[Reason]:
    return [Reason.of(r) for r in json.loads(case.reasons)]


def flag_of(session: Session, member_id: int) -> Flag | None:
    return SqlStore(session).flag_of(member_id)


# ---------------------------------------------------------------- the graph job's input

HISTORY_WINDOW = timedelta(days=60)


def load_history(session: Session, *, since: datetime | None = None) -> graph.History:
    """The events since ``since`` (default: the last 60 days) as the graph work reads them."""
    since = since or clock.now() - HISTORY_WINDOW
    h = graph.History()
    rows = session.execute(
        select(
            RiskEvent.type,
            RiskEvent.at,
            RiskEvent.actor,
            RiskEvent.target,
            RiskEvent.other,
            RiskEvent.device,
            RiskEvent.phone,
            RiskEvent.amount_fen,
            RiskEvent.payout,
        )
        .where(RiskEvent.at >= since, RiskEvent.action != Action.BLOCK)
        .order_by(RiskEvent.at, RiskEvent.id)
        .execution_options(yield_per=5000)
    )
    for type_, at, actor, target, other, device, phone, amount, payout in rows:
        h.add(Event(type_, at, actor, target, other, device, None, phone, amount, payout))
    return h


def analyse(session: Session, *, now: datetime | None = None) -> list[RiskCase]:
    """Run the graph work over the recent events; open a case for each new finding."""
    now = now or clock.now()
    opened = []
    for finding in graph.analyse(load_history(session), now):
        case = open_case(session, finding, source="graph")
        if case is not None:
            opened.append(case)
    return opened


def forget_raw_signals(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """The data retention: clear the raw signals (device, IP address and its subnet, phone
    number, payout account) of up to ``limit`` events judged before ``before``. What the
    engine still needs stays: each event's type, time, actor, target and whom it was for (the
    graph of who helps and invites whom), its amount, verdict and reasons; and the cases,
    flags and cleared evidence, which keep fingerprints, not signals."""
    ids = list(
        session.scalars(
            select(RiskEvent.id)
            .where(
                RiskEvent.at < before,
                or_(
                    RiskEvent.device.is_not(None),
                    RiskEvent.ip.is_not(None),
                    RiskEvent.subnet.is_not(None),
                    RiskEvent.phone.is_not(None),
                    RiskEvent.phone_num.is_not(None),
                    RiskEvent.payout.is_not(None),
                ),
            )
            .order_by(RiskEvent.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    session.execute(
        update(RiskEvent)
        .where(RiskEvent.id.in_(ids))
        .values(device=None, ip=None, subnet=None, phone=None, phone_num=None, payout=None)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def forget_member_phone(session: Session, user_id: int) -> int:
    """A deleted account's phone number leaves the events it acted in (its device and
    address stay until the retention clears them: evidence against a ring that deletes its
    accounts)."""
    result = session.execute(
        update(RiskEvent)
        .where(RiskEvent.actor == user_id, RiskEvent.phone.is_not(None))
        .values(phone=None, phone_num=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
