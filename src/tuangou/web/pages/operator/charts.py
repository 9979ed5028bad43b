"""The dashboard's charts, drawn on the server as inline SVG.

No chart library reaches the browser: a chart is a few kilobytes of markup that shows without
JavaScript, prints, and scales with its card. Day ticks are spaced so their labels never
meet (every day for a week, then every 2nd, 7th or 14th day, counted back from the last one),
and name the day in the page's language ("12月5日", "Dec 5"). Money is in fen, labelled with
thousands separators; every bar and point carries its exact figure as a tooltip (``<title>``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from tuangou.core import money

WIDTH = 600
DAY_HEIGHT = 240
ROW_HEIGHT = 26
FONT = 12
TICK_STEPS = (1, 2, 7, 14, 28)
MAX_DAY_LABELS = 8
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_label(day: date, lang: str) -> str:
    """A day as an axis label: "12月5日" in Chinese, "Dec 5" in English."""
    if lang.startswith("en"):
        return f"{MONTHS_EN[day.month - 1]} {day.day}"
    return f"{day.month}月{day.day}日"


def tick_step(count: int, most: int = MAX_DAY_LABELS) -> int:
    """How many days apart the labelled ticks are: the smallest step of :data:`TICK_STEPS`
    that labels at most ``most`` of ``count`` days."""
    for step in TICK_STEPS:
        if math.ceil(count / step) <= most:
            return step
    return math.ceil(count / most)


def day_ticks(days: Sequence[date], lang: str) -> list[tuple[int, str]]:
    """(index, label) of the labelled days: the last day and every ``step``-th before it."""
    step = tick_step(len(days))
    last = len(days) - 1
    return [(i, day_label(days[i], lang)) for i in range(last, -1, -step)][::-1]


def text_width(text: str, size: int = FONT) -> float:
    """About how wide a label is drawn: a CJK character is a full em, others about 0.6."""
    return sum(size if ord(c) > 0x2E80 else size * 0.6 for c in text)


def clip(text: str, width: float, size: int = FONT) -> str:
    """``text`` cut with an ellipsis to fit ``width``."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_step(span: int, ticks: int = 4, smallest: int = 1) -> int:
    """A round step (1, 2 or 5 × a power of ten, at least ``smallest``) that cuts ``span``
    into about ``ticks`` parts."""
    raw = max(span / ticks, smallest)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(int(factor * power), smallest)
    return max(int(10 * power), smallest)  # pragma: no cover - the loop always returns


def money_tick(fen: int) -> str:
    """An axis label of money: whole yuan with separators ("¥12,000")."""
    return money.fmt(fen)[:-3] if fen % 100 == 0 else money.fmt(fen)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str


def _svg(height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT}">' + "".join(body) + "</svg>"
    )


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _frame(
    days: Sequence[date],
    lang: str,
    low: float,
    high: float,
    y_ticks: list[tuple[float, str]],
    top: int = 12,
) -> tuple[list[str], Callable[[int], float], Callable[[float], float], float]:
    """The axes of a chart over days: grid lines with y labels, the day ticks; with the x of
    a day's centre, the y of a value, and a day's width."""
    labels = day_ticks(days, lang)
    left = 12 + max((text_width(t) for _, t in y_ticks), default=0)
    # The last day's label is centred on the last bar: room for its right half.
    right = max(8.0, text_width(labels[-1][1]) / 2 + 2) if labels else 8.0
    bottom = 24
    plot_w = WIDTH - left - right
    plot_h = DAY_HEIGHT - top - bottom
    slot = plot_w / max(len(days), 1)

    def x(i: int) -> float:
        return left + slot * (i + 0.5)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = ['<g class="grid" stroke="#e6e6e6">']
    for value, _ in y_ticks:
        parts.append(
            f'<line x1="{_num(left)}" x2="{_num(WIDTH - right)}" y1="{_num(y(value))}" '
            f'y2="{_num(y(value))}"/>'
        )
    parts.append("</g>")
    parts.append('<g class="y-ticks" fill="#666" text-anchor="end">')
    for value, text in y_ticks:
        parts.append(f'<text x="{_num(left - 6)}" y="{_num(y(value) + 4)}">{escape(text)}</text>')
    parts.append("</g>")
    base = DAY_HEIGHT - bottom
    parts.append(
        f'<line class="x-axis" x1="{_num(left)}" x2="{_num(WIDTH - right)}" y1="{base}" '
        f'y2="{base}" stroke="#999"/>'
    )
    parts.append('<g class="x-ticks" fill="#666" text-anchor="middle">')
    for i, text in labels:
        parts.append(
            f'<line x1="{_num(x(i))}" x2="{_num(x(i))}" y1="{base}" y2="{base + 4}" '
            f'stroke="#999"/><text data-tick="{days[i].isoformat()}" x="{_num(x(i))}" '
            f'y="{base + 17}">{escape(text)}</text>'
        )
    parts.append("</g>")
    return parts, x, y, slot


