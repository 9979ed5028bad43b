"""What a photo must be, and how it is cleaned: pure functions over bytes (Pillow, no database).

* The type comes from the bytes (their signature, then Pillow's decoder), never from a file
  name or a declared content type: a script named ``cat.jpg`` is refused.
* A photo is at most :data:`MAX_BYTES` and :data:`MAX_PIXELS` (a decompression bomb is a
  small file that decodes to gigabytes).
* :func:`clean` decodes the image, turns it upright by its EXIF orientation, and encodes new
  files from the pixels alone: no EXIF (GPS, camera, time), no XMP, no ICC, no comments. A
  display size (longest edge :data:`DISPLAY_EDGE`) and a thumbnail (:data:`THUMB_EDGE`) are
  made; an image with transparency stays PNG, every other becomes JPEG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
DISPLAY_EDGE = 1280
THUMB_EDGE = 320
JPEG_QUALITY = 85
# What the bytes may be, by Pillow's format name, and the content type each is stored as.
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png"}


class PhotoRuleViolation(ValueError):
    """Why the bytes are not an acceptable photo (a sentence for the member)."""


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, by their signature, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class Rendition:
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Cleaned:
    display: Rendition
    thumb: Rendition
    source_type: str  # what the upload was (image/jpeg, image/png, image/webp)


def _open(data: bytes) -> Image.Image:
    if not data:
        raise PhotoRuleViolation("the photo is empty")
    if len(data) > MAX_BYTES:
        raise PhotoRuleViolation(f"a photo may be at most {MAX_BYTES // (1024 * 1024)} MB")
    if sniff(data) is None:
        raise PhotoRuleViolation("the file is not a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED:
                raise PhotoRuleViolation("the file is not a JPEG, PNG or WebP image")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRuleViolation("the photo has too many pixels (at most 40 megapixels)")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRuleViolation("the file is not a readable image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, PhotoRuleViolation):
            raise
        raise PhotoRuleViolation("the file is not a readable image") from None
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _encode(image: Image.Image, edge: int, alpha: bool) -> Rendition:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    copy.info = {}  # nothing of the upload's metadata is carried over
    out = io.BytesIO()
    if alpha:
        copy.convert("RGBA").save(out, format="PNG", optimize=True)
        kind = "image/png"
    else:
        copy.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        kind = "image/jpeg"
    return Rendition(out.getvalue(), kind, copy.width, copy.height)


def clean(data: bytes) -> Cleaned:
    """The photo upright, without metadata, at display size and as a thumbnail."""
    image = _open(data)
    source = ACCEPTED[str(image.format)]
    upright = ImageOps.exif_transpose(image)
    alpha = _has_alpha(upright)
    return Cleaned(
        display=_encode(upright, DISPLAY_EDGE, alpha),
        thumb=_encode(upright, THUMB_EDGE, alpha),
        source_type=source,
    )


def check_count(n: int, max_count: int) -> None:
    if n > max_count:
        raise PhotoRuleViolation(f"attach at most {max_count} photos")
