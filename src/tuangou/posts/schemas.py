"""Posts' request bodies and replies."""

from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.posts import rules, service


class PostIn(In):
    """A post: text, up to 9 photos (ids from ``POST /api/photos``), and at most one link to
    a live campaign or a wave of this community (a deal post)."""

    text: str = Field(min_length=1, max_length=rules.TEXT_MAX)
    photo_ids: list[str] = Field(default_factory=list, max_length=rules.PHOTOS_MAX)
    campaign_id: int | None = Field(default=None, ge=1)
    listing_id: int | None = Field(
        default=None, ge=1, description="a wave listed in this community"
    )


class ReplyIn(In):
    text: str = Field(min_length=1, max_length=rules.REPLY_MAX)
    reply_to_id: int | None = Field(default=None, ge=1, description="the reply this answers")


class RhythmIn(In):
    deals_per_day: int = Field(ge=0, description="deal posts a day (0 to the operator's bound)")
    opens: str | None = Field(
        default=None, description="posting hours open (HH:MM, local); with closes, or neither"
    )
    closes: str | None = Field(default=None, description="posting hours close (HH:MM, local)")


class PhotoThumbOut(Out):
    id: str
    url: str
    thumb_url: str
    width: int
    height: int


class DealOut(Out):
    kind: str = Field(description="campaign | wave")
    id: int = Field(description="the campaign's id, or the wave listing's")
    title: str
    price: int = Field(description="fen: the group price")
    status: str = Field(description="open | closed")
    url: str


class PostOut(Out):
    id: int
    community_id: int
    community: str
    author: str = Field(description="the author's masked name")
    mine: bool
    kind: str = Field(description="experience | deal")
    text: str
    status: str = Field(description="published | held | hidden (held and hidden: the author's own)")
    photos: list[PhotoThumbOut]
    deal: DealOut | None
    like_count: int
    reply_count: int
    share_count: int
    liked_by_me: bool
    pinned: bool
    todays_deal: bool
    created_at: Iso

    @classmethod
    def of(cls, view: service.PostView) -> PostOut:
        p = view.post
        return cls.model_construct(
            id=p.id,
            community_id=p.community_id,
            community=view.community,
            author=view.author,
            mine=view.mine,
            kind=p.kind,
            text=p.text,
            status=p.status,
            photos=[PhotoThumbOut.model_construct(**vars(ph)) for ph in view.photos],
            deal=None if view.deal is None else DealOut.model_construct(**vars(view.deal)),
            like_count=p.like_count,
            reply_count=p.reply_count,
            share_count=p.share_count,
            liked_by_me=view.liked_by_me,
            pinned=p.pinned_at is not None,
            todays_deal=view.todays_deal,
            created_at=clock.iso(p.created_at),
        )


class FeedOut(Out):
    pinned: list[PostOut] = Field(description="the pinned posts (a community's first page only)")
    items: list[PostOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: the end")

    @classmethod
    def of(cls, page: service.FeedPage) -> FeedOut:
        return cls.model_construct(
            pinned=[PostOut.of(v) for v in page.pinned],
            items=[PostOut.of(v) for v in page.items],
            next_cursor=page.next_cursor,
        )


class ReplyOut(Out):
    id: int
    post_id: int
    author: str
    mine: bool
    reply_to_id: int | None
    text: str
    status: str
    created_at: Iso

    @classmethod
    def of(cls, view: service.ReplyView) -> ReplyOut:
        r = view.reply
        return cls.model_construct(
            id=r.id,
            post_id=r.post_id,
            author=view.author,
            mine=view.mine,
            reply_to_id=r.reply_to_id,
            text=r.text,
            status=r.status,
            created_at=clock.iso(r.created_at),
        )


class RepliesOut(Out):
    items: list[ReplyOut]
    next_cursor: str | None


class LikeOut(Out):
    post_id: int
    liked: bool
    like_count: int


class ShareOut(Out):
    post_id: int
    share_count: int
    url: str = Field(description="the post's link, for members of its community")
    text: str = Field(description="a line to send with the link")


class RhythmOut(Out):
    community_id: int
    deals_per_day: int
    deals_per_day_bound: int = Field(description="the operator's bound")
    opens: str | None
    closes: str | None
    custom: bool = Field(description="false: the operator's defaults")
    new_member_hours: int
    new_member_post_gap_seconds: int
    new_member_reply_gap_seconds: int
    new_member_first_day_replies: int

    @classmethod
    def of(cls, view: service.RhythmView) -> RhythmOut:
        r, limits = view.rhythm, view.limits
        return cls.model_construct(
            community_id=view.community_id,
            deals_per_day=r.deals_per_day,
            deals_per_day_bound=view.bound,
            opens=r.opens.strftime("%H:%M") if r.opens else None,
            closes=r.closes.strftime("%H:%M") if r.closes else None,
            custom=view.custom,
            new_member_hours=int(limits.new_for.total_seconds() // 3600),
            new_member_post_gap_seconds=int(limits.post_gap.total_seconds()),
            new_member_reply_gap_seconds=int(limits.reply_gap.total_seconds()),
            new_member_first_day_replies=limits.first_day_replies,
        )
