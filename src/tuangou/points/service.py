"""Points (积分): the journal, awards, check-in, spending, expiry, experience and levels.

Nothing here updates or deletes a journal row: an award, a spend and an expiry are each a
balanced transfer, recorded once under an id chosen from what it is about. A member's
``points_balances`` row changes in the same transaction as their entries, under a guarded
statement (``balance >= n``), so no member ever goes negative; ``tuangou audit`` checks that
the row equals the sum of the entries.

Other domains award points with :func:`award` (idempotent on member, reason and key):

* a verified review: ``award(..., reason=Reason.REVIEW, key=f"review:{review_id}")``;
* an event attended: ``award(..., reason=Reason.EVENT_ATTENDED, key=f"event:{event_id}")``;
* a help on a bargain: :func:`on_bargain_help` (capped per local day);
* an invitee's first completed order: :func:`on_order_completed` (the inviter comes from the
  lookup the composition root registers with :func:`register_inviter_lookup`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import execute, table, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.points import errors, rules
from tuangou.points.models import (
    PointsAward,
    PointsBalance,
    PointsCheckin,
    PointsEntry,
    PointsTransfer,
)
from tuangou.points.rules import Level, Reason

__all__ = [
    "Checkin",
    "Level",
    "LevelView",
    "PointsSettings",
    "Reason",
    "Summary",
    "award",
    "checkin",
    "checkins_between",
    "entries",
    "expire_member",
    "expiring",
    "get_levels",
    "get_settings",
    "journal_rows",
    "level_of",
    "level_view",
    "lock_member",
    "members_with_points",
    "on_bargain_help",
    "on_order_completed",
    "register_inviter_lookup",
    "register_on_award",
    "register_on_transfer",
    "reverse_help_awards",
    "set_levels",
    "set_settings",
    "spend",
    "streak_of",
    "summary",
]

SETTINGS_KEY = "points_settings"
LEVELS_KEY = "points_levels"


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class PointsSettings:
    ladder: tuple[int, ...] = rules.DEFAULT_LADDER
    bargain_help_points: int = rules.DEFAULT_HELP_POINTS
    bargain_help_daily_cap: int = rules.DEFAULT_HELP_CAP
    invite_first_order_points: int = rules.DEFAULT_INVITE_POINTS
    review_points: int = rules.DEFAULT_REVIEW_POINTS
    event_points: int = rules.DEFAULT_EVENT_POINTS
    expiry_years: int = rules.DEFAULT_EXPIRY_YEARS


def _read(session: Session, name: str) -> Any:
    value = session.scalar(select(InstanceSetting.value).where(InstanceSetting.name == name))
    return json.loads(value) if value else None


def _write(session: Session, name: str, value: Any) -> None:
    ins = upsert_insert(session)
    text = json.dumps(value, ensure_ascii=False)
    session.execute(
        ins(InstanceSetting)
        .values(name=name, value=text)
        .on_conflict_do_update(index_elements=["name"], set_={"value": text})
    )


def get_settings(session: Session) -> PointsSettings:
    stored = _read(session, SETTINGS_KEY) or {}
    base = asdict(PointsSettings())
    base.update({k: v for k, v in stored.items() if k in base})
    base["ladder"] = tuple(base["ladder"])
    return PointsSettings(**base)


def set_settings(session: Session, settings: PointsSettings) -> PointsSettings:
    problem = rules.check_ladder(settings.ladder)
    if problem is None and not 0 <= settings.bargain_help_daily_cap <= 100:
        problem = "the daily cap of bargain-help awards is between 0 and 100"
    if problem is None and not 0 <= settings.bargain_help_points <= 1000:
        problem = "a bargain help's points are between 0 and 1000"
    if problem is None and not (
        0 <= settings.review_points <= 1000 and 0 <= settings.event_points <= 1000
    ):
        problem = "a review's and an event's points are between 0 and 1000"
    if problem is None and not 0 <= settings.invite_first_order_points <= 10_000:
        problem = "an invitee's first order's points are between 0 and 10000"
    if problem is None and not 1 <= settings.expiry_years <= 10:
        problem = "points last between 1 and 10 years after the year they were earned"
    if problem:
        raise errors.InvalidSettings(problem)
    data = asdict(settings)
    data["ladder"] = list(settings.ladder)
    _write(session, SETTINGS_KEY, data)
    return get_settings(session)


def get_levels(session: Session) -> list[Level]:
    stored = _read(session, LEVELS_KEY)
    if not stored:
        return list(rules.DEFAULT_LEVELS)
    return [Level(**row) for row in stored]


def set_levels(session: Session, levels: Sequence[Level]) -> list[Level]:
    levels = [
        Level(
            name=level.name.strip(),
            threshold=level.threshold,
            checkin_bonus=level.checkin_bonus,
            discount_bps=level.discount_bps,
            early_hours=level.early_hours,
        )
        for level in levels
    ]
    problem = rules.check_levels(levels)
    if problem:
        raise errors.InvalidLevels(problem)
    _write(session, LEVELS_KEY, [asdict(level) for level in levels])
    return get_levels(session)


# ---------------------------------------------------------------- the journal


def _transfer(
    session: Session,
    transfer_id: str,
    kind: str,
    legs: Sequence[tuple[str, int]],
    *,
    user_id: int,
    year: int,
    memo: str = "",
) -> bool:
    """Record a balanced transfer once; False if ``transfer_id`` was already recorded."""
    legs = [(account, amount) for account, amount in legs if amount != 0]
    if not legs:
        return False
    if len(legs) < 2 or sum(amount for _, amount in legs) != 0:
        raise ValueError(f"points legs do not balance: {legs}")
    stmt = upsert_insert(session)(table(PointsTransfer)).on_conflict_do_nothing(
        index_elements=["id"]
    )
    row = {
        "id": transfer_id,
        "kind": kind,
        "user_id": user_id,
        "year": year,
        "memo": memo[:200],
        "created_at": clock.now(),
    }
    if execute(session, stmt, row).rowcount == 0:
        return False
    execute(
        session,
        insert(table(PointsEntry)),
        [{"transfer_id": transfer_id, "account": a, "amount": n} for a, n in legs],
    )
    for hook in _on_transfer:
        hook(session, transfer_id)
    return True


# Called in the transfer's transaction after each points transfer recorded (an award, a
# spend, an expiry), with (session, transfer_id): the verifiable record appends it.
_on_transfer: list[Callable[[Session, str], None]] = []


def register_on_transfer(hook: Callable[[Session, str], None] | None) -> None:
    """What else a recorded points transfer means; ``None`` removes every hook."""
    if hook is None:
        _on_transfer.clear()
    elif hook not in _on_transfer:
        _on_transfer.append(hook)


def journal_rows(session: Session, transfer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The points transfers as they stand now, legs in order (what the record hashes)."""
    found: dict[str, dict[str, Any]] = {}
    for row in session.scalars(
        select(PointsTransfer).where(PointsTransfer.id.in_(list(transfer_ids)))
    ):
        found[row.id] = {
            "id": row.id,
            "kind": row.kind,
            "member": row.user_id,
            "at": clock.iso(row.created_at),
            "legs": [],
        }
    for transfer_id, account, amount in session.execute(
        select(PointsEntry.transfer_id, PointsEntry.account, PointsEntry.amount)
        .where(PointsEntry.transfer_id.in_(list(found)))
        .order_by(PointsEntry.id)
    ):
        found[transfer_id]["legs"].append([account, int(amount)])
    return found


