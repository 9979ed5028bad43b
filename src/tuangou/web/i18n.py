"""Translations: English message ids, translated to Chinese (the default language).

Catalogs are the ``.po`` files under ``locale/<lang>/LC_MESSAGES/`` (one per area of the app,
merged at load). They are compiled in memory when first used, so no build step is needed and
the translation a page shows is always the one in the repository.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh-CN"
LANGUAGES = {"zh-CN": "中文", "en": "English"}
_CATALOG_DIR = {"zh-CN": "zh_CN"}


def pick(value: str | None) -> str:
    """A supported language from a cookie, query value or Accept-Language header."""
    if not value:
        return DEFAULT
    for part in value.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def po_files(lang: str) -> list[Path]:
    directory = _CATALOG_DIR.get(lang)
    if directory is None:
        return []
    return sorted((LOCALE_DIR / directory / "LC_MESSAGES").glob("*.po"))


@cache
def translations(lang: str) -> NullTranslations:
    """The merged catalog of ``lang`` (English is the message ids themselves)."""
    merged: NullTranslations = NullTranslations()
    for path in po_files(lang):
        with path.open("rb") as f:
            catalog = read_po(f, locale=_CATALOG_DIR[lang])
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        part = Translations(buffer)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def lazy(message: str) -> str:
    """Marks a message for extraction where it is defined; translate it where it is shown."""
    return message


# ---------------------------------------------------------------- checking the catalogs

PYTHON_KEYWORDS = {"_": None, "gettext": (2,), "lazy": None, "add": (3,), "translate": (2,)}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> list[tuple[str, int, str]]:
    """Every message the pages can show: (file, line, message id), from templates and code."""
    from babel.messages.extract import extract_from_dir

    here = str(Path(__file__).parent)
    found: list[tuple[str, int, str]] = []
    passes = (
        ("templates/**.html", "jinja2", TEMPLATE_KEYWORDS),
        ("templates/**.svg", "jinja2", TEMPLATE_KEYWORDS),
        ("**.py", "python", PYTHON_KEYWORDS),
    )
    for pattern, method, keywords in passes:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            here,
            method_map=[(pattern, method)],
            options_map={pattern: {"extensions": "jinja2.ext.i18n"}} if method == "jinja2" else {},
            keywords=keywords,
        ):
            ids = message if isinstance(message, tuple) else (message,)
            found.extend((filename, lineno, m) for m in ids if m)
    return found


def untranslated(lang: str = "zh-CN", messages: list[str] | None = None) -> list[str]:
    """Message ids with no translation in ``lang``'s catalogs."""
    catalog = translations(lang)
    wanted = messages if messages is not None else [m for _, _, m in extract()]
    return sorted({m for m in wanted if catalog.gettext(m) == m})
