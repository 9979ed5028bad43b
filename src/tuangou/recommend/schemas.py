"""Replies of the recommendations API."""

from __future__ import annotations

from typing import Literal

from tuangou.core.schemas import Out
from tuangou.recommend import rules


class RecommendationOut(Out):
    product_id: int
    kind: Literal["campaign", "wave"]  # a team buy, or a community's wave
    campaign_id: int | None  # the team-buy campaign
    listing_id: int | None  # the wave's listing in the member's community
    wave_id: int | None
    link: str  # the page where it is ordered
    title: str
    product_title: str
    image: str
    price: int  # fen: the team price, or the wave item's price
    community: str | None
    reason: Literal["neighbours", "inviter", "community", "model", "popular"]
    reason_text: str  # the reason in words (Chinese)
    score: float


class RecommendationsOut(Out):
    context: Literal["home", "after_order"]
    source: Literal["model", "community_popularity", "popularity"]
    model_version: int | None  # the model served (None: no model trained yet)
    items: list[RecommendationOut]

    @classmethod
    def of(cls, found: object) -> RecommendationsOut:
        from tuangou.recommend.service import Recommendations

        assert isinstance(found, Recommendations)
        return cls(
            context=found.context.value,
            source=found.source.value,
            model_version=found.model_version,
            items=[
                RecommendationOut(
                    product_id=r.offer.product_id,
                    kind="campaign" if r.offer.kind == "campaign" else "wave",
                    campaign_id=r.offer.ref_id if r.offer.kind == "campaign" else None,
                    listing_id=r.offer.ref_id if r.offer.kind == "wave" else None,
                    wave_id=r.offer.wave_id,
                    link=r.offer.link,
                    title=r.offer.title,
                    product_title=r.product_title,
                    image=r.image,
                    price=r.offer.price,
                    community=r.offer.community,
                    reason=r.reason.value,
                    reason_text=rules.REASON_WORDS[r.reason][1],
                    score=r.score,
                )
                for r in found.items
            ],
        )
