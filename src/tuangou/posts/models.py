"""Posts in a community, their replies and likes, the day's deal and each community's rhythm."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.posts.rules import PostStatus


class Post(Base):
    """A member's post in a community: an experience, or a deal post linking a team-buy
    campaign or a wave listed in the community. ``like_count`` and ``reply_count`` move only
    by guarded increments in the transaction that inserts or deletes the row they count."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(Integer, default=None)
    listing_id: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.PUBLISHED)
    screened: Mapped[str | None] = mapped_column(String(200), default=None)
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    share_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint("kind IN ('experience', 'deal')", name="kind"),
        CheckConstraint("status IN ('published', 'held', 'hidden', 'deleted')", name="status"),
        CheckConstraint(
            "(kind = 'deal') = (campaign_id IS NOT NULL OR listing_id IS NOT NULL)", name="deal"
        ),
        CheckConstraint("campaign_id IS NULL OR listing_id IS NULL", name="one_link"),
        CheckConstraint("like_count >= 0 AND reply_count >= 0 AND share_count >= 0", name="counts"),
        # The feeds: a community's, and a member's home (its communities', merged), newest
        # first by the keyset (created_at, id).
        Index("ix_posts_community_created", "community_id", "created_at", "id"),
        # The rhythm: an author's last post in a community; the day's deal posts.
        Index("ix_posts_author_community_created", "author_id", "community_id", "created_at"),
        Index(
            "ix_posts_pinned",
            "community_id",
            "pinned_at",
            sqlite_where=sql("pinned_at IS NOT NULL"),
            postgresql_where=sql("pinned_at IS NOT NULL"),
        ),
    )


class PostReply(Base):
    """A reply on a post; ``reply_to_id`` names the reply it answers (still on the post)."""

    __tablename__ = "post_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("post_replies.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.PUBLISHED)
    screened: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("status IN ('published', 'held', 'hidden', 'deleted')", name="status"),
        Index("ix_post_replies_post_created", "post_id", "created_at", "id"),
        # Demand insight reads a community's replies of a week.
        Index("ix_post_replies_community_created", "community_id", "created_at", "id"),
        Index(
            "ix_post_replies_author_community_created", "author_id", "community_id", "created_at"
        ),
    )


class PostLike(Base):
    """One like per member per post: the primary key is the guard."""

    __tablename__ = "post_likes"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DayDeal(Base):
    """The day's deal post of a community (今日推荐): one per community and local day; a new
    mark replaces the old."""

    __tablename__ = "post_day_deals"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    marked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(DateTime)


class PostRhythm(Base):
    """A community's posting rhythm as its leader set it (no row: the defaults). Hours are
    local "HH:MM" text, both or neither."""

    __tablename__ = "post_rhythms"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    deals_per_day: Mapped[int] = mapped_column(Integer)
    opens: Mapped[str | None] = mapped_column(String(5), default=None)
    closes: Mapped[str | None] = mapped_column(String(5), default=None)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("deals_per_day >= 0", name="deals"),
        CheckConstraint("(opens IS NULL) = (closes IS NULL)", name="hours"),
    )
