from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.points import rules
from tuangou.points.service import Checkin, Entry, Level, LevelView, PointsSettings, Summary


class LevelOut(Out):
    name: str
    threshold: int = Field(description="experience that reaches this level")
    checkin_bonus: int = Field(description="extra points on every check-in")
    discount_bps: int = Field(
        description="member discount in basis points of the goods' price (shown; applied at "
        "checkout by later work)"
    )
    early_hours: int = Field(description="hours of early access to pre-sale waves")

    @classmethod
    def of(cls, level: Level) -> LevelOut:
        return cls(
            name=level.name,
            threshold=level.threshold,
            checkin_bonus=level.checkin_bonus,
            discount_bps=level.discount_bps,
            early_hours=level.early_hours,
        )


class LevelIn(In):
    name: str = Field(min_length=1, max_length=32)
    threshold: int = Field(ge=0, le=100_000_000)
    checkin_bonus: int = Field(default=0, ge=0, le=1000)
    discount_bps: int = Field(default=0, ge=0, le=5000)
    early_hours: int = Field(default=0, ge=0, le=168)

    def level(self) -> Level:
        return Level(
            name=self.name,
            threshold=self.threshold,
            checkin_bonus=self.checkin_bonus,
            discount_bps=self.discount_bps,
            early_hours=self.early_hours,
        )


class LevelsIn(In):
    levels: list[LevelIn] = Field(min_length=1, max_length=20)


class LevelProgressOut(Out):
    experience: int
    level: LevelOut
    next: LevelOut | None
    to_next: int = Field(description="experience still needed for the next level (0 at the top)")
    progress_pct: int

    @classmethod
    def of(cls, lv: LevelView) -> LevelProgressOut:
        return cls(
            experience=lv.experience,
            level=LevelOut.of(lv.level),
            next=LevelOut.of(lv.next) if lv.next else None,
            to_next=lv.to_next,
            progress_pct=lv.progress_pct,
        )


class ExpiringOut(Out):
    points: int
    on: str = Field(description="the last local day they can be spent (YYYY-MM-DD)")


class PointsOut(Out):
    balance: int
    experience: int
    level: LevelProgressOut
    streak: int
    checked_in_today: bool
    next_checkin_points: int
    month: list[str] = Field(description="this local month's check-in days (YYYY-MM-DD)")
    expiring: list[ExpiringOut] = Field(description="what expires when, soonest first")

    @classmethod
    def of(cls, s: Summary) -> PointsOut:
        return cls(
            balance=s.balance,
            experience=s.experience,
            level=LevelProgressOut.of(s.level),
            streak=s.streak,
            checked_in_today=s.checked_in_today,
            next_checkin_points=s.next_checkin_points,
            month=[d.isoformat() for d in s.month],
            expiring=[ExpiringOut(points=e.points, on=e.on.isoformat()) for e in s.expiring],
        )


class EntryOut(Out):
    id: int
    kind: str = Field(description="award | spend | expire")
    memo: str
    amount: int
    at: Iso

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        return cls(id=e.id, kind=e.kind, memo=e.memo, amount=e.amount, at=clock.iso(e.at))


class EntriesOut(Out):
    entries: list[EntryOut]
    next_cursor: int | None = Field(description="pass as ?cursor= for older entries")


class CheckinOut(Out):
    day: str
    streak: int
    points: int
    bonus: int = Field(description="the level's part of the points")
    balance: int

    @classmethod
    def of(cls, c: Checkin, balance: int) -> CheckinOut:
        return cls(
            day=c.day.isoformat(),
            streak=c.streak,
            points=c.points,
            bonus=c.bonus,
            balance=balance,
        )


class PointsSettingsOut(Out):
    ladder: list[int]
    bargain_help_points: int
    bargain_help_daily_cap: int
    invite_first_order_points: int
    review_points: int
    event_points: int
    expiry_years: int

    @classmethod
    def of(cls, s: PointsSettings) -> PointsSettingsOut:
        return cls(
            ladder=list(s.ladder),
            bargain_help_points=s.bargain_help_points,
            bargain_help_daily_cap=s.bargain_help_daily_cap,
            invite_first_order_points=s.invite_first_order_points,
            review_points=s.review_points,
            event_points=s.event_points,
            expiry_years=s.expiry_years,
        )


class PointsSettingsIn(In):
    ladder: list[int] = Field(
        min_length=1,
        max_length=rules.MAX_LADDER_DAYS,
        description="points for day 1, 2, … of a streak; past the end, the last step",
    )
    bargain_help_points: int = Field(ge=0, le=1000)
    bargain_help_daily_cap: int = Field(ge=0, le=100)
    invite_first_order_points: int = Field(ge=0, le=10_000)
    review_points: int = Field(default=rules.DEFAULT_REVIEW_POINTS, ge=0, le=1000)
    event_points: int = Field(default=rules.DEFAULT_EVENT_POINTS, ge=0, le=1000)
    expiry_years: int = Field(
        ge=1, le=10, description="points expire at the end of the Nth year after they are earned"
    )

    def settings(self) -> PointsSettings:
        return PointsSettings(
            ladder=tuple(self.ladder),
            bargain_help_points=self.bargain_help_points,
            bargain_help_daily_cap=self.bargain_help_daily_cap,
            invite_first_order_points=self.invite_first_order_points,
            review_points=self.review_points,
            event_points=self.event_points,
            expiry_years=self.expiry_years,
        )


class AdjustIn(In):
    member_id: int
    points: int = Field(ge=-rules.MAX_POINTS_PER_AWARD, le=rules.MAX_POINTS_PER_AWARD)
    note: str = Field(min_length=1, max_length=200, description="why (required)")


class AdjustOut(Out):
    member_id: int
    points: int
    balance: int


class MemberPointsOut(Out):
    member_id: int
    points: PointsOut
    entries: list[EntryOut]
