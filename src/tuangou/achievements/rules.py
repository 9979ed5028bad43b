"""Tasks and achievements (任务与成就): the pure rules.

What members do is counted as **actions**, each once per (member, action, key): a check-in
(one a local day), a verified review published, an invitee's first completed order (the
inviter's action), a help on a bargain, an event attended, an order completed (the buyer's).
Days and weeks are the deployment's local ones; a week starts on Monday.

* A **weekly task** (operator-defined) is reached when a member's actions of its kind in one
  local week reach its count: its points and its badge, once per member, task and week.
* An **achievement** is a lifetime threshold (or, for check-ins, a streak of days): its points
  and its badge, once per member, ever.
* A **badge** is a name from :data:`BADGES`; a member holds it from the first time it was
  earned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Action(StrEnum):
    CHECKIN = "checkin"
    REVIEW = "review"
    INVITE = "invite"  # an invitee's first completed order
    BARGAIN_HELP = "bargain_help"
    EVENT_ATTENDED = "event_attended"
    ORDER_COMPLETED = "order_completed"


# The points reasons whose awards are actions (the award's key is the action's key).
ACTION_OF_REASON: dict[str, Action] = {
    "checkin": Action.CHECKIN,
    "review": Action.REVIEW,
    "invite_first_order": Action.INVITE,
    "bargain_help": Action.BARGAIN_HELP,
    "event_attended": Action.EVENT_ATTENDED,
}

# A task's words, per action: (English, Chinese), over the count ``{n}``.
TASK_TEXT: dict[Action, tuple[str, str]] = {
    Action.CHECKIN: ("Check in on {n} days", "签到 {n} 天"),
    Action.REVIEW: ("Write {n} verified reviews", "发布 {n} 条晒单评价"),
    Action.INVITE: ("Invite {n} neighbours who order", "邀请 {n} 位邻居下单"),
    Action.BARGAIN_HELP: ("Help {n} bargains", "帮邻居砍价 {n} 次"),
    Action.EVENT_ATTENDED: ("Attend {n} events", "参加 {n} 次社群活动"),
    Action.ORDER_COMPLETED: ("Complete {n} orders", "完成 {n} 笔订单"),
}


@dataclass(frozen=True)
class Badge:
    code: str
    name: str  # English (the pages translate it)
    name_zh: str  # for the inbox, which stores its words
    icon: str


BADGES: dict[str, Badge] = {
    b.code: b
    for b in (
        Badge("early_bird", "Early bird", "早起鸟", "☀"),
        Badge("reviewer", "Honest reviewer", "真实晒单", "✎"),
        Badge("connector", "Good connector", "邻里纽带", "✉"),
        Badge("helper", "Helping hand", "热心帮手", "✋"),
        Badge("regular", "Event regular", "活动常客", "★"),
        Badge("first_order", "First order", "首单达成", "✓"),
        Badge("streak7", "Seven-day streak", "七日连签", "❼"),
        Badge("critic", "Trusted critic", "口碑达人", "✪"),
        Badge("good_neighbour", "Good neighbour", "好邻居", "♥"),
        Badge("socialite", "Community regular", "社群活跃分子", "☺"),
    )
}


@dataclass(frozen=True)
class Achievement:
    code: str
    name: str
    name_zh: str
    action: Action
    threshold: int
    points: int
    badge: str
    streak: bool = False  # consecutive local days (check-ins) rather than a count


ACHIEVEMENTS: tuple[Achievement, ...] = (
    Achievement("first_order", "First order", "首单", Action.ORDER_COMPLETED, 1, 20, "first_order"),
    Achievement("reviews_10", "10 verified reviews", "10 条晒单", Action.REVIEW, 10, 100, "critic"),
    Achievement(
        "helped_20",
        "Helped 20 neighbours",
        "帮助 20 位邻居",
        Action.BARGAIN_HELP,
        20,
        100,
        "good_neighbour",
    ),
    Achievement(
        "events_5",
        "Attended 5 events",
        "参加 5 次活动",
        Action.EVENT_ATTENDED,
        5,
        50,
        "socialite",
    ),
    Achievement(
        "streak_7",
        "A 7-day check-in streak",
        "连续签到 7 天",
        Action.CHECKIN,
        7,
        50,
        "streak7",
        streak=True,
    ),
)
ACHIEVEMENT_BY_CODE = {a.code: a for a in ACHIEVEMENTS}


@dataclass(frozen=True)
class DefaultTask:
    code: str
    action: Action
    count: int
    points: int
    badge: str


DEFAULT_TASKS: tuple[DefaultTask, ...] = (
    DefaultTask("checkin_3", Action.CHECKIN, 3, 20, "early_bird"),
    DefaultTask("review_1", Action.REVIEW, 1, 20, "reviewer"),
    DefaultTask("invite_1", Action.INVITE, 1, 50, "connector"),
)

MAX_COUNT = 100
MAX_TASK_POINTS = 10_000
MAX_TASKS = 20  # active at once


def week_of(day: date) -> date:
    """The Monday of the local week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def task_text(action: Action | str, count: int, lang: str = "en") -> str:
    en, zh = TASK_TEXT[Action(action)]
    return (zh if lang.startswith("zh") else en).format(n=count)


def task_problem(action: str, count: int, points: int, badge: str) -> str | None:
    """Why a weekly task cannot be so (None: it can)."""
    if action not in set(Action):
        return "no such action"
    if not 1 <= count <= MAX_COUNT:
        return f"a task's count is between 1 and {MAX_COUNT}"
    if not 0 <= points <= MAX_TASK_POINTS:
        return f"a task's points are between 0 and {MAX_TASK_POINTS}"
    if badge and badge not in BADGES:
        return "no such badge"
    return None


def streak_ending(days: Iterable[date], today: date) -> int:
    """The run of consecutive days ending today or yesterday (0 if neither is in ``days``)."""
    have = set(days)
    start = today if today in have else today - timedelta(days=1)
    n = 0
    while start - timedelta(days=n) in have:
        n += 1
    return n


def longest_run(days: Iterable[date]) -> int:
    """The longest run of consecutive days."""
    have = set(days)
    best = 0
    for d in have:
        if d - timedelta(days=1) in have:
            continue
        n = 1
        while d + timedelta(days=n) in have:
            n += 1
        best = max(best, n)
    return best
