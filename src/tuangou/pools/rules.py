"""Pure rules of the community pre-sale wave (社区团购 团期 / 接龙).

A wave item has a base unit price that every member pays when ordering, a minimum total
quantity across the wave (MOQ, 成团门槛), and optional quantity tiers that lower the price as
the total grows; at cut-off the item is confirmed at the tier reached (the difference goes
back to every buyer: price protection) or, below its MOQ, refunded in full.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from tuangou.core import ladder, money

Tier = ladder.Step  # (total quantity reached, unit price in fen)

UNPICKED_POLICIES = ("refund", "keep")
MAX_COMMISSION_BPS = 5000
DEFAULT_COMMISSION_BPS = 1000  # 10% of what the member actually paid
SHARE_TOKEN_BYTES = 16  # 128 random bits: a listing's share link cannot be guessed
SHARE_TOKEN_LENGTH = 22  # base64url of 16 bytes, no padding


class WaveStatus(StrEnum):
    """open → settling → settled (at cut-off), or cancelled before any order."""

    OPEN = "open"
    SETTLING = "settling"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """A wave item at cut-off: confirmed (its MOQ reached) or cancelled."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class LineStatus(StrEnum):
    """One SKU of a wave order: open → confirmed | refunded (its item below MOQ)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REFUNDED = "refunded"


def new_share_token() -> str:
    """The secret of a listing's share link (``secrets.token_urlsafe``: A-Z a-z 0-9 - _)."""
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


def share_path(listing_id: int, token: str) -> str:
    """The wave's share link: whoever holds it may see the wave (an invitee)."""
    return f"/w/{listing_id}?share={token}"


def poster_path(listing_id: int, token: str) -> str:
    """The wave's poster (a PNG of its share link): seen by those who may see the wave."""
    return f"/w/{listing_id}/poster.png?share={token}"


