"""Moderation: reports, hiding and restoring content, mutes, the text filter, and the log.

* **Targets.** Moderation knows no posts, replies or reviews: each kind of content is a
  target kind that its domain describes and the composition root registers
  (:func:`register_target`): ``locate`` (who wrote it, in which community, an excerpt, whether
  it is hidden, a link), ``set_hidden`` and ``leader_of`` (the leader who may moderate it).
* **Reports.** A member reports a target they can see, once (a unique row per member and
  target). When ``moderation_report_threshold`` distinct members have reported it since the
  last decision, it is hidden until review: one compare-and-set UPDATE of its record
  (``moderation_cases``) from ``reported`` to ``hidden_pending_review``, so however many
  reports arrive at once, it is hidden, logged and its author told exactly once.
* **Decisions.** The community's leader (``leader_of``) or an operator hides, restores, or
  approves held content, with a reason; the author is told through the outbox.
* **Held content.** The text filter (:func:`screen_text`) tells a target kind to create
  matching content as held; the kind's domain then calls :func:`record_held` (through the
  composition root) so that it waits in the queue until a moderator approves or hides it.
* **Mutes.** A moderator mutes a member in a community for 1 h, 1 day or 7 days; until then
  :func:`require_not_muted` refuses their posts and replies (``muted_until``).
* **The log** (``moderation_log``): every action, append-only.

Services flush, never commit (ENGINEERING.md rule 2).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.orm import Session

from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.config import get_settings
from tuangou.core.db import upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.moderation import errors, rules
from tuangou.moderation.models import ModerationCase, ModerationLogEntry, ModerationReport, Mute
from tuangou.moderation.rules import AWAITING, Action, CaseStatus

__all__ = [
    "Action",
    "CaseStatus",
    "TargetHooks",
    "TargetInfo",
    "TextFilter",
    "WordListFilter",
    "check_may_post",
    "record_held",
    "register_target",
    "register_text_filter",
    "require_not_muted",
    "screen_text",
]

# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class TargetInfo:
    """What moderation needs to know of one target."""

    community_id: int | None
    author_id: int
    excerpt: str
    hidden: bool
    link: str


class TargetInfoLike(Protocol):
    """A target domain's own ``TargetInfo`` (the same fields; it does not import this one)."""

    @property
    def community_id(self) -> int | None: ...
    @property
    def author_id(self) -> int: ...
    @property
    def excerpt(self) -> str: ...
    @property
    def hidden(self) -> bool: ...
    @property
    def link(self) -> str: ...


@dataclass(frozen=True)
class TargetHooks:
    """A kind of target: ``locate(session, id)`` (None: no such target), ``set_hidden(session,
    id, hidden)``, ``leader_of(session, id)`` (the leader's user id who may moderate it; None:
    operators only)."""

    locate: Callable[[Session, int], TargetInfoLike | None]
    set_hidden: Callable[[Session, int, bool], None]
    leader_of: Callable[[Session, int], int | None]


class TargetHooksLike(Protocol):
    """A target domain's own hooks object (the same three fields)."""

    @property
    def locate(self) -> Callable[[Session, int], TargetInfoLike | None]: ...
    @property
    def set_hidden(self) -> Callable[[Session, int, bool], None]: ...
    @property
    def leader_of(self) -> Callable[[Session, int], int | None]: ...


_targets: dict[str, TargetHooksLike] = {}


def register_target(kind: str, hooks: TargetHooksLike) -> None:
    """Register (or with the same kind, replace) a kind of target: "post", "reply", "review"…"""
    if not kind or len(kind) > 32:
        raise ValueError("a target kind is 1-32 characters")
    _targets[kind] = hooks


def unregister_target(kind: str) -> None:
    _targets.pop(kind, None)


def target_kinds() -> list[str]:
    return sorted(_targets)


def _hooks(kind: str) -> TargetHooksLike:
    hooks = _targets.get(kind)
    if hooks is None:
        raise errors.UnknownTargetKind(f"unknown kind of content: {kind!r}", field="kind")
    return hooks


def _locate(session: Session, kind: str, target_id: int) -> tuple[TargetHooksLike, TargetInfoLike]:
    hooks = _hooks(kind)
    info = hooks.locate(session, target_id)
    if info is None:
        raise errors.TargetNotFound()
    return hooks, info


# ---------------------------------------------------------------- the text filter


