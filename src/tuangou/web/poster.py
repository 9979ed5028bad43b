"""Share posters as PNG images, drawn on the server with Pillow.

WeChat saves an image on a long press only when it is a PNG or a JPEG (an SVG is not one it
keeps), so a team's, a wave's and a bargain's poster are drawn here: the product picture, its
name, the price and the ladder or "还差 N 人成团" (a bargain's: the price reached, its floor,
"还差 N 刀" and the deadline, see :func:`bargain`), and the QR code of the share link, on a
canvas of a fixed size (:data:`WIDTH` × :data:`HEIGHT`).

Text is wrapped and ellipsized by its measured width in the font it is drawn with, so no
line runs off the card in either language; :func:`render` reports the box of everything it
drew, and the tests hold them inside the canvas.

Chinese needs a CJK font. :func:`font_choice` finds one at run time, never downloads one:
the ``TUANGOU_POSTER_FONT`` setting (a path), else well-known system paths (Debian's
``fonts-wqy-microhei``, ``fonts-noto-cjk`` …), else ``fc-match :lang=zh-cn``, keeping the
first font that has the glyphs. With none, the poster is still drawn, in a Latin font (Chinese
characters then show as boxes), and a warning is logged once.

A poster is cached by what it shows: :meth:`Poster.etag` is a digest of its fields (and of
the picture file's size and time, and of the font), answered with ``ETag`` so a browser asks
again cheaply, and the last few drawn are kept in memory.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
import subprocess  # nosec B404: fc-match, a fixed command without a shell
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from tuangou.core.config import get_settings
from tuangou.web import qr

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 750, 1200  # 2× a phone's 375 × 600 points
MAX_BYTES = 1_500_000  # a poster is bounded: above this its colours are reduced
MAX_PICTURE_PIXELS = 12_000_000  # a picture larger than this is not opened
VERSION = "3"  # bump when the drawing changes: the ETag changes with it
MEDIA_TYPE = "image/png"

# Well-known places of a CJK font: Debian / Ubuntu packages, then macOS and Windows.
CJK_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
LATIN_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # fonts-dejavu-core
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
_CJK_PROBE = "团购价还差人"
_MISSING = "\U0010fffd"  # a private-use character no font draws: its glyph is "missing"

# Colours.
BACKGROUND = (255, 245, 240)
BAND_TOP, BAND_BOTTOM = (255, 90, 60), (224, 46, 36)
CARD = (255, 255, 255)
PICTURE_BOX = (236, 238, 241)
INK, MUTED, RED, PALE = (31, 35, 40), (91, 100, 112), (224, 46, 36), (255, 227, 220)
FOOTER = (184, 35, 27)
FRAME = 30  # the canvas's outer margin: nothing but the background and the band is drawn in it


# ---------------------------------------------------------------- fonts


@dataclass(frozen=True)
class FontChoice:
    """The font posters are drawn with: ``path`` (None: Pillow's own) and whether it has
    Chinese glyphs."""

    path: str | None
    cjk: bool


def _has_cjk(path: str) -> bool:
    """The font at ``path`` opens and draws Chinese (its glyphs differ from a missing one's)."""
    try:
        font = ImageFont.truetype(path, 32)
    except OSError:
        return False

    def glyph(ch: str) -> bytes:
        tile = Image.new("L", (48, 48))
        ImageDraw.Draw(tile).text((8, 4), ch, font=font, fill=255)
        return tile.tobytes()

    missing = glyph(_MISSING)
    return all(glyph(ch) != missing for ch in _CJK_PROBE)


def _fc_match() -> str | None:
    """fontconfig's choice for Chinese, if fontconfig is installed."""
    command = shutil.which("fc-match")
    if command is None:
        return None
    try:
        done = subprocess.run(  # nosec B603: fixed arguments, no shell
            [command, "-f", "%{file}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _candidates(setting: str) -> Iterator[str | None]:
    yield setting or None
    yield from CJK_FONT_PATHS
    yield _fc_match()  # asked last: it starts a process


@lru_cache(maxsize=4)
def font_choice(setting: str = "") -> FontChoice:
    """The first CJK font of: the setting, the well-known paths, fontconfig's match; else a
    Latin font (logged once per setting, since the result is kept)."""
    for path in _candidates(setting):
        if path and Path(path).is_file() and _has_cjk(path):
            return FontChoice(path, cjk=True)
    if setting:
        log.warning("TUANGOU_POSTER_FONT=%s is not a font with Chinese glyphs", setting)
    log.warning(
        "no CJK font found (set TUANGOU_POSTER_FONT or install fonts-wqy-microhei or "
        "fonts-noto-cjk): share posters are drawn in a Latin font, Chinese shows as boxes"
    )
    latin = next((p for p in LATIN_FONT_PATHS if Path(p).is_file()), None)
    return FontChoice(latin, cjk=False)


def current_font() -> FontChoice:
    return font_choice(get_settings().poster_font)


@lru_cache(maxsize=32)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


# ---------------------------------------------------------------- measured text


_TOKEN = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    r"\uff00-\uffef]|[^\s\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uf900-\ufaff\uff00-\uffef]+\s*|\s+"
)
ELLIPSIS = "…"


def _tokens(text: str) -> list[str]:
    """Break points: each CJK character alone, a Latin word with the spaces after it."""
    return _TOKEN.findall(" ".join(text.split()))


def ellipsize(text: str, width: float, measure: Callable[[str], float]) -> str:
    """``text`` if it fits in ``width``, else its longest start that fits with "…"."""
    if measure(text) <= width:
        return text
    cut = len(text)
    while cut > 0 and measure(text[:cut].rstrip() + ELLIPSIS) > width:
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS


def wrap(text: str, width: float, measure: Callable[[str], float], max_lines: int) -> list[str]:
    """``text`` in lines of at most ``width`` (measured), broken between words and between
    CJK characters (a word longer than a line is broken inside); beyond ``max_lines`` the
    last line kept ends in "…"."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        if measure((current + token).rstrip()) <= width:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = token.lstrip()
        while current and measure(current.rstrip()) > width:  # a word wider than the line
            cut = len(current) - 1
            while cut > 1 and measure(current[:cut]) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], ellipsize(rest + ELLIPSIS, width, measure)]
    return lines


def wrap_units(
    units: Sequence[str], width: float, measure: Callable[[str], float], max_lines: int
) -> list[str]:
    """Units (a ladder's steps) joined by " · ", a line broken only between units; a unit
    wider than a line is ellipsized, and beyond ``max_lines`` the last line ends in "…"."""
    lines: list[str] = []
    for unit in units:
        unit = ellipsize(" ".join(unit.split()), width, measure)
        if lines and measure(f"{lines[-1]} · {unit}") <= width:
            lines[-1] = f"{lines[-1]} · {unit}"
        else:
            lines.append(unit)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], ellipsize(lines[max_lines - 1] + " · …", width, measure)]
    return lines


# ---------------------------------------------------------------- what a poster shows


@dataclass(frozen=True)
class Poster:
    """Everything a poster shows, already in the viewer's language.

    A team's: ``price`` large with ``was`` struck through, ``ladder`` under it. A wave's:
    ``rows`` (one line per item) under a ``price`` that starts from. ``picture`` is a file
    under the static folder (a raster image; an SVG's PNG sibling is used if there is one)."""

    lang: str
    headline: str  # in the band: "李*姨 invites you to a team buy", "【幸福里邻里团】明日达"
    subline: str  # under it: "还差 2 人成团 · 3人团", "今晚23:00截单 · 明日到货"
    title: str  # the product's name (two lines at most)
    price_label: str  # "拼团价"
    price: str  # "¥19.90"
    link: str  # the share link, drawn as its QR code and written at the foot
    scan: str  # under the QR code: "扫码参团"
    was: str = ""  # "单买价 ¥25.90", struck through
    floor: str = ""  # a bargain's floor under its price: "底价 ¥10.00"
    ladder: tuple[str, ...] = ()  # the steps: "2人 ¥19.90", "3人 ¥17.90"
    rows: tuple[str, ...] = ()  # a wave's items, one a line
    picture: str = ""  # the picture's path under the static folder
    picture_stamp: str = ""  # the file's size and time: a new picture, a new ETag

    def etag(self, font: FontChoice) -> str:
        digest = hashlib.sha256(repr((VERSION, self, font)).encode()).hexdigest()
        return f'"{digest[:32]}"'


def picture_file(static_dir: Path, url: str) -> Path | None:
    """The raster file of a picture address under ``/static/`` (an SVG: its ``.png`` sibling,
    since Pillow draws no SVG); None for anything else (a picture elsewhere is never fetched)."""
    if not url.startswith("/static/"):
        return None
    root = static_dir.resolve()
    path = (static_dir / url.removeprefix("/static/").split("?")[0]).resolve()
    if path.suffix.lower() == ".svg":
        path = path.with_suffix(".png")
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def stamp(path: Path | None) -> str:
    if path is None:
        return ""
    info = path.stat()
    return f"{info.st_size}:{info.st_mtime_ns}"


def bargain(
    *,
    lang: str,
    headline: str,
    cuts: str,
    deadline: str,
    title: str,
    price_label: str,
    price: str,
    was: str,
    floor: str,
    scan: str,
    link: str,
    picture: str = "",
    picture_stamp: str = "",
) -> Poster:
    """A bargain's poster (砍价), its words already in the viewer's language: in the band who
    asks for a cut, then "还差 N 刀" and the deadline (a picture cannot count down, so the
    time it ends); on the card the price reached, large, the start price struck through and
    the floor under it, beside the QR code of the share link."""
    return Poster(
        lang=lang,
        headline=headline,
        subline=f"{cuts} · {deadline}",
        title=title,
        price_label=price_label,
        price=price,
        was=was,
        floor=floor,
        scan=scan,
        link=link,
        picture=picture,
        picture_stamp=picture_stamp,
    )


# ---------------------------------------------------------------- drawing


@dataclass
class Rendered:
    png: bytes
    boxes: list[tuple[str, tuple[int, int, int, int]]]  # (what, (left, top, right, bottom))


class _Canvas:
    def __init__(self, font: FontChoice) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.font = font
        self.boxes: list[tuple[str, tuple[int, int, int, int]]] = []

    def face(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return _font(self.font.path, size)

    def measure(self, size: int, bold: bool = False) -> Callable[[str], float]:
        face, extra = self.face(size), (2 if bold else 0)
        return lambda text: self.draw.textlength(text, font=face) + extra

    def text(
        self,
        what: str,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: tuple[int, int, int],
        *,
        bold: bool = False,
        anchor: str = "la",
    ) -> tuple[int, int, int, int]:
        face = self.face(size)
        stroke = 1 if bold else 0
        self.draw.text(
            xy, text, font=face, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill
        )
        box = self.draw.textbbox(xy, text, font=face, anchor=anchor, stroke_width=stroke)
        self.boxes.append((what, (int(box[0]), int(box[1]), int(box[2]), int(box[3]))))
        return self.boxes[-1][1]

    def lines(
        self,
        what: str,
        x: int,
        y: int,
        lines: Sequence[str],
        size: int,
        fill: tuple[int, int, int],
        *,
        bold: bool = False,
        leading: float = 1.3,
    ) -> int:
        """Draw ``lines`` from ``y`` down; returns the y under the last."""
        step = round(size * leading)
        for n, line in enumerate(lines):
            self.text(what, (x, y + n * step), line, size, fill, bold=bold)
        return y + step * len(lines)


def _band(canvas: _Canvas, height: int) -> None:
    """The red band at the top: a gradient down, the same colour across each row."""
    for y in range(height):
        t = y / max(1, height - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(BAND_TOP, BAND_BOTTOM, strict=True))
        canvas.draw.line([(0, y), (WIDTH, y)], fill=colour)


def _picture(
    canvas: _Canvas, file: Path | None, box: tuple[int, int, int, int], initial: str
) -> None:
    left, top, right, bottom = box
    size = (right - left, bottom - top)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), 28, fill=255)
    tile: Image.Image | None = None
    if file is not None:
        try:
            with Image.open(file) as opened:
                if opened.width * opened.height <= MAX_PICTURE_PIXELS:
                    tile = ImageOps.fit(opened.convert("RGB"), size, Image.Resampling.LANCZOS)
        except OSError:
            tile = None
    if tile is None:  # no picture: a plain panel with the name's first character
        tile = Image.new("RGB", size, PICTURE_BOX)
        if initial:
            face = canvas.face(min(size) // 3)
            ImageDraw.Draw(tile).text(
                (size[0] / 2, size[1] / 2), initial, font=face, fill=MUTED, anchor="mm"
            )
    canvas.image.paste(tile, (left, top), mask)


def _qr(canvas: _Canvas, link: str, left: int, top: int, size: int) -> None:
    rows = qr.modules(link)
    scale = max(1, size // len(rows))
    drawn = scale * len(rows)
    canvas.draw.rounded_rectangle(
        (left - 10, top - 10, left + size + 10, top + size + 10),
        12,
        fill=CARD,
        outline=(227, 229, 232),
        width=2,
    )
    offset = (size - drawn) // 2
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                x0, y0 = left + offset + x * scale, top + offset + y * scale
                canvas.draw.rectangle((x0, y0, x0 + scale - 1, y0 + scale - 1), fill=INK)
    canvas.boxes.append(("qr", (left - 10, top - 10, left + size + 10, top + size + 10)))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    if out.tell() > MAX_BYTES:  # a busy photograph: fewer colours keep it small
        out = io.BytesIO()
        image.quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(out, "PNG", optimize=True)
    return out.getvalue()


def render(poster: Poster, font: FontChoice, static_dir: Path) -> Rendered:
    """Draw ``poster`` (see the module's note for the layout)."""
    c = _Canvas(font)
    inner = WIDTH - 2 * FRAME
    _band(c, 300)
    head = ellipsize(poster.headline, inner, c.measure(36, bold=True))
    c.text("headline", (WIDTH / 2, 44), head, 36, CARD, bold=True, anchor="ma")
    sub = ellipsize(poster.subline, inner, c.measure(28))
    c.text("subline", (WIDTH / 2, 96), sub, 28, PALE, anchor="ma")
    card_bottom = HEIGHT - 84
    c.draw.rounded_rectangle((60, 150, WIDTH - 60, card_bottom), 36, fill=CARD)

    x0, x1 = 95, WIDTH - 95  # the card's text column
    picture_height = 560 if not poster.rows else 400
    initial = (poster.rows[0].partition(". ")[2] if poster.rows else poster.title).strip()[:1]
    _picture(
        c, picture_file(static_dir, poster.picture), (75, 165, 675, 165 + picture_height), initial
    )

    y = 165 + picture_height + 26
    title = wrap(poster.title, x1 - x0, c.measure(38, bold=True), 2)
    y = c.lines("title", x0, y, title, 38, INK, bold=True, leading=1.3) + 12

    # The QR code on the right; the price and the ladder (or a wave's items) on its left.
    qr_size, qr_left = 160, x1 - 160
    qr_top = y + 6
    _qr(c, poster.link, qr_left, qr_top, qr_size)
    c.text(
        "scan", (qr_left + qr_size / 2, qr_top + qr_size + 22), poster.scan, 24, MUTED, anchor="ma"
    )
    column = qr_left - 30 - x0
    bottom = card_bottom - 24  # the card's foot, less its padding

    label = ellipsize(poster.price_label, column, c.measure(28, bold=True))
    c.text("price_label", (x0, y), label, 28, RED, bold=True)
    y += 40
    price_size = 72 if not poster.rows else 56
    while price_size > 36 and c.measure(price_size, bold=True)(poster.price) > column:
        price_size -= 4
    price = ellipsize(poster.price, column, c.measure(price_size, bold=True))
    c.text("price", (x0, y), price, price_size, RED, bold=True)
    y += round(price_size * 1.2)
    if poster.was:
        was = ellipsize(poster.was, column, c.measure(26))
        box = c.text("was", (x0, y), was, 26, MUTED)
        middle = (box[1] + box[3]) // 2
        c.draw.line([(box[0], middle), (box[2], middle)], fill=MUTED, width=2)
        y += 40
    if poster.floor:
        floor = ellipsize(poster.floor, column, c.measure(28, bold=True))
        c.text("floor", (x0, y), floor, 28, RED, bold=True)
        y += 42
    size, step = 24, round(24 * 1.3)
    if poster.ladder:
        room = max(1, (bottom - y) // step)
        steps = wrap_units(poster.ladder, column, c.measure(size), room)
        y = c.lines("ladder", x0, y, steps, size, MUTED)
    if poster.rows:  # a wave's items: under the QR code, across the card
        y = max(y, qr_top + qr_size + 60)
        room = max(1, (bottom - y) // step)
        shown = list(poster.rows[:room])
        if len(poster.rows) > room:
            shown[-1] = ELLIPSIS
        fitted = [ellipsize(row, x1 - x0, c.measure(size)) for row in shown]
        y = c.lines("rows", x0, y, fitted, size, INK)

    # The link at the foot, in the frame's colour band under the card: shrunk to fit, then cut.
    size = 22
    while size > 14 and c.measure(size)(poster.link) > inner:
        size -= 2
    foot = ellipsize(poster.link, inner, c.measure(size))
    c.text("link", (WIDTH / 2, card_bottom + 18), foot, size, FOOTER, anchor="ma")
    return Rendered(_png(c.image), c.boxes)


@lru_cache(maxsize=16)
def _drawn(poster: Poster, font: FontChoice, static_dir: Path) -> bytes:
    return render(poster, font, static_dir).png


def png(poster: Poster, static_dir: Path) -> bytes:
    """The poster's PNG bytes (the last few drawn are kept)."""
    return _drawn(poster, current_font(), static_dir)
