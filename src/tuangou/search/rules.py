"""Search text, pure: the terms a text is indexed under and a query looks for.

Chinese has no spaces, so a text is cut into character n-grams: every Han character and
every pair of neighbouring ones (红富士苹果: 红 富 士 苹 果 红富 富士 士苹 苹果). A query's
Han runs become their pairs (a run of one, the character), so 苹果 finds 红富士苹果 and
富士苹果 finds it too, while 果苹 does not. Latin letters and digits are words, lower-cased.
A text matches when it holds every term of the query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY = 50  # characters of a query
TERM_MAX = 32  # characters of one stored term (a longer word is cut)
MAX_QUERY_TERMS = 24

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[0-9a-z]+")
_IS_HAN = re.compile(rf"[{_HAN}]")


def normalise(text: str) -> str:
    """Full-width forms folded (ＡＢＣ１ → abc1), lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _runs(text: str) -> list[str]:
    return _RUN.findall(normalise(text))


def index_terms(text: str) -> set[str]:
    """Every term a text is found under."""
    terms: set[str] = set()
    for run in _runs(text):
        if _IS_HAN.match(run):
            terms.update(run)
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.add(run[:TERM_MAX])
    return terms


def query_terms(query: str) -> list[str]:
    """The terms a query looks for, in order, each once (empty: nothing to look for)."""
    found: list[str] = []
    for run in _runs(query):
        if _IS_HAN.match(run):
            parts = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            parts = [run[:TERM_MAX]]
        for part in parts:
            if part not in found:
                found.append(part)
    return found[:MAX_QUERY_TERMS]


def words(query: str) -> list[str]:
    """The query's words as typed (Han runs and Latin words): what a result shows as matched."""
    return list(dict.fromkeys(_runs(query)))


@dataclass(frozen=True)
class Piece:
    text: str
    hit: bool


def _fold(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).lower()
    return folded if len(folded) == 1 else ch.lower()[:1] or ch


def highlight(text: str, query: str) -> list[Piece]:
    """``text`` cut into pieces, those where a word of the query appears marked."""
    if not text:
        return []
    folded = "".join(_fold(ch) for ch in text)
    marks = [False] * len(text)
    for word in words(query):
        start = folded.find(word)
        while start >= 0:
            for i in range(start, start + len(word)):
                marks[i] = True
            start = folded.find(word, start + 1)
    pieces: list[Piece] = []
    for ch, hit in zip(text, marks, strict=True):
        if pieces and pieces[-1].hit == hit:
            pieces[-1] = Piece(pieces[-1].text + ch, hit)
        else:
            pieces.append(Piece(ch, hit))
    return pieces


def matches(text: str, query: str) -> bool:
    """Whether ``text`` alone holds every term of the query."""
    wanted = query_terms(query)
    return bool(wanted) and set(wanted) <= index_terms(text)
