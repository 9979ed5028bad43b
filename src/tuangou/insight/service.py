"""Demand insight (需求洞察): the goods a community asks for, week by week.

Nothing is stored: a week's posts, replies and proposals are read through their domains'
services and mined by :mod:`tuangou.insight.rules` (each text's analysis is cached in the
process, so a page view re-reads rows but not jieba). Each wish carries its evidence (the
texts, as links) and the catalogue goods that would answer it, so the leader can start a
wave of one of them, or a proposal for the community to vote on.

Its community's leader and operators see it; its members get 403, anyone else 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tuangou.cocreate import service as cocreate
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.insight import errors, rules
from tuangou.pools import service as pools
from tuangou.posts import service as posts

SKU_MATCHES = 3
EXCERPT_CHARS = 60


@dataclass(frozen=True)
class Evidence:
    kind: str  # post | reply | proposal
    id: int
    post_id: int | None
    proposal_id: int | None
    excerpt: str
    asked: bool  # the text asks for it (想买 …), not only mentions it
    created_at: datetime


@dataclass(frozen=True)
class GoodsMatch:
    sku_id: int
    title: str
    supplier: str
    price: int


@dataclass(frozen=True)
class WishView:
    phrase: str
    score: int
    askers: int  # members who asked (a proposal's voters included)
    mentions: int  # texts that name it
    evidence: list[Evidence]
    goods: list[GoodsMatch]


@dataclass(frozen=True)
class Insight:
    community_id: int
    community_name: str
    week: str
    starts: date
    texts_read: int
    wishes: list[WishView]
    previous_week: str
    next_week: str | None  # None: the week is the current one


def _excerpt(text: str, phrase: str) -> str:
    at = max(text.find(phrase), 0)
    start = max(at - EXCERPT_CHARS // 3, 0)
    piece = text[start : start + EXCERPT_CHARS]
    return ("…" if start else "") + piece + ("…" if start + EXCERPT_CHARS < len(text) else "")


def _week(week: str | None) -> date:
    this_week = rules.week_start(clock.local_date(clock.now()))
    if not week:
        return this_week
    try:
        monday = rules.parse_week(week)
    except rules.BadWeek as exc:
        raise errors.InvalidWeek(f"not a week: {week!r}", field="week") from exc
    if monday > this_week:
        raise errors.InvalidWeek("that week has not begun", field="week")
    return monday


def community_insight(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    week: str | None = None,
    operator: bool = False,
) -> Insight:
    """The community's wishes in one week (this week by default), best first."""
    if operator:
        community = communities.get_community(session, community_id)
    else:
        community = communities.require_community_leader(session, user_id, community_id)
    monday = _week(week)
    start = clock.local_midnight(monday)
    end = clock.local_midnight(monday + timedelta(days=7))
    said = posts.texts_between(session, community_id, start, end)
    asked = cocreate.proposals_between(session, community_id, start, end)
    texts = [rules.Text(f"{t.kind}:{t.id}", t.author_id, t.text) for t in said]
    texts += [
        rules.Text(
            f"proposal:{p.id}",
            p.author_id,
            f"{p.title} {p.description}",
            backers=p.votes,
            explicit=True,
        )
        for p in asked
    ]
    sources: dict[str, tuple[str, int, int | None, int | None, str, datetime]] = {
        f"{t.kind}:{t.id}": (t.kind, t.id, t.post_id, None, t.text, t.created_at) for t in said
    }
    for p in asked:
        body = f"{p.title} {p.description}".strip()
        sources[f"proposal:{p.id}"] = ("proposal", p.id, None, p.id, body, p.created_at)
    catalogue = [(sku, rules.goods_words(sku.title)) for sku in pools.sku_choices(session)]

    def goods_for(phrase: str) -> list[GoodsMatch]:
        found = [
            GoodsMatch(sku.sku_id, sku.title, sku.supplier, sku.price)
            for sku, words in catalogue
            if sku.available > 0 and rules.matches(phrase, words, sku.title)
        ]
        return found[:SKU_MATCHES]

    wishes = []
    for wish in rules.rank(texts):
        evidence = []
        for ref, was_asked in wish.evidence:
            kind, ident, post_id, proposal_id, body, created = sources[ref]
            evidence.append(
                Evidence(
                    kind,
                    ident,
                    post_id,
                    proposal_id,
                    _excerpt(body, wish.phrase),
                    was_asked,
                    created,
                )
            )
        wishes.append(
            WishView(
                wish.phrase,
                wish.score,
                wish.asked,
                len(wish.mentions),
                evidence,
                goods_for(wish.phrase),
            )
        )
    this_week = rules.week_start(clock.local_date(clock.now()))
    return Insight(
        community_id=community.id,
        community_name=community.name,
        week=rules.week_label(monday),
        starts=monday,
        texts_read=len(texts),
        wishes=wishes,
        previous_week=rules.week_label(monday - timedelta(days=7)),
        next_week=rules.week_label(monday + timedelta(days=7)) if monday < this_week else None,
    )
