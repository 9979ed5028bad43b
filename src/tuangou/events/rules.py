"""Pure rules of community events (活动报名): their states, what a leader may set, when a
member may sign up or cancel, the refund rule, check-in codes and the reminder's moment."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from enum import StrEnum

TITLE_MAX = 100
DESCRIPTION_MAX = 2000
PLACE_MAX = 200
MIN_SEATS = 1
MAX_SEATS = 1000
MAX_FEE = 1_000_000  # fen: ¥10,000 per seat at most
DEFAULT_HOLD_MINUTES = 15  # a paid seat is held this long for its payment
MAX_HOLD_MINUTES = 24 * 60
REMIND_BEFORE = timedelta(hours=2)  # the reminder goes this long before the start
MAX_DAYS_AHEAD = 366
CODE_DIGITS = 6
CODE_SPACE = 10**CODE_DIGITS
MAX_DRAWS = 200


class EventStatus(StrEnum):
    """draft → published → cancelled | over (its end passed)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    OVER = "over"


class SignupStatus(StrEnum):
    """A member's place in an event.

    * ``held``: a seat of a paid event, waiting for its payment (the order's hold);
    * ``signed_up``: a seat, free or paid (with a check-in code);
    * ``waitlisted``: no seat yet, in line by ``seq``;
    * ``cancelled``: the member cancelled (or the event was cancelled);
    * ``released``: the unpaid hold ran out.
    A cancelled or released member may sign up again (at the end of the line)."""

    HELD = "held"
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    RELEASED = "released"


# The statuses that hold one of the event's seats (``events.taken`` counts them).
HOLDING = frozenset({SignupStatus.HELD, SignupStatus.SIGNED_UP})
# The statuses of a member still in the event (a seat or a place in line).
LIVE = frozenset({SignupStatus.HELD, SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED})


def schedule_problem(
    now: datetime, starts_at: datetime, ends_at: datetime, closes_at: datetime
) -> tuple[str, str] | None:
    """(field, message) of what is wrong with an event's times, or None."""
    if starts_at <= now:
        return "starts_at", "the event must start in the future"
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        return "starts_at", "an event starts within a year"
    if ends_at <= starts_at:
        return "ends_at", "the event must end after it starts"
    if ends_at - starts_at > timedelta(days=7):
        return "ends_at", "an event lasts at most 7 days"
    if closes_at > starts_at:
        return "closes_at", "sign-up closes at the start at the latest"
    if closes_at <= now:
        return "closes_at", "sign-up must close in the future"
    return None


def seats_problem(seats: int, taken: int = 0) -> str | None:
    if not MIN_SEATS <= seats <= MAX_SEATS:
        return f"seats are {MIN_SEATS} to {MAX_SEATS}"
    if seats < taken:
        return f"{taken} members already hold a seat: seats cannot go below {taken}"
    return None


def can_sign_up(status: str, now: datetime, closes_at: datetime) -> bool:
    return status == EventStatus.PUBLISHED and now < closes_at


def can_cancel_signup(status: str, now: datetime, closes_at: datetime) -> bool:
    """A member cancels while sign-up is open; after the closing time the seat is kept
    (and a paid one is not refunded: the leader planned for it)."""
    return status == EventStatus.PUBLISHED and now < closes_at


def refund_on_cancel(fee_paid: int, *, by_event: bool) -> int:
    """What goes back when a paid sign-up ends before the event: all of it, whether the
    member cancelled before the closing time or the leader cancelled the event. (A seat kept
    past the closing time is not refundable: attended or not, its fee goes to the leader.)"""
    return max(0, fee_paid)


def promotes(status: str, now: datetime, starts_at: datetime) -> bool:
    """Whether a freed seat goes to the next in line: while the event is on and not started."""
    return status == EventStatus.PUBLISHED and now < starts_at


def reminder_due(now: datetime, starts_at: datetime, before: timedelta = REMIND_BEFORE) -> bool:
    return starts_at - before <= now < starts_at


def random_code() -> str:
    return f"{secrets.randbelow(CODE_SPACE):0{CODE_DIGITS}d}"


def is_code(value: str) -> bool:
    return len(value) == CODE_DIGITS and value.isascii() and value.isdigit()


def normalise_code(value: str) -> str:
    """What a leader typed or scanned: spaces and dashes dropped."""
    return "".join(ch for ch in value.strip() if ch not in " -\u3000")


def draw_code(
    taken: Collection[str], draw: Callable[[], str] = random_code, *, max_draws: int = MAX_DRAWS
) -> str:
    """A check-in code not in ``taken`` (the event's codes)."""
    for _ in range(max_draws):
        code = draw()
        if not is_code(code):
            raise ValueError(f"a drawn code must be {CODE_DIGITS} digits, got {code!r}")
        if code not in taken:
            return code
    raise RuntimeError(f"no free check-in code after {max_draws} draws")
