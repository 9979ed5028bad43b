"""QR codes as inline SVG (no image request, crisp at any size)."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def svg(data: str, *, scale: int = 4, title: str = "") -> Markup:
    """An ``<svg>`` element of ``data``'s QR code, labelled for screen readers."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer,
        kind="svg",
        scale=scale,
        border=2,
        xmldecl=False,
        svgns=True,
        title=title or data,
        svgclass="qr",
        lineclass=None,
        omitsize=False,
    )
    text = buffer.getvalue().decode()
    # segno's own SVG: it escapes the title, and the data is drawn, never written out
    return Markup(text.replace("<svg ", '<svg role="img" ', 1))  # nosec B704


def modules(data: str) -> list[list[bool]]:
    """The dark (True) and light modules of ``data``'s QR code, row by row, with the same
    error correction and a border of two modules as :func:`svg` (for drawing it in a PNG)."""
    code = segno.make(data, error="m")
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=2)]
