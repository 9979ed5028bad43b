from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import Iso, Out
from tuangou.insight.service import Insight, WishView


class EvidenceOut(Out):
    kind: str = Field(description="post | reply | proposal")
    id: int
    post_id: int | None = Field(description="the post a post or reply is on")
    proposal_id: int | None
    excerpt: str = Field(description="the text around the wish")
    asked: bool = Field(description="the text asks for it (想买, 求 …); false: only names it")
    created_at: Iso


class GoodsOut(Out):
    sku_id: int
    title: str
    supplier: str
    price: int = Field(description="fen")


class WishOut(Out):
    phrase: str = Field(description="the goods asked for, as members wrote them")
    score: int = Field(description="3 × askers + texts naming it")
    askers: int = Field(description="members who asked for it (a proposal's voters included)")
    mentions: int = Field(description="texts of the week that name it")
    evidence: list[EvidenceOut]
    goods: list[GoodsOut] = Field(description="catalogue goods in stock that would answer it")

    @classmethod
    def of(cls, w: WishView) -> WishOut:
        return cls(
            phrase=w.phrase,
            score=w.score,
            askers=w.askers,
            mentions=w.mentions,
            evidence=[
                EvidenceOut(
                    kind=e.kind,
                    id=e.id,
                    post_id=e.post_id,
                    proposal_id=e.proposal_id,
                    excerpt=e.excerpt,
                    asked=e.asked,
                    created_at=clock.iso(e.created_at),
                )
                for e in w.evidence
            ],
            goods=[
                GoodsOut(sku_id=g.sku_id, title=g.title, supplier=g.supplier, price=g.price)
                for g in w.goods
            ],
        )


class InsightOut(Out):
    """A community's product wishes of one week (Monday to Sunday, the deployment's time
    zone), best first, mined from its posts, replies and proposals."""

    community_id: int
    week: str = Field(description="ISO week, e.g. 2026-W49")
    texts_read: int
    wishes: list[WishOut]
    previous_week: str
    next_week: str | None = Field(description="null: this is the current week")

    @classmethod
    def of(cls, i: Insight) -> InsightOut:
        return cls(
            community_id=i.community_id,
            week=i.week,
            texts_read=i.texts_read,
            wishes=[WishOut.of(w) for w in i.wishes],
            previous_week=i.previous_week,
            next_week=i.next_week,
        )