def _ensure_row(session: Session, user_id: int) -> None:
    session.execute(
        upsert_insert(session)(PointsBalance)
        .values(user_id=user_id, balance=0, experience=0)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


def _lock_member(session: Session, user_id: int) -> None:
    """The member's points row, locked to the end of the transaction (PostgreSQL; SQLite's
    writers take turns). Points rows come after every other lock a path holds."""
    _ensure_row(session, user_id)
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(PointsBalance.user_id).where(PointsBalance.user_id == user_id).with_for_update()
        ).all()


def _move(session: Session, user_id: int, points: int, experience: int = 0) -> bool:
    """Add ``points`` (maybe negative) to the member's cached balance, refusing to go below
    zero; False (nothing changed) if it would."""
    moved = execute(
        session,
        update(table(PointsBalance))
        .where(
            table(PointsBalance).c.user_id == user_id,
            table(PointsBalance).c.balance + points >= 0,
        )
        .values(
            balance=table(PointsBalance).c.balance + points,
            experience=table(PointsBalance).c.experience + experience,
        ),
    ).rowcount
    return bool(moved)


def _transfer_exists(session: Session, transfer_id: str) -> bool:
    return (
        session.scalar(select(PointsTransfer.id).where(PointsTransfer.id == transfer_id))
        is not None
    )