class TextFilter(Protocol):
    """Decides what is held for review: the terms of ``text`` that match (empty: publish)."""

    def match(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class WordListFilter:
    """The default filter: a list of terms matched on normalised text (``rules.normalise``:
    NFKC, lower case, spaces and punctuation between characters ignored)."""

    terms: tuple[str, ...]

    def match(self, text: str) -> list[str]:
        return rules.match_terms(text, self.terms)

    @classmethod
    def from_files(cls, *paths: Path) -> WordListFilter:
        lines: list[str] = []
        for path in paths:
            lines.extend(path.read_text(encoding="utf-8").splitlines())
        return cls(tuple(rules.parse_word_list(lines)))


SHIPPED_WORD_LIST = Path(__file__).with_name("words.txt")

_filter: TextFilter | None = None
_default: tuple[str, WordListFilter] | None = None
_filter_lock = threading.Lock()


def register_text_filter(text_filter: TextFilter | None) -> None:
    """Replace the text filter (None: back to the default word list)."""
    global _filter
    _filter = text_filter


def default_filter() -> WordListFilter:
    """The shipped word list plus the operator's own (``moderation_word_list``), read once per
    setting."""
    global _default
    own = get_settings().moderation_word_list
    with _filter_lock:
        if _default is None or _default[0] != own:
            paths = [SHIPPED_WORD_LIST, *([Path(own)] if own else [])]
            _default = (own, WordListFilter.from_files(*paths))
        return _default[1]


def screen_text(text: str) -> list[str]:
    """The terms of the text filter that ``text`` matches: empty, publish it; else the
    content is created held for review."""
    return (_filter or default_filter()).match(text)


# ---------------------------------------------------------------- helpers


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _reason(value: str | None, *, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("give a reason", field=field)
    if len(text) > rules.REASON_MAX:
        raise InvalidInput(f"at most {rules.REASON_MAX} characters", field=field)
    return text


def _log(
    session: Session,
    action: Action,
    *,
    actor_id: int | None,
    community_id: int | None,
    kind: str | None = None,
    target_id: int | None = None,
    subject_id: int | None = None,
    reason: str = "",
) -> ModerationLogEntry:
    entry = ModerationLogEntry(
        action=action,
        actor_id=actor_id,
        community_id=community_id,
        kind=kind,
        target_id=target_id,
        subject_id=subject_id,
        reason=reason,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def _tell(topic: str, user_id: int, **payload: Any) -> Callable[[Session], None]:
    def emit(session: Session) -> None:
        outbox.emit(session, topic, {"user_ids": [user_id], **payload})

    return emit


def _case(session: Session, kind: str, target_id: int, info: TargetInfoLike) -> ModerationCase:
    """The target's record, created once (ON CONFLICT DO NOTHING on (kind, target))."""
    session.execute(
        upsert_insert(session)(ModerationCase)
        .values(
            kind=kind,
            target_id=target_id,
            community_id=info.community_id,
            author_id=info.author_id,
            status=CaseStatus.VISIBLE,
            open_reports=0,
            matched="",
            opened_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["kind", "target_id"])
    )
    found = find_case(session, kind, target_id)
    assert found is not None
    return found


def find_case(session: Session, kind: str, target_id: int) -> ModerationCase | None:
    return session.scalar(
        select(ModerationCase)
        .where(ModerationCase.kind == kind, ModerationCase.target_id == target_id)
        .execution_options(populate_existing=True)
    )


def _refresh(session: Session, case_id: int) -> ModerationCase:
    found = session.get(ModerationCase, case_id, populate_existing=True)
    assert found is not None
    return found


# ---------------------------------------------------------------- who moderates


def _is_moderator(
    session: Session,
    hooks: TargetHooksLike,
    target_id: int,
    actor_id: int,
    operator: bool,
    community_id: int | None = None,
) -> bool:
    """An operator, the leader the target names, or an admin of the target's community."""
    if operator or hooks.leader_of(session, target_id) == actor_id:
        return True
    return community_id is not None and communities.is_manager(session, community_id, actor_id)


def _require_moderator(
    session: Session,
    hooks: TargetHooksLike,
    target_id: int,
    info: TargetInfoLike,
    actor_id: int,
    operator: bool,
) -> None:
    """An operator, or the leader the target names; others who may see it get 403, others
    404 (as if there were none)."""
    if _is_moderator(session, hooks, target_id, actor_id, operator, info.community_id):
        return
    if info.community_id is None or communities.is_member(session, info.community_id, actor_id):
        raise errors.NotAModerator()
    raise errors.TargetNotFound()


def _require_community_moderator(
    session: Session, community_id: int, actor_id: int, operator: bool
) -> None:
    communities.get_community(session, community_id)
    if operator or communities.is_manager(session, community_id, actor_id):
        return
    if communities.is_member(session, community_id, actor_id):
        raise errors.NotAModerator()
    raise community_errors.CommunityNotFound()


# ---------------------------------------------------------------- reports


@dataclass
class Reported:
    case: ModerationCase
    report: ModerationReport
    hidden_now: bool  # this report reached the threshold


def report(
    session: Session,
    *,
    user_id: int,
    kind: str,
    target_id: int,
    reason: str,
    note: str = "",
) -> Reported:
    """A member reports a target they can see (not their own), once. The report that reaches
    the threshold hides the target until review: exactly once, by compare-and-set."""
    if reason not in rules.REASONS:
        raise InvalidInput(f"the reason is one of {', '.join(rules.REASONS)}", field="reason")
    note = (note or "").strip()
    if len(note) > rules.NOTE_MAX:
        raise InvalidInput(f"at most {rules.NOTE_MAX} characters", field="note")
    hooks, info = _locate(session, kind, target_id)
    if info.author_id == user_id:
        raise errors.CannotReportOwn()
    if info.hidden:
        raise errors.TargetNotFound()  # hidden content is shown to its author and moderators
    if info.community_id is not None and not communities.is_member(
        session, info.community_id, user_id
    ):
        raise errors.TargetNotFound()
    found = _case(session, kind, target_id, info)
    now = clock.now()
    inserted = session.execute(
        upsert_insert(session)(ModerationReport)
        .values(
            case_id=found.id,
            kind=kind,
            target_id=target_id,
            reporter_id=user_id,
            reason=reason,
            note=note,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "target_id", "reporter_id"])
    )
    if _rowcount(inserted) != 1:
        raise errors.AlreadyReported()
    # One more report since the last decision; a decided (visible) target is in the queue again.
    reopened = ModerationCase.status == CaseStatus.VISIBLE
    session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == found.id)
        .values(
            open_reports=ModerationCase.open_reports + 1,
            status=case((reopened, CaseStatus.REPORTED), else_=ModerationCase.status),
            opened_at=case((reopened, now), else_=ModerationCase.opened_at),
        )
        .execution_options(synchronize_session=False)
    )
    threshold = get_settings().moderation_report_threshold
    hid = _rowcount(
        session.execute(
            update(ModerationCase)
            .where(
                ModerationCase.id == found.id,
                ModerationCase.status == CaseStatus.REPORTED,
                ModerationCase.open_reports >= threshold,
            )
            .values(status=CaseStatus.HIDDEN_PENDING_REVIEW)
            .execution_options(synchronize_session=False)
        )
    )
    if hid == 1:
        hooks.set_hidden(session, target_id, True)
        why = f"reported by {threshold} members: hidden until a moderator reviews it"
        _log(
            session,
            Action.AUTO_HIDE,
            actor_id=None,
            community_id=info.community_id,
            kind=kind,
            target_id=target_id,
            subject_id=info.author_id,
            reason=why,
        )
        _tell(
            "moderation.hidden",
            info.author_id,
            kind=kind,
            target_id=target_id,
            community_id=info.community_id,
            reason=f"{threshold} 位成员举报, 等待管理员审核",  # the inbox speaks Chinese
            link=info.link,
        )(session)
    row = session.scalar(
        select(ModerationReport).where(
            ModerationReport.kind == kind,
            ModerationReport.target_id == target_id,
            ModerationReport.reporter_id == user_id,
        )
    )
    assert row is not None
    return Reported(case=_refresh(session, found.id), report=row, hidden_now=hid == 1)


