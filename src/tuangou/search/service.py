"""Search over what a caller may buy: live team-buy campaigns (anyone) and the open waves of
the caller's communities (never another community's), by words and by category.

The index (``search_entries``, ``search_terms``) holds each live campaign's and open wave's
text cut into terms (:mod:`tuangou.search.rules`); the worker keeps it (:func:`refresh`).
Who sees what is decided at query time, from the same reads the home page makes: the index
only says which of those hold the words. A campaign or wave not indexed yet is matched on its
text directly, so what was just published is found at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.errors import DomainError
from tuangou.pools import service as pools
from tuangou.search import rules
from tuangou.search.errors import SearchErrorCode
from tuangou.search.models import SearchEntry, SearchTerm
from tuangou.teams import service as teams

CAMPAIGN = "campaign"
WAVE = "wave"
RECHECK_SECONDS = 300.0  # how often the worker compares every live text with its entry
MAX_WAVES = 500  # open waves the worker looks at per round


class QueryTooLong(DomainError):
    code = SearchErrorCode.QUERY_TOO_LONG
    status = 422
    title = "The search is too long"


@dataclass
class Match:
    """Where the words were found: the field's name and its text in marked pieces."""

    field: str  # title | product | description | item
    pieces: list[rules.Piece]


@dataclass
class Hit:
    kind: str  # campaign | wave
    id: int  # the campaign's id, or the wave listing's id
    title: str
    url: str
    image_url: str
    price: int | None  # the group price (campaign) or the lowest item price (wave), fen
    category_ids: list[int]
    community: str | None = None
    cutoff_at: Any = None
    matched: list[Match] = field(default_factory=list)


@dataclass
class _Doc:
    kind: str
    ref_id: int
    hit: Hit
    fields: list[tuple[str, str]]  # (field, text) in the order a result names them

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.fields if text)


def check_query(query: str) -> str:
    """The query, stripped; refused if longer than :data:`rules.MAX_QUERY` characters."""
    query = query.strip()
    if len(query) > rules.MAX_QUERY:
        raise QueryTooLong(
            f"a search has at most {rules.MAX_QUERY} characters", field="q", max=rules.MAX_QUERY
        )
    return query


# ---------------------------------------------------------------- documents


def _campaign_docs(session: Session, campaigns: list[Any]) -> list[_Doc]:
    found = catalog.skus_with_products(session, [c.sku_id for c in campaigns])
    docs = []
    for campaign in campaigns:
        sku, product = found[campaign.sku_id]
        name = catalog.goods_name(product.title, sku.name)
        hit = Hit(
            kind=CAMPAIGN,
            id=campaign.id,
            title=campaign.title,
            url=f"/c/{campaign.id}",
            image_url=product.image_url,
            price=min((p for _, p in campaign.tiers), default=campaign.single_price),
            category_ids=[product.category_id] if product.category_id is not None else [],
        )
        fields = [
            ("title", campaign.title),
            ("product", name),
            ("description", product.description),
        ]
        docs.append(_Doc(CAMPAIGN, campaign.id, hit, fields))
    return docs


def _wave_doc(session: Session, wave: Any, listing: Any = None, community: Any = None) -> _Doc:
    items = pools.items_of(session, wave.id)
    found = catalog.skus_with_products(session, [i.sku_id for i in items])
    products = [found[i.sku_id][1] for i in items if i.sku_id in found]
    hit = Hit(
        kind=WAVE,
        id=listing.id if listing is not None else 0,
        title=wave.title,
        url=f"/w/{listing.id}" if listing is not None else "",
        image_url=products[0].image_url if products else "",
        price=min((i.price for i in items), default=None),
        category_ids=sorted({p.category_id for p in products if p.category_id is not None}),
        community=community.name if community is not None else None,
        cutoff_at=wave.cutoff_at,
    )
    fields = [("title", wave.title)]
    for item in items:
        fields.append(("item", item.title))
        if item.sku_id in found and found[item.sku_id][1].title != item.title:
            fields.append(("product", found[item.sku_id][1].title))
    fields.append(("description", wave.description))
    return _Doc(WAVE, wave.id, hit, fields)


def _live_waves(session: Session) -> list[Any]:
    now = clock.now()
    return [
        w
        for w in pools.all_waves(session, limit=MAX_WAVES)
        if w.status == pools.WaveStatus.OPEN and w.cutoff_at > now
    ]


# ---------------------------------------------------------------- the index


def index(session: Session, kind: str, ref_id: int, text: str) -> SearchEntry:
    """(Re-)index one campaign or wave under the terms of ``text``."""
    entry = session.scalar(
        select(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.ref_id == ref_id)
    )
    if entry is None:
        entry = SearchEntry(kind=kind, ref_id=ref_id, text=text, indexed_at=clock.now())
        try:
            with session.begin_nested():  # another worker may index it at the same instant
                session.add(entry)
                session.flush()
        except IntegrityError:
            entry = session.scalars(
                select(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.ref_id == ref_id)
            ).one()
    session.execute(delete(SearchTerm).where(SearchTerm.entry_id == entry.id))
    entry.text = text
    entry.indexed_at = clock.now()
    terms = rules.index_terms(text)
    if terms:
        session.execute(
            insert(SearchTerm),
            [{"entry_id": entry.id, "term": t} for t in sorted(terms)],
        )
    session.flush()
    return entry