# ---------------------------------------------------------------- awards

# Called in the award's transaction, after each award that was recorded (not a repeat):
# (session, member, reason, key, at). Registered by the composition root.
OnAward = Callable[[Session, int, str, str, datetime], None]
_on_award: list[OnAward] = []


def register_on_award(hook: OnAward | None) -> None:
    """What else an award means (the achievements domain counts the actions behind them),
    registered by the composition root; ``None`` removes them all."""
    if hook is None:
        _on_award.clear()
    elif hook not in _on_award:
        _on_award.append(hook)


def lock_member(session: Session, user_id: int) -> None:
    """The member's points row, locked to the end of the transaction: what counts a
    member's awarded actions takes it before its own rows, as an award does."""
    _lock_member(session, user_id)


def award(
    session: Session,
    *,
    user_id: int,
    reason: str,
    key: str,
    points: int,
    experience: int | None = None,
    at: datetime | None = None,
    note: str = "",
    by_id: int | None = None,
) -> bool:
    """Award ``points`` (and experience: by default as many as the points, none for an
    adjustment) to a member, once per (member, reason, key): False when already awarded.
    Only ``admin_adjust`` may take points away (never below zero: ``not_enough_points``)."""
    try:
        reason = Reason(reason)
    except ValueError:
        raise errors.InvalidAward(f"no such reason: {reason}") from None
    key = str(key).strip()
    if not key or len(key) > 64:
        raise errors.InvalidAward("an award's key is 1 to 64 characters")
    if isinstance(points, bool) or not isinstance(points, int):
        raise errors.InvalidAward("points are a whole number")
    if abs(points) > rules.MAX_POINTS_PER_AWARD:
        raise errors.InvalidAward("an award is at most 100000 points")
    if points < 0 and reason not in (Reason.ADMIN_ADJUST, Reason.RISK_REVERSAL):
        raise errors.InvalidAward("only an adjustment or a risk reversal takes points away")
    exp = rules.default_experience(reason, points) if experience is None else experience
    if exp < 0:
        raise errors.InvalidAward("experience is never taken away")
    at = at or clock.now()
    day = clock.local_date(at)
    _lock_member(session, user_id)
    award_id = execute(
        session,
        upsert_insert(session)(table(PointsAward))
        .on_conflict_do_nothing(index_elements=["user_id", "reason", "key"])
        .returning(table(PointsAward).c.id),
        {
            "user_id": user_id,
            "reason": str(reason),
            "key": key,
            "points": points,
            "experience": exp,
            "day": day,
            "note": note[:200],
            "by_id": by_id,
            "created_at": clock.now(),
        },
    ).scalar()
    if award_id is None:
        return False
    if not _move(session, user_id, points, exp):
        raise errors.NotEnoughPoints()
    member = rules.member_account(user_id)
    _transfer(
        session,
        f"award:{award_id}",
        "award",
        [(rules.ISSUED, -points), (member, points)],
        user_id=user_id,
        year=day.year,
        memo=f"{reason}:{key}",
    )
    for hook in _on_award:
        hook(session, user_id, str(reason), key, at)
    return True


def on_bargain_help(session: Session, *, helper_id: int, help_id: int, at: datetime) -> bool:
    """A counted help on a friend's bargain earns points, up to the daily cap of awards
    (the local day). Called inside the help's transaction."""
    settings = get_settings(session)
    if settings.bargain_help_points <= 0:
        return False
    _lock_member(session, helper_id)
    today = clock.local_date(at)
    done = session.scalar(
        select(func.count())
        .select_from(PointsAward)
        .where(
            PointsAward.user_id == helper_id,
            PointsAward.reason == Reason.BARGAIN_HELP,
            PointsAward.day == today,
        )
    )
    if (done or 0) >= settings.bargain_help_daily_cap:
        return False
    return award(
        session,
        user_id=helper_id,
        reason=Reason.BARGAIN_HELP,
        key=f"help:{help_id}",
        points=settings.bargain_help_points,
        at=at,
    )


