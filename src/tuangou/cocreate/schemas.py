from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, model_validator

from tuangou.cocreate import rules
from tuangou.cocreate.models import Proposal, SupplierLink, SupplierLinkEvent
from tuangou.cocreate.service import CommunitySettings, ConvertInput, Outcome
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.photos.schemas import PhotoOut


class ProposalIn(In):
    title: str = Field(min_length=1, max_length=rules.TITLE_MAX, examples=["云南高山蓝莓"])
    description: str = Field(default="", max_length=rules.DESCRIPTION_MAX)
    target_price: int = Field(gt=0, le=rules.MAX_TARGET_PRICE, description="fen, per unit")
    supplier_hint: str = Field(default="", max_length=rules.HINT_MAX)
    photo_ids: list[str] = Field(
        default_factory=list,
        max_length=rules.PHOTOS_PER_PROPOSAL,
        description="a photo uploaded first with POST /api/photos",
    )


class VoteIn(In):
    pledge: int = Field(
        default=0, ge=rules.MIN_PLEDGE, le=rules.MAX_PLEDGE, description="units you would buy"
    )


class SettingsIn(In):
    votes: int = Field(ge=rules.MIN_VOTES, le=rules.MAX_VOTES, description="votes needed (V)")
    units: int = Field(
        ge=rules.MIN_UNITS, le=rules.MAX_UNITS, description="or pledged units needed (Q)"
    )
    early_hours: int = Field(
        default=rules.DEFAULT_EARLY_HOURS,
        ge=0,
        le=rules.MAX_EARLY_HOURS,
        description="hours only voters may see and order the wave",
    )


class ConvertIn(In):
    sku_id: int = Field(description="the leader's own goods, or a supplier's SKU within its terms")
    price: int = Field(gt=0, description="unit price in fen")
    moq: int = Field(ge=1, description="at most the pledged units")
    stock: int = Field(ge=1)
    per_member_limit: int = Field(default=10, ge=1)
    cutoff_at: datetime
    delivery_date: date
    pickup_point_id: int
    title: str = Field(default="", max_length=200, description="default: the proposal's")

    @model_validator(mode="after")
    def _utc(self) -> ConvertIn:
        if self.cutoff_at.tzinfo is not None:
            self.cutoff_at = clock.as_utc(self.cutoff_at).replace(tzinfo=None)
        return self

    def data(self) -> ConvertInput:
        return ConvertInput(**self.model_dump())


class SupplierConvertIn(In):
    """A linked supplier's conversion: its own SKU; the community's leader is the wave's
    leader and its first open pickup point the wave's."""

    sku_id: int = Field(description="one of the supplier's own SKUs")
    price: int = Field(gt=0, description="unit price in fen")
    moq: int = Field(ge=1, description="at most the pledged units")
    stock: int = Field(ge=1)
    per_member_limit: int = Field(default=10, ge=1)
    cutoff_at: datetime
    delivery_date: date
    commission_bps: int | None = Field(
        default=None, ge=0, description="the leader's commission; null: the default"
    )
    title: str = Field(default="", max_length=200, description="default: the proposal's")

    @model_validator(mode="after")
    def _utc(self) -> SupplierConvertIn:
        if self.cutoff_at.tzinfo is not None:
            self.cutoff_at = clock.as_utc(self.cutoff_at).replace(tzinfo=None)
        return self

    def data(self) -> ConvertInput:
        return ConvertInput(pickup_point_id=0, **self.model_dump())


class LinkIn(In):
    supplier_id: int = Field(ge=1)


class LinkOut(Out):
    community_id: int
    supplier_id: int
    linked_by: int = Field(description="the operator's user id")
    linked_at: Iso

    @classmethod
    def of(cls, link: SupplierLink) -> LinkOut:
        return cls(
            community_id=link.community_id,
            supplier_id=link.supplier_id,
            linked_by=link.linked_by,
            linked_at=clock.iso(link.linked_at),
        )


class LinkEventOut(Out):
    supplier_id: int
    action: str = Field(description="linked | unlinked")
    by_user_id: int
    at: Iso

    @classmethod
    def of(cls, e: SupplierLinkEvent) -> LinkEventOut:
        return cls(
            supplier_id=e.supplier_id, action=e.action, by_user_id=e.by_user_id, at=clock.iso(e.at)
        )


class SupplierLinksOut(Out):
    community_id: int
    links: list[LinkOut]
    trail: list[LinkEventOut] = Field(description="who linked and unlinked, newest first")


class SettingsOut(Out):
    community_id: int
    votes: int
    units: int
    early_hours: int

    @classmethod
    def of(cls, s: CommunitySettings) -> SettingsOut:
        return cls(
            community_id=s.community_id, votes=s.votes, units=s.units, early_hours=s.early_hours
        )


class OutcomeOut(Out):
    wave_id: int
    listing_id: int | None
    wave_title: str
    wave_status: str
    early_until: Iso | None
    pledgers: int
    pledgers_ordered: int
    pledged_units: int
    ordered_units: int
    reviews: dict[str, int | float | str] | None

    @classmethod
    def of(cls, o: Outcome) -> OutcomeOut:
        return cls(
            wave_id=o.wave_id,
            listing_id=o.listing_id,
            wave_title=o.wave_title,
            wave_status=o.wave_status,
            early_until=clock.iso(o.early_until),
            pledgers=o.pledgers,
            pledgers_ordered=o.pledgers_ordered,
            pledged_units=o.pledged_units,
            ordered_units=o.ordered_units,
            reviews=o.reviews,
        )


class ProposalOut(Out):
    id: int
    community_id: int
    title: str
    description: str
    target_price: int
    supplier_hint: str
    status: str
    votes: int
    pledged: int
    threshold_votes: int
    threshold_units: int
    created_at: Iso
    ready_at: Iso | None
    mine: bool = Field(description="the caller proposed it")
    my_pledge: int | None = Field(description="the caller's vote's pledge; null: not voted")
    photos: list[PhotoOut]
    outcome: OutcomeOut | None
    converted_by_supplier: int | None = Field(
        default=None, description="the supplier that turned it into a wave; null: the leader"
    )

    @classmethod
    def of(
        cls,
        p: Proposal,
        *,
        settings: CommunitySettings,
        viewer_id: int | None,
        my_pledge: int | None,
        photos: list[PhotoOut],
        outcome: Outcome | None = None,
    ) -> ProposalOut:
        return cls(
            id=p.id,
            community_id=p.community_id,
            title=p.title,
            description=p.description,
            target_price=p.target_price,
            supplier_hint=p.supplier_hint,
            status=p.status,
            votes=p.votes,
            pledged=p.pledged,
            threshold_votes=settings.votes,
            threshold_units=settings.units,
            created_at=clock.iso(p.created_at),
            ready_at=clock.iso(p.ready_at),
            mine=viewer_id == p.author_id,
            my_pledge=my_pledge,
            photos=photos,
            outcome=OutcomeOut.of(outcome) if outcome is not None else None,
            converted_by_supplier=p.supplier_id,
        )


class ProposalPageOut(Out):
    items: list[ProposalOut]
    next_cursor: int | None = Field(description="pass as cursor for the next page; null: none")
