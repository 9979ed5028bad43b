"""Moderation's pure rules: statuses, actions, report reasons, mute periods, and the text
filter's normalisation and word-list matching (no database)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum


class CaseStatus(StrEnum):
    """What moderation knows of a target (one record per target)."""

    REPORTED = "reported"  # reported, below the threshold: visible, awaiting a decision
    HIDDEN_PENDING_REVIEW = "hidden_pending_review"  # hidden by the reports' threshold
    HELD = "held"  # the text filter held it: unpublished, awaiting a decision
    HIDDEN = "hidden"  # a moderator hid it
    VISIBLE = "visible"  # a moderator restored or approved it


AWAITING = (CaseStatus.REPORTED, CaseStatus.HIDDEN_PENDING_REVIEW, CaseStatus.HELD)


class Action(StrEnum):
    AUTO_HIDE = "auto_hide"  # the report threshold was reached
    HIDE = "hide"
    RESTORE = "restore"
    APPROVE = "approve"  # held content published
    MUTE = "mute"
    UNMUTE = "unmute"


ACTIONS = tuple(Action)


class ReportReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    FRAUD = "fraud"
    OTHER = "other"


REASONS = tuple(ReportReason)

# How long a moderator may mute an author for.
MUTE_PERIODS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}

REASON_MAX = 200  # a moderator's reason
NOTE_MAX = 500  # a reporter's own words
EXCERPT_MAX = 120


def normalise(text: str) -> str:
    """The text as the filter compares it: NFKC (full-width letters and digits become their
    plain forms), lower case, and without spaces, punctuation, symbols and control characters,
    so that "微 信", "微-信" and "ＷＥＩ　ＸＩＮ" match "微信" and "weixin"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZSC")


def parse_word_list(lines: Iterable[str]) -> list[str]:
    """The terms of a word-list file: one a line, ``#`` starts a comment, blank lines
    skipped; each term is kept as written (for the moderator to read) and de-duplicated by
    its normalised form."""
    seen: dict[str, str] = {}
    for line in lines:
        term = line.split("#", 1)[0].strip()
        key = normalise(term)
        if key and key not in seen:
            seen[key] = term
    return list(seen.values())


def match_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms found in ``text``, compared normalised, in the list's order."""
    body = normalise(text)
    if not body:
        return []
    return [term for term in terms if (key := normalise(term)) and key in body]


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_MAX else text[: EXCERPT_MAX - 1] + "…"