def reverse_help_awards(session: Session, member_ids: Sequence[int], reason: str) -> int:
    """A confirmed fraud ring (the risk engine's hook): each member loses the points their
    bargain helps earned, one ``risk_reversal`` per help award (keyed by it, so a second
    confirmation takes nothing more), never below zero: points already spent stay spent.
    Experience is never taken away. Returns the points taken."""
    taken = 0
    for user_id in sorted(set(member_ids)):
        helps = session.scalars(
            select(PointsAward)
            .where(
                PointsAward.user_id == user_id,
                PointsAward.reason == Reason.BARGAIN_HELP,
                PointsAward.points > 0,
            )
            .order_by(PointsAward.id)
        ).all()
        if not helps:
            continue
        _lock_member(session, user_id)
        for help_award in helps:
            take = min(help_award.points, balance_of(session, user_id))
            if take <= 0:
                break
            key = f"reversed:{help_award.key}"
            if award(
                session,
                user_id=user_id,
                reason=Reason.RISK_REVERSAL,
                key=key,
                points=-take,
                experience=0,
                note=reason,
            ):
                taken += take
    return taken


InviterLookup = Callable[[Session, int], "int | None"]
_inviter_lookup: list[InviterLookup] = []


def register_inviter_lookup(lookup: InviterLookup | None) -> None:
    """Who invited a member (the referral domain's answer), registered by the composition
    root; with none registered an invitee's order earns nobody anything."""
    _inviter_lookup.clear()
    if lookup is not None:
        _inviter_lookup.append(lookup)


def on_order_completed(
    session: Session, user_id: int, order_id: int, *, inviter_id: int | None = None
) -> bool:
    """An order completed: the member's inviter earns points for the first one (keyed on
    the invitee, so only the first completed order counts; a signup earns nothing)."""
    if inviter_id is None and _inviter_lookup:
        inviter_id = _inviter_lookup[0](session, user_id)
    if inviter_id is None or inviter_id == user_id:
        return False
    points = get_settings(session).invite_first_order_points
    if points <= 0:
        return False
    return award(
        session,
        user_id=inviter_id,
        reason=Reason.INVITE_FIRST_ORDER,
        key=f"invitee:{user_id}",
        points=points,
        note=f"order {order_id}",
    )


def on_review_published(session: Session, *, user_id: int, review_id: int) -> bool:
    """A verified buyer's review was published (at once, or approved by a moderator): its
    author earns points, once per review however often it is hidden and restored."""
    points = get_settings(session).review_points
    if points <= 0:
        return False
    return award(
        session, user_id=user_id, reason=Reason.REVIEW, key=f"review:{review_id}", points=points
    )


def on_event_attended(session: Session, *, user_id: int, event_id: int) -> bool:
    """A member was checked in at a community event: points, once per event."""
    points = get_settings(session).event_points
    if points <= 0:
        return False
    return award(
        session,
        user_id=user_id,
        reason=Reason.EVENT_ATTENDED,
        key=f"event:{event_id}",
        points=points,
    )


# ---------------------------------------------------------------- check-in


@dataclass(frozen=True)
class Checkin:
    day: date
    streak: int
    points: int  # the ladder's step plus the level's bonus
    bonus: int  # the level's part of it


def _last_checkin(session: Session, user_id: int, before: date) -> PointsCheckin | None:
    return session.scalar(
        select(PointsCheckin)
        .where(PointsCheckin.user_id == user_id, PointsCheckin.day < before)
        .order_by(PointsCheckin.day.desc())
        .limit(1)
    )


def checkin(session: Session, user_id: int, *, at: datetime | None = None) -> Checkin:
    """Check in once per local day: the streak ladder's points (a missed day starts the
    streak again), plus the member's level's check-in bonus. ``already_checked_in`` the
    second time the same day, however many arrive at once. (``at``: the demo data's past
    days; a request checks in now.)"""
    now = at or clock.now()
    today = clock.local_date(now)
    _lock_member(session, user_id)
    last = _last_checkin(session, user_id, today)
    streak = rules.streak_after(last.day if last else None, last.streak if last else 0, today)
    base = rules.ladder_points(get_settings(session).ladder, streak)
    bonus = level_of(session, user_id).checkin_bonus
    inserted = execute(
        session,
        upsert_insert(session)(table(PointsCheckin)).on_conflict_do_nothing(
            index_elements=["user_id", "day"]
        ),
        {
            "user_id": user_id,
            "day": today,
            "streak": streak,
            "points": base + bonus,
            "created_at": now,
        },
    ).rowcount
    if not inserted:
        raise errors.AlreadyCheckedIn()
    award(
        session,
        user_id=user_id,
        reason=Reason.CHECKIN,
        key=today.isoformat(),
        points=base + bonus,
        at=now,
    )
    return Checkin(day=today, streak=streak, points=base + bonus, bonus=bonus)


