"""Pure rules of a wave's fulfilment: pickup codes (提货码) and what happens to a pickup.

A pickup code is six digits, unique per pickup point and wave. Codes are drawn at random
(a guessable sequence would let anyone collect a neighbour's order) and drawn again when a
draw collides with a code already taken; the database's unique index is the last word.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from enum import StrEnum
from urllib.parse import quote

from tuangou.orders.rules import OrderStatus

CODE_DIGITS = 6
CODE_SPACE = 10**CODE_DIGITS
MAX_DRAWS = 200  # per code: with fewer than half the codes taken, failing is ~2^-200


class PickupStatus(StrEnum):
    """Waiting at the pickup point → picked_up (verified, 核销); or, unpicked after the wave's
    days, refunded or kept (the order completes without pickup)."""

    WAITING = "waiting"
    PICKED_UP = "picked_up"
    REFUNDED = "refunded"
    KEPT = "kept"


# Order statuses whose goods are still on the way to the pickup point.
IN_TRANSIT = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED)


class CodesExhausted(RuntimeError):
    """No free code could be drawn (the pickup point and wave use nearly all of them)."""


def is_code(value: str) -> bool:
    """Six ASCII digits, leading zeros kept: ``"004217"``."""
    return len(value) == CODE_DIGITS and value.isascii() and value.isdigit()


def normalise_code(value: str) -> str:
    """What a leader typed or scanned: spaces and dashes dropped (``"123 456"``)."""
    return "".join(ch for ch in value.strip() if ch not in " -\u3000")


def code_length_wrong(value: str) -> bool:
    """Digits, but not six of them: the leader typed one too few or too many."""
    return value.isascii() and value.isdigit() and len(value) != CODE_DIGITS


class HandOver(StrEnum):
    """How a pickup was handed over at the counter: its code typed, its QR scanned, or the
    order chosen from a lookup by phone tail and name (the member lost their code)."""

    CODE = "code"
    SCAN = "scan"
    LOOKUP = "lookup"


PHONE_TAIL_DIGITS = 4
LOOKUP_NAME_MAX = 40
SCAN_MAX_BYTES = 2 * 1024 * 1024  # one camera frame or photo (a phone's JPEG is far smaller)
SCAN_MAX_PIXELS = 12_000_000  # a decoded picture larger than this is refused, not decoded


def phone_tail(value: str) -> str | None:
    """The last four digits of a phone number as typed (spaces dropped), or None."""
    tail = "".join(ch for ch in value if ch not in " -\u3000")
    ok = len(tail) == PHONE_TAIL_DIGITS and tail.isascii() and tail.isdigit()
    return tail if ok else None


def name_matches(typed: str, nickname: str) -> bool:
    """A lookup's name: any part of the member's name (``"李"`` finds ``"李阿姨"``); empty
    matches everyone with that phone tail."""
    wanted = "".join(typed.split()).casefold()
    return not wanted or wanted in "".join(nickname.split()).casefold()


def random_code() -> str:
    return f"{secrets.randbelow(CODE_SPACE):0{CODE_DIGITS}d}"


def draw_code(
    taken: Collection[str],
    draw: Callable[[], str] = random_code,
    *,
    max_draws: int = MAX_DRAWS,
) -> str:
    """A code not in ``taken``: draw until one is free, at most ``max_draws`` times."""
    if len(taken) >= CODE_SPACE:
        raise CodesExhausted("every code of this pickup point and wave is taken")
    for _ in range(max_draws):
        code = draw()
        if not is_code(code):
            raise ValueError(f"a drawn code must be {CODE_DIGITS} digits, got {code!r}")
        if code not in taken:
            return code
    raise CodesExhausted(f"no free code after {max_draws} draws")


def draw_codes(
    n: int,
    taken: Collection[str],
    draw: Callable[[], str] = random_code,
    *,
    max_draws: int = MAX_DRAWS,
) -> list[str]:
    """``n`` distinct codes, none in ``taken``."""
    used = set(taken)
    codes: list[str] = []
    for _ in range(n):
        code = draw_code(used, draw, max_draws=max_draws)
        used.add(code)
        codes.append(code)
    return codes


def unpicked_outcome(policy: str) -> PickupStatus:
    """What a wave's unpicked policy does to a pickup left past its days."""
    if policy == "refund":
        return PickupStatus.REFUNDED
    if policy == "keep":
        return PickupStatus.KEPT
    raise ValueError(f"unknown unpicked policy {policy!r}")


def last_four(masked_phone: str) -> str:
    """The last four digits of a phone number (all a leader needs at the counter)."""
    digits = [ch for ch in masked_phone if ch.isdigit()]
    return "".join(digits[-4:])


def map_link(latitude: float, longitude: float, label: str) -> str:
    """A ``geo:`` URI (RFC 5870) that phones open in their map app, with a label."""
    lat, lon = f"{latitude:.6f}".rstrip("0").rstrip("."), f"{longitude:.6f}".rstrip("0").rstrip(".")
    return f"geo:{lat},{lon}?q={lat},{lon}({quote(label, safe='')})"


# ---------------------------------------------------------------- delivery tracking


class TrackingStatus(StrEnum):
    """Where a shipment to a pickup point is: 已发货 → 运输中 → 已到达. Only forward; arrival
    is the carrier's (or the supplier's) word, distinct from the leader's receipt."""

    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"


TRACKING_STEPS: tuple[TrackingStatus, ...] = (
    TrackingStatus.SHIPPED,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.ARRIVED,
)
CARRIER_MAX = 64
TRACKING_NO_MAX = 64
TRACKING_NOTE_MAX = 200
MANUAL_CARRIER = "manual"


class TrackingMoveRefused(ValueError):
    """A step that is not forward: ``current`` says where the shipment is."""

    def __init__(self, current: str | None, to: str) -> None:
        super().__init__(f"cannot move a shipment from {current!r} to {to!r}")
        self.current = current
        self.to = to


def tracking_steps_to(current: str | None, to: str) -> tuple[TrackingStatus, ...]:
    """The steps a move from ``current`` to ``to`` records, in order.

    Tracking starts when the goods are shipped (``current`` None: only ``shipped`` is a
    move). A move goes forward only: to the same step or an earlier one is refused. A move
    past a step (shipped → arrived: a van that came the same morning) records the step it
    passed at the same instant, so every shown step has its time and their order holds.
    """
    target = TrackingStatus(to)
    wanted = TRACKING_STEPS.index(target)
    if current is None:
        if target != TrackingStatus.SHIPPED:
            raise TrackingMoveRefused(current, to)
        return (TrackingStatus.SHIPPED,)
    now = TRACKING_STEPS.index(TrackingStatus(current))
    if wanted <= now:
        raise TrackingMoveRefused(current, to)
    return TRACKING_STEPS[now + 1 : wanted + 1]


def tracking_text_problem(carrier: str, tracking_no: str) -> str | None:
    """What is wrong with a carrier and tracking number as typed (None: nothing)."""
    if not carrier.strip():
        return "carrier"
    if len(carrier) > CARRIER_MAX:
        return "carrier"
    if not tracking_no.strip() or len(tracking_no) > TRACKING_NO_MAX:
        return "tracking_no"
    if any(not ch.isprintable() for ch in carrier + tracking_no):
        return "carrier" if any(not ch.isprintable() for ch in carrier) else "tracking_no"
    return None