def _drop(session: Session, entry_ids: list[int]) -> None:
    if entry_ids:
        session.execute(delete(SearchTerm).where(SearchTerm.entry_id.in_(entry_ids)))
        session.execute(delete(SearchEntry).where(SearchEntry.id.in_(entry_ids)))


_last_recheck = float("-inf")


def refresh(session: Session, *, recheck: bool | None = None) -> int:
    """Bring the index up to date: index the live campaigns and open waves it lacks, drop
    the entries of those no longer live, and (every :data:`RECHECK_SECONDS`, or when
    ``recheck``) re-index those whose text changed. Returns how many entries changed."""
    global _last_recheck
    if recheck is None:
        recheck = time.monotonic() - _last_recheck >= RECHECK_SECONDS
    if recheck:
        _last_recheck = time.monotonic()
    live = {(CAMPAIGN, c.id): c for c in teams.list_campaigns(session)}
    live.update({(WAVE, w.id): w for w in _live_waves(session)})
    columns = [SearchEntry.id, SearchEntry.kind, SearchEntry.ref_id]
    if recheck:
        columns.append(SearchEntry.text)
    entries = {(row.kind, row.ref_id): row for row in session.execute(select(*columns))}
    stale = [row.id for key, row in entries.items() if key not in live]
    _drop(session, stale)
    changed = len(stale)
    due = [key for key in live if recheck or key not in entries]
    docs = _campaign_docs(session, [live[k] for k in due if k[0] == CAMPAIGN])
    docs += [_wave_doc(session, live[k]) for k in due if k[0] == WAVE]
    for doc in docs:
        entry = entries.get((doc.kind, doc.ref_id))
        if entry is None or entry.text != doc.text:
            index(session, doc.kind, doc.ref_id, doc.text)
            changed += 1
    return changed


def _indexed_matches(
    session: Session, kind: str, ref_ids: list[int], terms: list[str]
) -> tuple[set[int], set[int]]:
    """Of ``ref_ids``: those whose entry holds every term, and those with an entry at all."""
    if not ref_ids:
        return set(), set()
    indexed = set(
        session.scalars(
            select(SearchEntry.ref_id).where(
                SearchEntry.kind == kind, SearchEntry.ref_id.in_(ref_ids)
            )
        )
    )
    found = session.scalars(
        select(SearchEntry.ref_id)
        .join(SearchTerm, SearchTerm.entry_id == SearchEntry.id)
        .where(
            and_(SearchEntry.kind == kind, SearchEntry.ref_id.in_(ref_ids)),
            SearchTerm.term.in_(terms),
        )
        .group_by(SearchEntry.ref_id)
        .having(func.count(SearchTerm.term) == len(terms))
    )
    return set(found), indexed


# ---------------------------------------------------------------- searching


def visible_category(session: Session, category_id: int, *, operator: bool = False) -> Any:
    """The category to filter by; a hidden one is not found, except by an operator."""
    category = catalog.get_category(session, category_id)
    if category.hidden and not operator:
        raise catalog.CategoryNotFound()
    return category


def search(
    session: Session,
    *,
    user_id: int | None,
    query: str = "",
    category_id: int | None = None,
    operator: bool = False,
) -> list[Hit]:
    """What the caller may buy that holds every word of ``query`` (all of it, for an empty
    query) and is in ``category_id`` (if given): live campaigns first, then the open waves
    of the caller's communities (none for an anonymous caller), each hit naming where the
    words were found."""
    query = check_query(query)
    if category_id is not None:
        visible_category(session, category_id, operator=operator)
    docs = _campaign_docs(session, teams.list_campaigns(session))
    if user_id is not None:
        for community in communities.communities_of(session, user_id):
            for listing, wave in pools.listings_of_community(session, community.id, open_only=True):
                docs.append(_wave_doc(session, wave, listing, community))
    if category_id is not None:
        docs = [d for d in docs if category_id in d.hit.category_ids]
    terms = rules.query_terms(query)
    if query and not terms:  # only punctuation: nothing can hold it
        return []
    if terms:
        keep: set[tuple[str, int]] = set()
        for kind in (CAMPAIGN, WAVE):
            ids = sorted({d.ref_id for d in docs if d.kind == kind})
            found, indexed = _indexed_matches(session, kind, ids, terms)
            keep.update((kind, i) for i in found)
            for d in docs:  # not indexed yet: match its text here
                if d.kind == kind and d.ref_id not in indexed and rules.matches(d.text, query):
                    keep.add((kind, d.ref_id))
        docs = [d for d in docs if (d.kind, d.ref_id) in keep]
        for d in docs:
            d.hit.matched = [
                Match(name, rules.highlight(text, query))
                for name, text in d.fields
                if text and any(w in rules.normalise(text) for w in rules.words(query))
            ] or [Match("title", rules.highlight(d.hit.title, query))]
    docs.sort(key=lambda d: (d.kind != CAMPAIGN, d.hit.cutoff_at or clock.now(), d.hit.id))
    return [d.hit for d in docs]