def streak_of(session: Session, user_id: int, today: date | None = None) -> tuple[int, bool]:
    """The member's current streak and whether they checked in today (a streak whose last
    day is before yesterday is over: 0)."""
    today = today or clock.local_date(clock.now())
    last = _last_checkin(session, user_id, today + timedelta(days=1))
    if last is None:
        return 0, False
    if last.day == today:
        return last.streak, True
    if last.day == today - timedelta(days=1):
        return last.streak, False
    return 0, False


def checkins_between(
    session: Session, user_id: int, first: date, last: date
) -> list[PointsCheckin]:
    return list(
        session.scalars(
            select(PointsCheckin)
            .where(
                PointsCheckin.user_id == user_id,
                PointsCheckin.day >= first,
                PointsCheckin.day <= last,
            )
            .order_by(PointsCheckin.day)
        )
    )


# ---------------------------------------------------------------- spending


def spend(session: Session, *, user_id: int, points: int, reason: str, key: str) -> bool:
    """Spend points (the oldest first, for expiry's sake): False if this (reason, key) was
    already spent; ``not_enough_points`` if the balance is short (nothing changes)."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise errors.InvalidAward("spend a positive whole number of points")
    reason = str(reason).strip()
    key = str(key).strip()
    if not reason or not key or len(reason) + len(key) > 80:
        raise errors.InvalidAward("a spend needs a reason and a key")
    transfer_id = f"spend:{user_id}:{reason}:{key}"
    _lock_member(session, user_id)
    if _transfer_exists(session, transfer_id):
        return False
    if not _move(session, user_id, -points):
        raise errors.NotEnoughPoints(f"{points} points needed, {balance_of(session, user_id)} held")
    _transfer(
        session,
        transfer_id,
        "spend",
        [(rules.member_account(user_id), -points), (rules.SPENT, points)],
        user_id=user_id,
        year=clock.local_date(clock.now()).year,
        memo=f"{reason}:{key}",
    )
    return True


# ---------------------------------------------------------------- expiry


def _flows(session: Session, user_id: int) -> tuple[dict[int, int], int]:
    """What the member earned per local year, and everything that ever flowed out."""
    account = rules.member_account(user_id)
    earned = {
        int(year): int(total)
        for year, total in session.execute(
            select(PointsTransfer.year, func.sum(PointsEntry.amount))
            .join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id)
            .where(PointsEntry.account == account, PointsEntry.amount > 0)
            .group_by(PointsTransfer.year)
        )
    }
    outflow = -int(
        session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.account == account, PointsEntry.amount < 0
            )
        )
        or 0
    )
    return earned, outflow


def expire_member(session: Session, user_id: int, *, today: date | None = None) -> int:
    """Expire, year by year and oldest first, what the member earned in each year whose
    points are past their end and is still unspent; returns the points expired. One expiry
    transfer per member and year (``expire:N:Y``): running it again expires nothing more."""
    today = today or clock.local_date(clock.now())
    years = get_settings(session).expiry_years
    _lock_member(session, user_id)
    earned, outflow = _flows(session, user_id)
    total = 0
    for year in sorted(earned):
        if rules.expiry_year(year, years) >= today.year:
            break
        left = rules.left_of_years(earned, outflow, year)
        transfer_id = f"expire:{user_id}:{year}"
        if left <= 0 or _transfer_exists(session, transfer_id):
            continue
        if not _move(session, user_id, -left):
            raise errors.NotEnoughPoints()  # cannot happen: left ≤ the balance
        _transfer(
            session,
            transfer_id,
            "expire",
            [(rules.member_account(user_id), -left), (rules.EXPIRED, left)],
            user_id=user_id,
            year=today.year,
            memo=f"earned in {year}",
        )
        outflow += left
        total += left
    return total


@dataclass(frozen=True)
class Expiring:
    points: int
    on: date  # the last day they can be spent


def expiring(session: Session, user_id: int, *, today: date | None = None) -> list[Expiring]:
    """What of the balance expires when, soonest first (FIFO, as :func:`expire_member`)."""
    today = today or clock.local_date(clock.now())
    years = get_settings(session).expiry_years
    earned, outflow = _flows(session, user_id)
    out: list[Expiring] = []
    taken = 0
    for year in sorted(earned):
        left = rules.left_of_years(earned, outflow, year) - taken
        if left > 0:
            out.append(Expiring(points=left, on=rules.expires_on(year, years)))
            taken += left
    return out


def members_with_points(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(PointsBalance.user_id)
            .where(PointsBalance.balance > 0)
            .order_by(PointsBalance.user_id)
        )
    )


# ---------------------------------------------------------------- reading


def balance_of(session: Session, user_id: int) -> int:
    return int(
        session.scalar(select(PointsBalance.balance).where(PointsBalance.user_id == user_id)) or 0
    )


def experience_of(session: Session, user_id: int) -> int:
    return int(
        session.scalar(select(PointsBalance.experience).where(PointsBalance.user_id == user_id))
        or 0
    )


def level_of(session: Session, user_id: int) -> Level:
    """The member's level (its benefits: check-in bonus, discount in basis points, hours of
    early access to pre-sale waves), from their experience."""
    levels = get_levels(session)
    return levels[rules.level_index(levels, experience_of(session, user_id))]


def early_access(session: Session, wave_id: int, user_id: int) -> timedelta:
    """A level's early access to pre-sale waves (``pools.register_early_access``): its
    members may see and order a wave that has an opening this many hours before it."""
    return timedelta(hours=level_of(session, user_id).early_hours)


@dataclass(frozen=True)
class LevelView:
    experience: int
    index: int  # 0-based
    level: Level
    next: Level | None
    to_next: int  # experience still needed (0 at the top)
    progress_pct: int  # 0..100 of the way from this level to the next
    levels: list[Level] = field(default_factory=list)


def level_view(session: Session, user_id: int) -> LevelView:
    levels = get_levels(session)
    exp = experience_of(session, user_id)
    i = rules.level_index(levels, exp)
    nxt = levels[i + 1] if i + 1 < len(levels) else None
    if nxt is None:
        return LevelView(exp, i, levels[i], None, 0, 100, levels)
    span = nxt.threshold - levels[i].threshold
    pct = (exp - levels[i].threshold) * 100 // span if span else 100
    return LevelView(exp, i, levels[i], nxt, nxt.threshold - exp, pct, levels)


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    memo: str
    amount: int
    at: datetime


def entries(
    session: Session, user_id: int, *, before: int | None = None, limit: int = 20
) -> list[Entry]:
    """The member's entries, newest first (``before``: an entry id, for the next page)."""
    query = (
        select(
            PointsEntry.id,
            PointsTransfer.kind,
            PointsTransfer.memo,
            PointsEntry.amount,
            PointsTransfer.created_at,
        )
        .join(PointsTransfer, PointsTransfer.id == PointsEntry.transfer_id)
        .where(PointsEntry.account == rules.member_account(user_id))
        .order_by(PointsEntry.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(PointsEntry.id < before)
    return [Entry(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class Summary:
    balance: int
    experience: int
    streak: int
    checked_in_today: bool
    next_checkin_points: int
    month: list[date]  # the days of this local month the member checked in
    expiring: list[Expiring]
    level: LevelView


def summary(session: Session, user_id: int) -> Summary:
    today = clock.local_date(clock.now())
    streak, done = streak_of(session, user_id, today)
    lv = level_view(session, user_id)
    ladder = get_settings(session).ladder
    next_points = rules.ladder_points(ladder, streak + 1)  # today's, or tomorrow's
    first = today.replace(day=1)
    month = [c.day for c in checkins_between(session, user_id, first, today)]
    return Summary(
        balance=balance_of(session, user_id),
        experience=lv.experience,
        streak=streak,
        checked_in_today=done,
        next_checkin_points=next_points + lv.level.checkin_bonus,
        month=month,
        expiring=expiring(session, user_id, today=today),
        level=lv,
    )