# ---------------------------------------------------------------- held content


def record_held(session: Session, kind: str, target_id: int, matched: list[str]) -> ModerationCase:
    """A target kind created content held by the text filter (``matched``: the terms): it
    waits in the queue until a moderator approves or hides it. The target kinds' domains
    call this through the composition root, in the transaction that created the content."""
    _, info = _locate(session, kind, target_id)
    found = _case(session, kind, target_id, info)
    session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == found.id)
        .values(status=CaseStatus.HELD, matched="\n".join(matched), opened_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return _refresh(session, found.id)


# ---------------------------------------------------------------- decisions


def _decide(
    session: Session,
    found: ModerationCase,
    *,
    to: CaseStatus,
    allowed: tuple[str, ...],
    actor_id: int,
    reason: str,
) -> bool:
    """Move the case from one of ``allowed`` to ``to`` by compare-and-set; True if it moved."""
    return (
        _rowcount(
            session.execute(
                update(ModerationCase)
                .where(ModerationCase.id == found.id, ModerationCase.status.in_(allowed))
                .values(
                    status=to,
                    open_reports=0,
                    decided_at=clock.now(),
                    decided_by=actor_id,
                    reason=reason,
                )
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )


def hide(
    session: Session, *, actor_id: int, operator: bool, kind: str, target_id: int, reason: str
) -> ModerationCase:
    """A moderator hides a target with a reason; its author is told."""
    hooks, info = _locate(session, kind, target_id)
    _require_moderator(session, hooks, target_id, info, actor_id, operator)
    reason = _reason(reason)
    found = _case(session, kind, target_id, info)
    not_hidden = tuple(s for s in CaseStatus if s != CaseStatus.HIDDEN)
    if not _decide(
        session, found, to=CaseStatus.HIDDEN, allowed=not_hidden, actor_id=actor_id, reason=reason
    ):
        raise errors.AlreadyHidden()
    hooks.set_hidden(session, target_id, True)
    _log(
        session,
        Action.HIDE,
        actor_id=actor_id,
        community_id=info.community_id,
        kind=kind,
        target_id=target_id,
        subject_id=info.author_id,
        reason=reason,
    )
    _tell(
        "moderation.hidden",
        info.author_id,
        kind=kind,
        target_id=target_id,
        community_id=info.community_id,
        reason=reason,
        link=info.link,
    )(session)
    return _refresh(session, found.id)


def restore(
    session: Session, *, actor_id: int, operator: bool, kind: str, target_id: int, reason: str
) -> ModerationCase:
    """A moderator restores a hidden (or reported) target with a reason; a hidden one's author
    is told. Held content is published with :func:`approve`."""
    hooks, info = _locate(session, kind, target_id)
    _require_moderator(session, hooks, target_id, info, actor_id, operator)
    reason = _reason(reason)
    found = _case(session, kind, target_id, info)
    was = found.status
    if was == CaseStatus.HELD:
        raise errors.NotHidden("held content is approved, not restored")
    restorable = (CaseStatus.HIDDEN, CaseStatus.HIDDEN_PENDING_REVIEW, CaseStatus.REPORTED)
    if not _decide(
        session, found, to=CaseStatus.VISIBLE, allowed=restorable, actor_id=actor_id, reason=reason
    ):
        raise errors.NotHidden()
    hooks.set_hidden(session, target_id, False)
    _log(
        session,
        Action.RESTORE,
        actor_id=actor_id,
        community_id=info.community_id,
        kind=kind,
        target_id=target_id,
        subject_id=info.author_id,
        reason=reason,
    )
    if was != CaseStatus.REPORTED:  # it was hidden: its author hears it is back
        _tell(
            "moderation.restored",
            info.author_id,
            kind=kind,
            target_id=target_id,
            community_id=info.community_id,
            reason=reason,
            link=info.link,
        )(session)
    return _refresh(session, found.id)


def approve(
    session: Session,
    *,
    actor_id: int,
    operator: bool,
    kind: str,
    target_id: int,
    reason: str = "",
) -> ModerationCase:
    """A moderator publishes content the text filter held (the reason is optional)."""
    hooks, info = _locate(session, kind, target_id)
    _require_moderator(session, hooks, target_id, info, actor_id, operator)
    reason = (reason or "").strip()[: rules.REASON_MAX]
    found = find_case(session, kind, target_id)
    if found is None or not _decide(
        session,
        found,
        to=CaseStatus.VISIBLE,
        allowed=(CaseStatus.HELD,),
        actor_id=actor_id,
        reason=reason,
    ):
        raise errors.NotHeld()
    hooks.set_hidden(session, target_id, False)
    _log(
        session,
        Action.APPROVE,
        actor_id=actor_id,
        community_id=info.community_id,
        kind=kind,
        target_id=target_id,
        subject_id=info.author_id,
        reason=reason,
    )
    return _refresh(session, found.id)


def states_of(session: Session, kind: str, target_ids: list[int]) -> dict[int, ModerationCase]:
    """The records of some targets (those moderation knows of): for a page that shows its
    author "hidden: reason"."""
    if not target_ids:
        return {}
    return {
        c.target_id: c
        for c in session.scalars(
            select(ModerationCase).where(
                ModerationCase.kind == kind, ModerationCase.target_id.in_(set(target_ids))
            )
        )
    }


# ---------------------------------------------------------------- the queue


@dataclass
class QueueItem:
    case: ModerationCase
    info: TargetInfoLike | None  # None: the target is gone
    reports: int
    reasons: dict[str, int]
    notes: list[str]
    matched: list[str] = field(default_factory=list)


def _scope(session: Session, actor_id: int, operator: bool) -> list[int] | None:
    """The communities the actor moderates: those they lead or are an admin of (None: all,
    an operator). Someone who moderates none is refused as not a leader (403)."""
    if operator:
        return None
    managed = communities.managed_community_ids(session, actor_id)
    if not managed:
        communities.get_leader_by_user(session, actor_id)  # 403 not_a_leader
    return managed


def queue(
    session: Session,
    *,
    actor_id: int,
    operator: bool,
    community_id: int | None = None,
    limit: int = 100,
) -> list[QueueItem]:
    """Reported and held targets awaiting a decision, oldest first, with the reports'
    reasons and counts: a leader's communities, or (an operator) all."""
    scope = _scope(session, actor_id, operator)
    query = select(ModerationCase).where(ModerationCase.status.in_(AWAITING))
    if scope is not None:
        if community_id is not None and community_id not in scope:
            raise community_errors.CommunityNotFound()
        query = query.where(ModerationCase.community_id.in_(scope))
    if community_id is not None:
        query = query.where(ModerationCase.community_id == community_id)
    cases = list(
        session.scalars(query.order_by(ModerationCase.opened_at, ModerationCase.id).limit(limit))
    )
    by_case: dict[int, list[ModerationReport]] = {c.id: [] for c in cases}
    if cases:
        for r in session.scalars(
            select(ModerationReport)
            .where(ModerationReport.case_id.in_(list(by_case)))
            .order_by(ModerationReport.id)
        ):
            by_case[r.case_id].append(r)
    items = []
    for c in cases:
        hooks = _targets.get(c.kind)
        info = hooks.locate(session, c.target_id) if hooks is not None else None
        # The reports since the last decision are the newest ``open_reports`` ones.
        recent = by_case[c.id][-c.open_reports :] if c.open_reports else []
        items.append(
            QueueItem(
                case=c,
                info=info,
                reports=c.open_reports,
                reasons=dict(Counter(r.reason for r in recent)),
                notes=[r.note for r in recent if r.note],
                matched=[t for t in c.matched.split("\n") if t],
            )
        )
    return items


# ---------------------------------------------------------------- mutes


def muted_until(
    session: Session, community_id: int, user_id: int, now: datetime
) -> datetime | None:
    """Until when the member is muted in the community (None: they are not)."""
    found = session.scalar(
        select(func.max(Mute.until)).where(
            Mute.community_id == community_id,
            Mute.user_id == user_id,
            Mute.lifted_at.is_(None),
            Mute.until > now,
        )
    )
    return cast(datetime | None, found)


def require_not_muted(session: Session, *, community_id: int, user_id: int, now: datetime) -> None:
    """Refuse a muted member's post or reply: 403 ``muted_until``, the body carrying ``until``."""
    until = muted_until(session, community_id, user_id, now)
    if until is not None:
        raise errors.MutedUntil(
            f"you are muted in this community until {clock.iso(until)}", until=clock.iso(until)
        )


def check_may_post(session: Session, *, community_id: int, user_id: int, now: datetime) -> None:
    """What the composition root registers with the posts: the member accepted the current
    rules (``rules_not_accepted``) and is not muted (``muted_until``)."""
    communities.require_rules_accepted(session, community_id=community_id, user_id=user_id)
    require_not_muted(session, community_id=community_id, user_id=user_id, now=now)


def _lift(session: Session, community_id: int, user_id: int, actor_id: int) -> int:
    now = clock.now()
    return _rowcount(
        session.execute(
            update(Mute)
            .where(
                Mute.community_id == community_id,
                Mute.user_id == user_id,
                Mute.lifted_at.is_(None),
                Mute.until > now,
            )
            .values(lifted_at=now, lifted_by=actor_id)
            .execution_options(synchronize_session=False)
        )
    )


def mute(
    session: Session,
    *,
    actor_id: int,
    operator: bool,
    community_id: int,
    user_id: int,
    period: str,
    reason: str,
) -> Mute:
    """A moderator mutes a member of the community for 1 h, 1 day or 7 days (a new mute
    replaces one in force); the member is told until when."""
    _require_community_moderator(session, community_id, actor_id, operator)
    length = rules.MUTE_PERIODS.get(period)
    if length is None:
        raise InvalidInput(f"the period is one of {', '.join(rules.MUTE_PERIODS)}", field="period")
    reason = _reason(reason)
    if not communities.is_member(session, community_id, user_id):
        raise community_errors.NotAMember()
    if communities.is_community_leader(session, community_id, user_id):
        raise errors.CannotMuteLeader()
    _lift(session, community_id, user_id, actor_id)
    now = clock.now()
    row = Mute(
        community_id=community_id,
        user_id=user_id,
        until=now + length,
        reason=reason,
        muted_by=actor_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _log(
        session,
        Action.MUTE,
        actor_id=actor_id,
        community_id=community_id,
        subject_id=user_id,
        reason=f"{period}: {reason}",
    )
    _tell(
        "moderation.muted",
        user_id,
        community_id=community_id,
        until=clock.iso(row.until),
        until_local=clock.to_local(row.until).strftime("%Y-%m-%d %H:%M"),
        reason=reason,
    )(session)
    return row


def unmute(
    session: Session, *, actor_id: int, operator: bool, community_id: int, user_id: int
) -> None:
    """Lift a member's mute early."""
    _require_community_moderator(session, community_id, actor_id, operator)
    if _lift(session, community_id, user_id, actor_id) == 0:
        raise errors.NotMuted()
    _log(
        session,
        Action.UNMUTE,
        actor_id=actor_id,
        community_id=community_id,
        subject_id=user_id,
    )


def mutes_of(session: Session, community_ids: list[int], now: datetime) -> list[Mute]:
    """The mutes in force in some communities, ending soonest first."""
    if not community_ids:
        return []
    return list(
        session.scalars(
            select(Mute)
            .where(
                Mute.community_id.in_(community_ids),
                Mute.lifted_at.is_(None),
                Mute.until > now,
            )
            .order_by(Mute.until, Mute.id)
        )
    )


# ---------------------------------------------------------------- the log


def log_entries(
    session: Session,
    *,
    community_ids: list[int] | None = None,
    community_id: int | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[ModerationLogEntry]:
    """The log, newest first (``before``: an entry id, for the next page)."""
    if action is not None and action not in rules.ACTIONS:
        raise InvalidInput(f"the action is one of {', '.join(rules.ACTIONS)}", field="action")
    query = select(ModerationLogEntry)
    if community_ids is not None:
        query = query.where(ModerationLogEntry.community_id.in_(community_ids))
    if community_id is not None:
        query = query.where(ModerationLogEntry.community_id == community_id)
    if action is not None:
        query = query.where(ModerationLogEntry.action == action)
    if before is not None:
        query = query.where(ModerationLogEntry.id < before)
    return list(session.scalars(query.order_by(ModerationLogEntry.id.desc()).limit(limit)))


def leader_log(
    session: Session,
    user_id: int,
    *,
    community_id: int | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[ModerationLogEntry]:
    """The log of the communities the leader leads."""
    scope = _scope(session, user_id, False)
    if community_id is not None and community_id not in (scope or []):
        raise community_errors.CommunityNotFound()
    return log_entries(
        session,
        community_ids=scope,
        community_id=community_id,
        action=action,
        before=before,
        limit=limit,
    )


def led_community_ids(session: Session, user_id: int) -> list[int]:
    return _scope(session, user_id, False) or []


# ---------------------------------------------------------------- a member's own state


@dataclass
class MyState:
    rules: communities.RulesState
    muted_until: datetime | None
    mute_reason: str | None


def my_state(session: Session, community_id: int, user_id: int) -> MyState:
    """A member's standing in a community: the rules to accept, and a mute in force."""
    state = communities.rules_state(session, community_id, user_id)
    now = clock.now()
    until = muted_until(session, community_id, user_id, now)
    reason = None
    if until is not None:
        reason = session.scalar(
            select(Mute.reason)
            .where(
                Mute.community_id == community_id,
                Mute.user_id == user_id,
                Mute.lifted_at.is_(None),
                Mute.until == until,
            )
            .limit(1)
        )
    return MyState(rules=state, muted_until=until, mute_reason=reason)