def money_bars(
    days: Sequence[date], fen: Sequence[int], *, lang: str, label: str, colour: str
) -> Markup:
    """A bar per day of an amount in fen (below the axis when negative)."""
    return _day_bars(
        days,
        fen,
        lang=lang,
        label=label,
        colour=colour,
        tick=money_tick,
        shown=money.fmt,
        smallest=100,
    )


def count_bars(
    days: Sequence[date], counts: Sequence[int], *, lang: str, label: str, colour: str
) -> Markup:
    """A bar per day of a count (orders, members)."""
    return _day_bars(
        days, counts, lang=lang, label=label, colour=colour, tick=_count, shown=_count, smallest=1
    )


def _count(n: int) -> str:
    return f"{n:,}"


def _day_bars(
    days: Sequence[date],
    values: Sequence[int],
    *,
    lang: str,
    label: str,
    colour: str,
    tick: Callable[[int], str],
    shown: Callable[[int], str],
    smallest: int,
) -> Markup:
    low, high = min(0, *values), max(0, *values)
    step = nice_step(high - low, smallest=smallest)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, step)
    ticks = [(float(v), tick(v)) for v in range(low, high + 1, step)]
    parts, x, y, slot = _frame(days, lang, low, high, ticks)
    width = max(slot * 0.7, 1)
    parts.append(f'<g class="bars" fill="{colour}">')
    for i, amount in enumerate(values):
        if not amount:
            continue
        top, bottom = sorted((y(amount), y(0)))
        parts.append(
            f'<rect x="{_num(x(i) - width / 2)}" y="{_num(top)}" width="{_num(width)}" '
            f'height="{_num(max(bottom - top, 1))}"><title>'
            f"{escape(day_label(days[i], lang))} · {escape(shown(amount))}</title></rect>"
        )
    parts.append("</g>")
    return _svg(DAY_HEIGHT, label, parts)


def percent_lines(
    days: Sequence[date], series: Sequence[Series], *, lang: str, label: str
) -> Markup:
    """Lines of percentages per day (0–100); a day without a figure breaks its line."""
    ticks = [(float(v), f"{v}%") for v in (0, 25, 50, 75, 100)]
    parts, x, y, _ = _frame(days, lang, 0, 100, ticks, top=30)
    legend_x = 12.0
    for s in series:
        parts.append(
            f'<g class="legend"><rect x="{_num(legend_x)}" y="6" width="12" height="12" '
            f'fill="{s.colour}"/><text x="{_num(legend_x + 16)}" y="16">{escape(s.name)}</text></g>'
        )
        legend_x += 16 + text_width(s.name) + 20
    for s in series:
        runs: list[list[tuple[int, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((i, v))
        parts.append(f'<g class="line" stroke="{s.colour}" fill="{s.colour}">')
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in run)
                parts.append(f'<polyline fill="none" stroke-width="2" points="{points}"/>')
            for i, v in run:
                parts.append(
                    f'<circle cx="{_num(x(i))}" cy="{_num(y(v))}" r="3"><title>'
                    f"{escape(s.name)} · {escape(day_label(days[i], lang))} · {_num(v)}%"
                    "</title></circle>"
                )
        parts.append("</g>")
    return _svg(DAY_HEIGHT, label, parts)


def ranked_bars(rows: Sequence[tuple[str, int]], *, label: str, colour: str) -> Markup:
    """Horizontal bars of amounts in fen, largest first, each named and labelled."""
    names = [clip(name, 150) for name, _ in rows]
    left = 12 + max((text_width(n) for n in names), default=0)
    right = 12 + max((text_width(money.fmt(v)) for _, v in rows), default=0)
    most = max((v for _, v in rows), default=0) or 1
    height = max(len(rows), 1) * ROW_HEIGHT + 8
    parts = []
    for n, ((name, amount), shown) in enumerate(zip(rows, names, strict=True)):
        top = 4 + n * ROW_HEIGHT
        width = (WIDTH - left - right) * max(amount, 0) / most
        parts.append(
            f'<g class="row"><text x="{_num(left - 6)}" y="{top + 17}" text-anchor="end" '
            f'fill="#333">{escape(shown)}</text><rect x="{_num(left)}" y="{top + 4}" '
            f'width="{_num(max(width, 1))}" height="{ROW_HEIGHT - 8}" fill="{colour}">'
            f"<title>{escape(name)} · {escape(money.fmt(amount))}</title></rect>"
            f'<text x="{_num(left + width + 6)}" y="{top + 17}" fill="#333">'
            f"{escape(money.fmt(amount))}</text></g>"
        )
    return _svg(height, label, parts)
