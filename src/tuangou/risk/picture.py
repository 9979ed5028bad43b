"""The graph around a case as a picture: a server-rendered SVG (no script, no CDN).

Members are circles (red when the case names them), devices, phone numbers and payout
accounts squares, bargains and other targets diamonds; a help or an invite is an arrow, a
shared identifier a line. The layout is networkx's spring layout with a fixed seed, so the
same case draws the same picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import networkx as nx

from tuangou.accounts import service as accounts

SIZE = 560
PAD = 36
MAX_EDGES = 300
COLOURS = {"help": "#d9480f", "invite": "#1971c2", "acts-on": "#9c36b5"}


def _label(node: str, names: dict[int, str]) -> str:
    kind, _, ident = node.partition(":")
    if kind == "m":
        return f"#{ident} {names.get(int(ident), '')}".strip()
    if kind == "p":
        return accounts.mask_phone(ident)
    if kind in ("d", "y"):
        return ident[:4] + "…" + ident[-3:] if len(ident) > 8 else ident
    return ident


def svg(
    edges: Sequence[tuple[str, str, str]],
    names: dict[int, str],
    named: set[int],
    *,
    title: str = "",
    kinds: dict[str, str] | None = None,
) -> str:
    """The picture; ``kinds`` names the kinds of edge in the reader's language."""
    g = nx.DiGraph()
    for a, b, kind in list(edges)[:MAX_EDGES]:
        g.add_edge(a, b, kind=kind)
    if not g:
        g.add_nodes_from(f"m:{m}" for m in sorted(named))
    pos = nx.spring_layout(g, seed=7) if len(g) > 1 else {n: (0.0, 0.0) for n in g}
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def at(node: str) -> tuple[float, float]:
        x, y = pos[node]
        return (
            PAD + (x - min(xs)) / span_x * (SIZE - 2 * PAD),
            PAD + (y - min(ys)) / span_y * (SIZE - 2 * PAD),
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="risk-graph">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="14" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/>'
        "</marker></defs>",
    ]
    for a, b, data in g.edges(data=True):
        (x1, y1), (x2, y2) = at(a), at(b)
        kind = data.get("kind", "")
        colour = COLOURS.get(kind, "#adb5bd")
        arrow = ' marker-end="url(#arrow)"' if kind in COLOURS else ""
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}" stroke-opacity="0.6" stroke-width="1.2"{arrow}>'
            f"<title>{escape((kinds or {}).get(kind, kind))}</title></line>"
        )
    for node in g.nodes:
        x, y = at(node)
        label = escape(_label(node, names))
        kind = node.split(":", 1)[0]
        if kind == "m":
            member = int(node[2:])
            fill = "#e03131" if member in named else "#74c0fc"
            shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{fill}"/>'
        elif kind == "t":
            shape = (
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#be4bdb" '
                f'transform="rotate(45 {x:.1f} {y:.1f})"/>'
            )
        else:
            square = f'x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12"'
            shape = f'<rect {square} fill="#495057"/>'
        text = f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="10" fill="#212529">'
        out.append(f"<g>{shape}<title>{label}</title>{text}{label}</text></g>")
    out.append("</svg>")
    return "".join(out)
