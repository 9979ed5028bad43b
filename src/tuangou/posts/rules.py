"""Pure rules of posts: statuses, limits, the posting rhythm.

The rhythm (DOMAIN.md "Community life": against information overload) is per community:

* at most ``deals_per_day`` deal posts a day (the deployment's day, from local midnight);
* optional posting hours ``opens``–``closes`` (local; a window may cross midnight, e.g.
  20:00–02:00): posts and replies outside them wait for the next opening;
* a **new member** (one who joined the community less than ``new_for``, 24 h by default, ago;
  its leader and admins are never new) writes at most one post per ``post_gap`` (120 s), one
  reply per ``reply_gap`` (30 s), and ``first_day_replies`` (10) replies in that first day.

Every refusal is a :class:`Wait`: why, and the first moment from which the member may write
again (every condition met at that moment, e.g. the next day's opening hour after the day's
deal posts are used up). All times here are aware datetimes in the deployment's time zone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

TEXT_MAX = 2000
REPLY_MAX = 500
PHOTOS_MAX = 9
PINS_MAX = 3
PAGE_SIZE = 20
EXCERPT = 60

DEFAULT_DEALS_PER_DAY = 3
DEALS_PER_DAY_BOUND = 10  # the operator's bound: a leader sets 0..this


class PostStatus(StrEnum):
    """published (seen by the community) | held (the text screen matched: waits for a
    moderator) | hidden (by a moderator) | deleted (by its author)."""

    PUBLISHED = "published"
    HELD = "held"
    HIDDEN = "hidden"
    DELETED = "deleted"


class PostKind(StrEnum):
    EXPERIENCE = "experience"
    DEAL = "deal"  # linked to a campaign or a wave


class WaitReason(StrEnum):
    DEAL_CAP = "deal_cap"
    HOURS = "hours"
    POST_GAP = "post_gap"
    REPLY_GAP = "reply_gap"
    FIRST_DAY_REPLIES = "first_day_replies"


class RuleViolation(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def clean_text(value: str, *, field: str, max_len: int) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleViolation("write something first", field)
    if len(text) > max_len:
        raise RuleViolation(f"at most {max_len} characters", field)
    return text


def excerpt(text: str, length: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


# ---------------------------------------------------------------- the rhythm


@dataclass(frozen=True)
class Rhythm:
    deals_per_day: int = DEFAULT_DEALS_PER_DAY
    opens: time | None = None
    closes: time | None = None


@dataclass(frozen=True)
class NewMemberLimits:
    new_for: timedelta = timedelta(hours=24)
    post_gap: timedelta = timedelta(seconds=120)
    reply_gap: timedelta = timedelta(seconds=30)
    first_day_replies: int = 10


@dataclass(frozen=True)
class Wait:
    reason: WaitReason
    until: datetime  # local, aware

    def seconds(self, now: datetime) -> int:
        """Retry-After: whole seconds to wait, at least 1."""
        return max(1, math.ceil((self.until - now).total_seconds()))


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_hour(value: str) -> time:
    match = _HHMM.match(value.strip())
    if match is None:
        raise RuleViolation("a time of day like 08:00", "hours")
    return time(int(match.group(1)), int(match.group(2)))


def check_rhythm(rhythm: Rhythm, *, bound: int = DEALS_PER_DAY_BOUND) -> Rhythm:
    """The rhythm a leader may set: deal posts 0..bound a day; hours both or neither, and a
    window of some length."""
    if not 0 <= rhythm.deals_per_day <= bound:
        raise RuleViolation(f"deal posts a day: 0 to {bound}", "deals_per_day")
    if (rhythm.opens is None) != (rhythm.closes is None):
        raise RuleViolation("give both the opening and the closing time, or neither", "hours")
    if rhythm.opens is not None and rhythm.opens == rhythm.closes:
        raise RuleViolation("the posting hours must not open and close at once", "hours")
    return rhythm


def _at(day: date, moment: time, like: datetime) -> datetime:
    return datetime.combine(day, moment, tzinfo=like.tzinfo)


def within_hours(now: datetime, rhythm: Rhythm) -> bool:
    if rhythm.opens is None or rhythm.closes is None:
        return True
    t = now.timetz().replace(tzinfo=None)
    if rhythm.opens < rhythm.closes:
        return rhythm.opens <= t < rhythm.closes
    return t >= rhythm.opens or t < rhythm.closes  # across midnight


def next_opening(now: datetime, rhythm: Rhythm) -> datetime:
    """The next moment the posting hours open (today's opening if still ahead, else
    tomorrow's)."""
    assert rhythm.opens is not None
    today = _at(now.date(), rhythm.opens, now)
    return today if today > now else _at(now.date() + timedelta(days=1), rhythm.opens, now)


def next_midnight(now: datetime) -> datetime:
    return _at(now.date() + timedelta(days=1), time.min, now)


def is_new(now: datetime, joined_at: datetime | None, limits: NewMemberLimits) -> bool:
    """``joined_at`` None: not slowed (the community's leader and admins)."""
    return joined_at is not None and now < joined_at + limits.new_for


def _waits_for_post(
    now: datetime,
    rhythm: Rhythm,
    limits: NewMemberLimits,
    *,
    deal: bool,
    deals_on: dict[date, int],
    joined_at: datetime | None,
    last_post_at: datetime | None,
) -> list[Wait]:
    waits = []
    if not within_hours(now, rhythm):
        waits.append(Wait(WaitReason.HOURS, next_opening(now, rhythm)))
    if deal and deals_on.get(now.date(), 0) >= rhythm.deals_per_day:
        waits.append(Wait(WaitReason.DEAL_CAP, next_midnight(now)))
    new = is_new(now, joined_at, limits)
    if new and last_post_at is not None and now < last_post_at + limits.post_gap:
        waits.append(Wait(WaitReason.POST_GAP, last_post_at + limits.post_gap))
    return waits


def _waits_for_reply(
    now: datetime,
    rhythm: Rhythm,
    limits: NewMemberLimits,
    *,
    joined_at: datetime | None,
    last_reply_at: datetime | None,
    replies_since_joining: int,
) -> list[Wait]:
    waits = []
    if not within_hours(now, rhythm):
        waits.append(Wait(WaitReason.HOURS, next_opening(now, rhythm)))
    if is_new(now, joined_at, limits) and joined_at is not None:
        if replies_since_joining >= limits.first_day_replies:
            waits.append(Wait(WaitReason.FIRST_DAY_REPLIES, joined_at + limits.new_for))
        if last_reply_at is not None and now < last_reply_at + limits.reply_gap:
            waits.append(Wait(WaitReason.REPLY_GAP, last_reply_at + limits.reply_gap))
    return waits


def _settle(first: list[Wait], later: object) -> Wait | None:
    """The refusal at ``now``: its reason is the first condition that refuses now; its
    ``until`` is the first moment at which no condition refuses (found by stepping to the
    latest ``until`` until none is left; a few steps at most)."""
    if not first:
        return None
    waits = first
    until = max(w.until for w in waits)
    for _ in range(8):
        waits = later(until)  # type: ignore[operator]
        if not waits:
            break
        until = max(w.until for w in waits)
    return Wait(first[0].reason, until)


def post_wait(
    now: datetime,
    rhythm: Rhythm,
    limits: NewMemberLimits,
    *,
    deal: bool,
    deals_today: int,
    joined_at: datetime | None,
    last_post_at: datetime | None,
) -> Wait | None:
    """None if a post may be written at ``now``, else why not and until when.
    ``deals_today``: the community's deal posts already published on ``now``'s local day."""
    deals_on = {now.date(): deals_today}

    def at(moment: datetime) -> list[Wait]:
        return _waits_for_post(
            moment,
            rhythm,
            limits,
            deal=deal,
            deals_on=deals_on,
            joined_at=joined_at,
            last_post_at=last_post_at,
        )

    return _settle(at(now), at)


def reply_wait(
    now: datetime,
    rhythm: Rhythm,
    limits: NewMemberLimits,
    *,
    joined_at: datetime | None,
    last_reply_at: datetime | None,
    replies_since_joining: int,
) -> Wait | None:
    """None if a reply may be written at ``now``, else why not and until when."""

    def at(moment: datetime) -> list[Wait]:
        return _waits_for_reply(
            moment,
            rhythm,
            limits,
            joined_at=joined_at,
            last_reply_at=last_reply_at,
            replies_since_joining=replies_since_joining,
        )

    return _settle(at(now), at)