class RuleViolation(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def validate_item(
    *, price: int, tiers: Sequence[Tier], moq: int, stock: int, per_member_limit: int
) -> None:
    if price <= 0:
        raise RuleViolation("price", "the price must be a positive number of fen")
    if moq < 1:
        raise RuleViolation("moq", "the minimum quantity must be at least 1")
    if stock < moq:
        raise RuleViolation("stock", "stock must cover the minimum quantity")
    if per_member_limit < 1:
        raise RuleViolation("per_member_limit", "the per-member limit must be at least 1")
    try:
        ladder.check(tiers, counts="quantities", above=price)
    except ladder.LadderError as e:
        raise RuleViolation("tiers", str(e)) from None


def unit_price_at(price: int, tiers: Sequence[Tier], total: int) -> int:
    """The unit price for a wave total: the cheapest tier reached, else the base price."""
    return ladder.price_at(tiers, total, below=price)


next_tier = ladder.next_step  # the first tier the wave total has not reached yet


@dataclass(frozen=True)
class ItemOutcome:
    confirmed: bool
    final_unit_price: int | None


def settle_item(*, price: int, tiers: Sequence[Tier], moq: int, total: int) -> ItemOutcome:
    """At cut-off: confirmed at the price reached when the total meets the MOQ."""
    if total >= moq and total > 0:
        return ItemOutcome(True, unit_price_at(price, tiers, total))
    return ItemOutcome(False, None)


def protection_refund(charged: int, final: int, quantity: int) -> int:
    if final > charged:
        raise ValueError("a final price never exceeds the price charged")
    return (charged - final) * quantity


def validate_commission(bps: int) -> None:
    if not 0 <= bps <= MAX_COMMISSION_BPS:
        raise RuleViolation("commission_bps", "the commission must be 0 to 50%")


def ordered_pairs(tiers: Sequence[Sequence[int]]) -> list[Tier]:
    """Tiers as (quantity, unit price) pairs, refused unless their quantities strictly grow."""
    pairs = ladder.normalise(tiers)
    try:
        ladder.check_thresholds(pairs, counts="quantities")
    except ladder.LadderError as e:
        raise RuleViolation("tiers", str(e)) from None
    return pairs


# ---------------------------------------------------------------- the 接龙 text for a group chat

CHAIN_TEXT_ITEMS = 20  # items listed one a line; the rest are counted ("…等 3 件")
EVENING_HOUR = 18  # a cut-off from this hour on is "tonight" (今晚)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class ShareItem:
    """One line of a wave's chat text: what it is, its price now, and its cheapest tier."""

    title: str
    price: int  # fen: the unit price a member pays now
    best_tier: Tier | None = None  # (quantity, unit price) of the cheapest tier, if any


def _one_line(text: str) -> str:
    """A name as one line: a title with a line break would break the numbered list."""
    return " ".join(text.split())


def _day(day: date, lang: str) -> str:
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{_MONTHS[day.month - 1]} {day.day}"


def cutoff_phrase(cutoff: datetime, now: datetime, lang: str = "zh") -> str:
    """When a wave closes, as a chat says it: 今晚23:00截单, 明天12:00截单, 12月8日 23:00截单
    (English: order by tonight 23:00 …); 已截单 once past. Both times are local wall-clock
    times of the deployment's zone."""
    if cutoff <= now:
        return "已截单" if lang == "zh" else "closed"
    at = cutoff.strftime("%H:%M")
    days = (cutoff.date() - now.date()).days
    if lang == "zh":
        if days == 0:
            return f"{'今晚' if cutoff.hour >= EVENING_HOUR else '今天'}{at}截单"
        if days == 1:
            return f"{'明晚' if cutoff.hour >= EVENING_HOUR else '明天'}{at}截单"
        return f"{_day(cutoff.date(), lang)} {at}截单"
    if days == 0:
        return f"order by {'tonight' if cutoff.hour >= EVENING_HOUR else 'today'} {at}"
    if days == 1:
        return f"order by tomorrow {at}"
    return f"order by {_day(cutoff.date(), lang)} {at}"


def _delivery(day: date, today: date, lang: str) -> str:
    if day == today + timedelta(days=1):
        return "明日到货" if lang == "zh" else "arrives tomorrow"
    if day == today:
        return "今日到货" if lang == "zh" else "arrives today"
    return f"{_day(day, lang)}到货" if lang == "zh" else f"arrives {_day(day, lang)}"


def _item_line(n: int, item: ShareItem, lang: str) -> str:
    line = f"{n}. {_one_line(item.title)} {money.fmt(item.price)}"
    if item.best_tier is not None and item.best_tier[1] < item.price:
        quantity, price = item.best_tier
        if lang == "zh":
            line += f"（满{quantity}份 {money.fmt(price)}）"
        else:
            line += f" ({money.fmt(price)} at {quantity})"
    return line


def chain_text(
    *,
    community: str,
    title: str,
    cutoff: datetime,
    now: datetime,
    items: Sequence[ShareItem],
    link: str,
    pickup: str = "",
    delivery: date | None = None,
    lang: str = "zh",
) -> str:
    """The copy-ready 接龙 text a leader pastes into the group chat::

        【幸福里邻里团】明日达 · 今晚23:00截单
        1. 烟台红富士 ¥25.90（满50份 ¥23.90）
        2. 土鸡蛋 ¥32.00
        自提：3 栋楼下 · 明日到货
        跟团：https://…/w/5?share=…

    ``cutoff`` and ``now`` are local wall-clock times; ``lang`` is ``zh`` or ``en``. Names
    are put on one line each; beyond :data:`CHAIN_TEXT_ITEMS` items the rest are counted."""
    en = lang == "en"
    head = f"[{_one_line(community)}] " if en else f"【{_one_line(community)}】"
    lines = [f"{head}{_one_line(title)} · {cutoff_phrase(cutoff, now, lang)}"]
    shown = items[:CHAIN_TEXT_ITEMS]
    lines += [_item_line(n, item, lang) for n, item in enumerate(shown, start=1)]
    if len(items) > len(shown):
        more = len(items) - len(shown)
        lines.append(f"… and {more} more" if en else f"…等{more}件")
    where = []
    if pickup.strip():
        where.append(f"Pickup: {_one_line(pickup)}" if en else f"自提：{_one_line(pickup)}")
    if delivery is not None:
        where.append(_delivery(delivery, now.date(), lang))
    if where:
        lines.append(" · ".join(where))
    lines.append(f"Order here: {link}" if en else f"跟团：{link}")
    return "\n".join(lines)
