"""The search's replies."""

from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import Iso, Out
from tuangou.search.service import Hit, Match


class PieceOut(Out):
    text: str
    hit: bool = Field(description="whether this piece is (part of) a word of the query")


class MatchOut(Out):
    field: str = Field(description="where the words were found: title, product, item, description")
    pieces: list[PieceOut] = Field(description="the field's text, the matching pieces marked")

    @classmethod
    def of(cls, m: Match) -> MatchOut:
        return cls.model_construct(
            field=m.field,
            pieces=[PieceOut.model_construct(text=p.text, hit=p.hit) for p in m.pieces],
        )


class SearchHitOut(Out):
    kind: str = Field(description="campaign (a team buy) or wave (a community's group order)")
    id: int = Field(description="the campaign's id, or the wave listing's id")
    title: str
    url: str = Field(description="the page to open")
    image_url: str
    price: int | None = Field(description="the lowest price (fen)")
    category_ids: list[int]
    community: str | None = Field(description="the community of a wave")
    cutoff_at: Iso | None = Field(description="a wave's cut-off")
    matched: list[MatchOut] = Field(description="where the words were found (empty: no words)")

    @classmethod
    def of(cls, h: Hit) -> SearchHitOut:
        return cls.model_construct(
            kind=h.kind,
            id=h.id,
            title=h.title,
            url=h.url,
            image_url=h.image_url,
            price=h.price,
            category_ids=list(h.category_ids),
            community=h.community,
            cutoff_at=clock.iso(h.cutoff_at) if h.cutoff_at is not None else None,
            matched=[MatchOut.of(m) for m in h.matched],
        )


class SearchOut(Out):
    query: str
    category: int | None
    results: list[SearchHitOut]
