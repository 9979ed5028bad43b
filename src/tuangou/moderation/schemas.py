from __future__ import annotations

from pydantic import Field

from tuangou.communities.schemas import PersonOut, RulesOut
from tuangou.communities.service import Person
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.moderation import rules
from tuangou.moderation.models import ModerationCase, ModerationLogEntry, Mute
from tuangou.moderation.service import MyState, QueueItem, Reported

# ---------------------------------------------------------------- input


class ReportIn(In):
    kind: str = Field(min_length=1, max_length=32, examples=["post"])
    id: int = Field(ge=1)
    reason: str = Field(description="spam | abuse | fraud | other", examples=["spam"])
    note: str = Field(default="", max_length=rules.NOTE_MAX)


class DecisionIn(In):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


class ApproveIn(In):
    reason: str = Field(default="", max_length=rules.REASON_MAX)


class MuteIn(In):
    user_id: int
    period: str = Field(description="1h | 1d | 7d", examples=["1d"])
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


# ---------------------------------------------------------------- output


class CaseOut(Out):
    """What moderation knows of a target: its status and the last decision."""

    kind: str
    id: int
    community_id: int | None
    author_id: int
    status: str = Field(description="reported | hidden_pending_review | held | hidden | visible")
    open_reports: int
    decided_at: Iso | None
    reason: str | None

    @classmethod
    def of(cls, c: ModerationCase) -> CaseOut:
        return cls.model_construct(
            kind=c.kind,
            id=c.target_id,
            community_id=c.community_id,
            author_id=c.author_id,
            status=c.status,
            open_reports=c.open_reports,
            decided_at=clock.iso(c.decided_at),
            reason=c.reason,
        )


class ReportedOut(Out):
    report_id: int
    reason: str
    created_at: Iso
    target: CaseOut
    hidden_now: bool = Field(description="this report hid the target until review")

    @classmethod
    def of(cls, r: Reported) -> ReportedOut:
        return cls.model_construct(
            report_id=r.report.id,
            reason=r.report.reason,
            created_at=clock.iso(r.report.created_at),
            target=CaseOut.of(r.case),
            hidden_now=r.hidden_now,
        )


class QueueItemOut(CaseOut):
    excerpt: str
    link: str
    opened_at: Iso
    reports: int
    reasons: dict[str, int]
    notes: list[str]
    matched: list[str] = Field(description="the text filter's terms (held content)")

    @classmethod
    def item(cls, q: QueueItem) -> QueueItemOut:
        return cls.model_construct(
            **dict(CaseOut.of(q.case)),
            excerpt=rules.excerpt(q.info.excerpt) if q.info else "",
            link=q.info.link if q.info else "",
            opened_at=clock.iso(q.case.opened_at),
            reports=q.reports,
            reasons=q.reasons,
            notes=q.notes,
            matched=q.matched,
        )


class MuteOut(Out):
    community_id: int
    user_id: int
    until: Iso
    reason: str
    muted_by: int
    created_at: Iso

    @classmethod
    def of(cls, m: Mute) -> MuteOut:
        return cls.model_construct(
            community_id=m.community_id,
            user_id=m.user_id,
            until=clock.iso(m.until),
            reason=m.reason,
            muted_by=m.muted_by,
            created_at=clock.iso(m.created_at),
        )


class UnmutedOut(Out):
    community_id: int
    user_id: int
    unmuted: bool


class LogEntryOut(Out):
    id: int
    action: str = Field(description="auto_hide | hide | restore | approve | mute | unmute")
    actor: PersonOut | None = Field(description="None: the reports' threshold")
    community_id: int | None
    kind: str | None
    target_id: int | None
    subject_id: int | None
    reason: str
    created_at: Iso

    @classmethod
    def of(cls, e: ModerationLogEntry, people: dict[int, Person]) -> LogEntryOut:
        actor = people.get(e.actor_id) if e.actor_id is not None else None
        return cls.model_construct(
            id=e.id,
            action=e.action,
            actor=PersonOut.of(actor) if actor else None,
            community_id=e.community_id,
            kind=e.kind,
            target_id=e.target_id,
            subject_id=e.subject_id,
            reason=e.reason,
            created_at=clock.iso(e.created_at),
        )


class MyCommunityStateOut(Out):
    """Your standing in a community: the rules to accept, and a mute in force."""

    community_id: int
    rules: RulesOut
    muted_until: Iso | None
    mute_reason: str | None
    may_post: bool

    @classmethod
    def of(cls, s: MyState) -> MyCommunityStateOut:
        return cls.model_construct(
            community_id=s.rules.community.id,
            rules=RulesOut.of(s.rules),
            muted_until=clock.iso(s.muted_until),
            mute_reason=s.mute_reason,
            may_post=not s.rules.needs_acceptance and s.muted_until is None,
        )
