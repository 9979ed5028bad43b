"""Verified-buyer reviews (晒单): writing one, the one public reply, the lists and summaries.

* Only the member whose order was completed (picked up, or its receipt confirmed: the order's
  ``completed_at`` is set) reviews it, once per order line, never automatically. An order
  refunded later by an after-sale case keeps its review, and its right to one: it was
  completed.
* What was bought is copied into the review when it is written, so that the lists and the
  summaries of a product, a SKU, a team campaign or a wave read the reviews table alone, by
  its indexes: one grouped query for a summary, keyset paging (newest first) for a list.
* Only published reviews are listed and counted: a review the text filter held, or a
  moderator hid, is shown to its author (with its state) and to moderators, to nobody else.
* The one public reply comes from the leader of the order's wave or the supplier of the SKU;
  the first to answer wins (compare-and-set), and the author is told (``review.replied``).

Other domains plug in without being imported: ``register_text_screen`` (the moderation's
text filter), ``MODERATION_TARGETS`` (what moderation hides and restores), and
:func:`photo_visible` (who sees a review's photos).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.db import upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.orders import service as orders
from tuangou.photos import service as photos
from tuangou.pools import service as pools
from tuangou.reviews import errors, rules
from tuangou.reviews.models import Review, ReviewCount, ReviewLike
from tuangou.reviews.rules import ReplierRole, ReviewStatus, Summary

# ---------------------------------------------------------------- the text filter

TextScreen = Callable[[str], list[str]]
OnHeld = Callable[[Session, str, int, list[str]], object]  # (session, "review", id, terms)
_screens: list[TextScreen] = []
_on_held: list[OnHeld] = []


def register_text_screen(fn: TextScreen) -> None:
    """A text filter: ``fn(text)`` returns the terms it matched; any term holds a new review
    for a moderator (``held``) instead of publishing it. None registered: all is published."""
    if fn not in _screens:
        _screens.append(fn)


def register_on_held(fn: OnHeld) -> None:
    """Told of each review the filter held, in the transaction that created it (the
    moderation queue)."""
    if fn not in _on_held:
        _on_held.append(fn)


def clear_text_screens() -> None:
    """Forget the filters and who is told of held reviews (tests)."""
    _screens.clear()
    _on_held.clear()


def screened(text: str) -> list[str]:
    """The terms the registered filters find in ``text`` (empty: publish)."""
    found: list[str] = []
    for fn in _screens:
        found.extend(fn(text))
    return found


# ---------------------------------------------------------------- what an order's lines are


@dataclass(frozen=True)
class Line:
    """One line of an order as a review names it: the SKU, its product, the goods' title and
    the quantity bought. ``line_id``: the wave order line, or 0 for a one-SKU order."""

    order_id: int
    line_id: int
    sku_id: int
    product_id: int
    supplier_id: int
    title: str
    quantity: int


def lines_of(session: Session, order: Any) -> list[Line]:
    """The lines of ``order`` the member received: a wave order's lines but those refunded
    when their item missed its minimum (those goods never came); a one-SKU order's one line."""
    if order.kind == "wave":
        wave_lines = [ln for ln in pools.lines_of(session, order.id) if ln.status != "refunded"]
        titles = {i.id: i.title for i in pools.items_of(session, order.campaign_id)}
        goods = catalog.skus_with_products(session, [ln.sku_id for ln in wave_lines])
        return [
            Line(
                order_id=order.id,
                line_id=ln.id,
                sku_id=ln.sku_id,
                product_id=goods[ln.sku_id][1].id,
                supplier_id=goods[ln.sku_id][1].supplier_id,
                title=titles.get(ln.item_id) or goods[ln.sku_id][1].title,
                quantity=ln.quantity,
            )
            for ln in wave_lines
            if ln.sku_id in goods
        ]
    if order.sku_id is None:
        return []
    goods = catalog.skus_with_products(session, [order.sku_id])
    if order.sku_id not in goods:
        return []
    sku, product = goods[order.sku_id]
    return [
        Line(
            order_id=order.id,
            line_id=rules.SINGLE_LINE,
            sku_id=sku.id,
            product_id=product.id,
            supplier_id=product.supplier_id,
            title=catalog.goods_name(product.title, sku.name),
            quantity=order.quantity,
        )
    ]


def _wave_people(session: Session, order_id: int) -> tuple[int, int]:
    """(community id, leader's user id) of a wave order's listing."""
    listing = pools.get_listing(session, pools.info_of(session, order_id).listing_id)
    return listing.community_id, communities.get_leader(session, listing.leader_id).user_id


def completed(order: Any) -> bool:
    """Whether the order was completed (picked up, or receipt confirmed), even if an
    after-sale case refunded it since."""
    return order.completed_at is not None


# ---------------------------------------------------------------- writing a review


def write(
    session: Session,
    *,
    user_id: int,
    order_id: int,
    line_id: int | None,
    rating: int,
    text: str,
    photo_ids: Sequence[str] = (),
) -> Review:
    """The member's review of one line of their completed order, with up to 9 photos
    uploaded before (``photos.service.upload``). Refusals: ``not_a_verified_buyer`` (not
    their order, or not completed), ``already_reviewed`` (that line, even by a concurrent
    request), ``invalid_rating``, ``invalid_input`` (the text, the photos, the line)."""
    if not rules.valid_rating(rating):
        raise errors.InvalidRating(field="rating")
    text = (text or "").strip()
    if len(text) > rules.TEXT_MAX:
        raise InvalidInput(f"at most {rules.TEXT_MAX} characters", field="text")
    ids = list(photo_ids)
    if len(ids) > rules.MAX_PHOTOS:
        raise InvalidInput(f"at most {rules.MAX_PHOTOS} photos", field="photo_ids")
    if len(set(ids)) != len(ids):
        raise InvalidInput("a photo is named twice", field="photo_ids")
    try:
        order = orders.get_for_user(session, order_id, user_id)
    except orders.errors.NotYourOrder as exc:
        raise errors.NotAVerifiedBuyer("this is not your order") from exc
    if not completed(order):
        raise errors.NotAVerifiedBuyer("the order is not completed yet")
    wanted = rules.SINGLE_LINE if line_id is None else line_id
    line = next((ln for ln in lines_of(session, order) if ln.line_id == wanted), None)
    if line is None:
        raise InvalidInput("no such line on this order", field="line_id")
    community_id = leader_user_id = None
    if order.kind == "wave":
        community_id, leader_user_id = _wave_people(session, order.id)
    assert order.completed_at is not None
    now = clock.now()
    matched = screened(text) if text else []
    status = ReviewStatus.HELD if matched else ReviewStatus.PUBLISHED
    # One review per line: the unique (order, line) decides between racing requests.
    new_id = session.scalar(
        upsert_insert(session)(Review)
        .values(
            order_id=order.id,
            line_id=line.line_id,
            user_id=user_id,
            order_kind=order.kind,
            campaign_id=order.campaign_id,
            sku_id=line.sku_id,
            product_id=line.product_id,
            supplier_id=line.supplier_id,
            community_id=community_id,
            leader_user_id=leader_user_id,
            title=line.title[:300],
            quantity=line.quantity,
            completed_on=clock.local_date(order.completed_at),
            rating=rating,
            text=text,
            photo_count=len(ids),
            status=status,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(Review.id)
    )
    if new_id is None:
        raise errors.AlreadyReviewed()
    if status == ReviewStatus.PUBLISHED:
        _count(session, get(session, new_id), +1)
        _published(session, new_id, user_id)
    else:
        for fn in list(_on_held):
            fn(session, "review", new_id, matched)
    if ids:
        photos.attach(
            session,
            user_id=user_id,
            photo_ids=ids,
            owner_kind=rules.PHOTO_OWNER,
            owner_id=new_id,
            max_count=rules.MAX_PHOTOS,
        )
    return get(session, new_id)


# ---------------------------------------------------------------- reading


def get(session: Session, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise errors.ReviewNotFound()
    return review


def may_see(review: Review, *, viewer_id: int | None, operator: bool = False) -> bool:
    """A published review: everyone. Held or hidden: its author, operators, and the leader
    who moderates its community."""
    if review.status == ReviewStatus.PUBLISHED or operator:
        return True
    return viewer_id is not None and viewer_id in (review.user_id, review.leader_user_id)


def get_visible(
    session: Session, review_id: int, *, viewer_id: int | None, operator: bool = False
) -> Review:
    """The review if the viewer may see it; else the same 404 as a missing one."""
    review = get(session, review_id)
    if not may_see(review, viewer_id=viewer_id, operator=operator):
        raise errors.ReviewNotFound()
    return review


@dataclass(frozen=True)
class Scope:
    """Whose reviews: a product's, a SKU's, a team campaign's or a wave's."""

    kind: str  # product | sku | campaign | wave
    id: int

    def where(self) -> list[ColumnElement[bool]]:
        if self.kind == "product":
            return [Review.product_id == self.id]
        if self.kind == "sku":
            return [Review.sku_id == self.id]
        if self.kind == "campaign":
            return [Review.order_kind == "team", Review.campaign_id == self.id]
        if self.kind == "wave":
            return [Review.order_kind == "wave", Review.campaign_id == self.id]
        raise ValueError(self.kind)


def summary(session: Session, scope: Scope) -> Summary:
    """Count, stars 1..5 and average of the scope's published reviews: the scope's five
    counters (``review_counts``), read by their key: as fast at 100,000 reviews as at 10."""
    rows = session.execute(
        select(ReviewCount.rating, ReviewCount.n).where(
            ReviewCount.scope == scope.kind, ReviewCount.scope_id == scope.id
        )
    )
    return rules.summarise({int(r): int(n) for r, n in rows})


def scopes_of(review: Review) -> list[Scope]:
    """The scopes a review counts in: its product, its SKU, and its team campaign or wave."""
    found = [Scope("product", review.product_id), Scope("sku", review.sku_id)]
    if review.order_kind == "team":
        found.append(Scope("campaign", review.campaign_id))
    elif review.order_kind == "wave":
        found.append(Scope("wave", review.campaign_id))
    return found


def _count(session: Session, review: Review, delta: int) -> None:
    """Add ``delta`` to the counters of the review's star in each of its scopes (in the one
    order of their keys, so that concurrent writers lock them in the same order)."""
    keys = sorted((sc.kind, sc.id) for sc in scopes_of(review))
    for kind, scope_id in keys:
        where = (
            ReviewCount.scope == kind,
            ReviewCount.scope_id == scope_id,
            ReviewCount.rating == review.rating,
        )
        moved = session.execute(
            update(ReviewCount)
            .where(*where)
            .values(n=ReviewCount.n + delta)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if moved:
            continue
        created = session.execute(
            upsert_insert(session)(ReviewCount)
            .values(scope=kind, scope_id=scope_id, rating=review.rating, n=max(delta, 0))
            .on_conflict_do_nothing()
        ).rowcount  # type: ignore[attr-defined]
        if not created:  # a concurrent writer created it first: add to theirs
            session.execute(
                update(ReviewCount)
                .where(*where)
                .values(n=ReviewCount.n + delta)
                .execution_options(synchronize_session=False)
            )


def recount(session: Session) -> None:
    """Rebuild every counter from the published reviews (after rows were written by hand: a
    benchmark's seed, a repair)."""
    session.execute(delete(ReviewCount))
    published = Review.status == ReviewStatus.PUBLISHED
    for kind, column, only in (
        ("product", Review.product_id, None),
        ("sku", Review.sku_id, None),
        ("campaign", Review.campaign_id, "team"),
        ("wave", Review.campaign_id, "wave"),
    ):
        query = select(column, Review.rating, func.count()).where(published)
        if only is not None:
            query = query.where(Review.order_kind == only)
        rows = [
            {"scope": kind, "scope_id": int(i), "rating": int(r), "n": int(n)}
            for i, r, n in session.execute(query.group_by(column, Review.rating))
        ]
        if rows:
            session.execute(insert(ReviewCount), rows)


def counted(session: Session, scope: Scope) -> dict[int, int]:
    """The scope's published reviews by star, counted from the rows themselves (one grouped
    query over the scope's index): what the counters must say (tests, audits)."""
    rows = session.execute(
        select(Review.rating, func.count())
        .where(*scope.where(), Review.status == ReviewStatus.PUBLISHED)
        .group_by(Review.rating)
    )
    return {int(r): int(n) for r, n in rows}


@dataclass(frozen=True)
class Page:
    reviews: list[Review]
    next_cursor: str | None  # the cursor of the next (older) page; None: the last page


def parse_cursor(cursor: str | None) -> int | None:
    """A page's cursor (the id of the last review of the page before); bad: invalid_input."""
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or len(cursor) > 10 or int(cursor) > 2**31 - 1:
        raise InvalidInput("not a cursor of this list", field="cursor")
    return int(cursor)


def page(
    session: Session,
    scope: Scope,
    *,
    cursor: str | None = None,
    stars: int | None = None,
    with_photos: bool = False,
    limit: int = rules.PAGE_SIZE,
) -> Page:
    """A page of the scope's published reviews, newest first, after ``cursor``; optionally
    only those of ``stars`` stars, or with photos."""
    if stars is not None and not rules.valid_rating(stars):
        raise errors.InvalidRating(field="stars")
    before = parse_cursor(cursor)
    limit = max(1, min(limit, rules.PAGE_MAX))
    query = select(Review).where(*scope.where(), Review.status == ReviewStatus.PUBLISHED)
    if stars is not None:
        query = query.where(Review.rating == stars)
    if with_photos:
        query = query.where(Review.photo_count > 0)
    if before is not None:
        query = query.where(Review.id < before)
    found = list(session.scalars(query.order_by(Review.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return Page(reviews=found, next_cursor=str(found[-1].id) if more and found else None)


def of_order(session: Session, order_id: int) -> dict[int, Review]:
    """The reviews of an order (every status: its author reads them), by line."""
    return {
        r.line_id: r for r in session.scalars(select(Review).where(Review.order_id == order_id))
    }


@dataclass(frozen=True)
class Reviewable:
    """A line of the member's completed order that they have not reviewed yet."""

    line: Line
    order_kind: str
    completed_on: date


def reviewable(session: Session, user_id: int, *, limit: int = 50) -> list[Reviewable]:
    """The member's completed order lines not reviewed yet, newest order first (their last
    200 orders)."""
    done = [o for o in orders.list_for_user(session, user_id, limit=200) if completed(o)]
    if not done:
        return []
    reviewed = {
        (int(order_id), int(line_id))
        for order_id, line_id in session.execute(
            select(Review.order_id, Review.line_id).where(Review.order_id.in_([o.id for o in done]))
        )
    }
    found: list[Reviewable] = []
    for order in done:
        assert order.completed_at is not None
        for line in lines_of(session, order):
            if (order.id, line.line_id) not in reviewed:
                found.append(
                    Reviewable(
                        line=line,
                        order_kind=order.kind,
                        completed_on=clock.local_date(order.completed_at),
                    )
                )
                if len(found) >= limit:
                    return found
    return found


def awaiting_reply(
    session: Session,
    *,
    supplier_id: int | None = None,
    leader_user_id: int | None = None,
    limit: int = 50,
) -> list[Review]:
    """Published reviews a supplier (of their SKUs) or a leader (of their waves) has not
    answered yet, oldest first (the longest waiting on top)."""
    query = select(Review).where(Review.status == ReviewStatus.PUBLISHED, Review.reply_by.is_(None))
    if supplier_id is not None:
        query = query.where(Review.supplier_id == supplier_id)
    elif leader_user_id is not None:
        query = query.where(Review.leader_user_id == leader_user_id)
    else:
        return []
    return list(session.scalars(query.order_by(Review.id).limit(limit)))


def authors(session: Session, reviews: Sequence[Review]) -> dict[int, str]:
    """The masked names of the reviews' authors, by user id."""
    return accounts.masked_names(session, sorted({r.user_id for r in reviews}))


def photos_by_review(session: Session, reviews: Sequence[Review]) -> dict[int, list[Any]]:
    """The photos of each review (``photos.service.PhotoOut``), by review id."""
    ids = [r.id for r in reviews if r.photo_count]
    if not ids:
        return {}
    return photos.photos_of(session, rules.PHOTO_OWNER, ids)


def photo_visible(session: Session, viewer_id: int | None, owner_id: int) -> bool:
    """Who sees a review's photos: everyone while it is published; then its author and
    operators only."""
    review = session.get(Review, owner_id)
    if review is None:
        return False
    if review.status == ReviewStatus.PUBLISHED:
        return True
    if viewer_id is None:
        return False
    if viewer_id == review.user_id:
        return True
    return accounts.get_user(session, viewer_id).role == "operator"


# ---------------------------------------------------------------- the one reply


def replier_role(review: Review, *, user_id: int, role: str, supplier_id: int | None) -> str | None:
    """Who the caller is to this review: the leader of its wave, the supplier of its SKU, or
    nobody (None)."""
    if role == "supplier" and supplier_id is not None and supplier_id == review.supplier_id:
        return ReplierRole.SUPPLIER
    if review.leader_user_id is not None and review.leader_user_id == user_id:
        return ReplierRole.LEADER
    return None


def reply(
    session: Session,
    *,
    review_id: int,
    user_id: int,
    role: str,
    supplier_id: int | None,
    text: str,
) -> Review:
    """The one public reply, by the leader of the order's wave or the supplier of the SKU:
    the first to answer wins, a second attempt is ``already_replied``; the author is told."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("write the reply", field="text")
    if len(text) > rules.REPLY_MAX:
        raise InvalidInput(f"at most {rules.REPLY_MAX} characters", field="text")
    review = get(session, review_id)
    who = replier_role(review, user_id=user_id, role=role, supplier_id=supplier_id)
    if who is None:
        if not may_see(review, viewer_id=user_id):
            raise errors.ReviewNotFound()
        raise errors.NotYoursToReply()
    if review.status != ReviewStatus.PUBLISHED:
        raise errors.ReviewNotFound("this review is not published")
    now = clock.now()
    moved = session.execute(
        update(Review)
        .where(Review.id == review_id, Review.reply_by.is_(None))
        .values(reply_text=text, reply_by=user_id, reply_role=who, replied_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise errors.AlreadyReplied()
    session.refresh(review)
    outbox.emit(
        session,
        "review.replied",
        {
            "user_ids": [review.user_id],
            "review_id": review.id,
            "order_id": review.order_id,
            "item": review.title,
            "by": who,
        },
    )
    return review


# ---------------------------------------------------------------- moderation's hooks


@dataclass(frozen=True)
class TargetInfo:
    """What moderation shows of a review (the same fields as moderation's own)."""

    community_id: int | None
    author_id: int
    excerpt: str
    hidden: bool
    link: str


@dataclass(frozen=True)
class TargetHooks:
    """What moderation calls for a review (the same three fields as moderation's own)."""

    locate: Callable[[Session, int], TargetInfo | None]
    set_hidden: Callable[[Session, int, bool], None]
    leader_of: Callable[[Session, int], int | None]


def _locate(session: Session, review_id: int) -> TargetInfo | None:
    review = session.get(Review, review_id)
    if review is None:
        return None
    return TargetInfo(
        community_id=review.community_id,
        author_id=review.user_id,
        excerpt=rules.excerpt(review.text) or f"{'★' * review.rating} {review.title}",
        hidden=review.status != ReviewStatus.PUBLISHED,
        link=f"/reviews/{review.id}",
    )


def set_hidden(session: Session, review_id: int, hidden: bool) -> None:
    """Hide a review (out of the lists and the summaries), or restore it (published, a held
    one too). Its reply and photos stay with it. Each move is a compare-and-set on its status,
    and only a move out of or into ``published`` changes the counters."""
    review = session.get(Review, review_id)
    if review is None:
        return

    def move(frm: Sequence[str], to: str) -> bool:
        return bool(
            session.execute(
                update(Review)
                .where(Review.id == review_id, Review.status.in_(frm))
                .values(status=to)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        )

    if hidden:
        if move([ReviewStatus.PUBLISHED], ReviewStatus.HIDDEN):
            _count(session, review, -1)
        else:
            move([ReviewStatus.HELD], ReviewStatus.HIDDEN)
    elif move([ReviewStatus.HELD, ReviewStatus.HIDDEN], ReviewStatus.PUBLISHED):
        _count(session, review, +1)
        _published(session, review.id, review.user_id)
    session.expire_all()


PUBLISHED = "review.published"  # the outbox's topic: a review is shown (points for it)


def _published(session: Session, review_id: int, user_id: int) -> None:
    """Tell the outbox a review is shown: at its creation, or a moderator approved or
    restored it (its receivers act once per review: points are keyed on it)."""
    outbox.emit(session, PUBLISHED, {"review_id": review_id, "user_id": user_id})


def _leader_of(session: Session, review_id: int) -> int | None:
    review = session.get(Review, review_id)
    return review.leader_user_id if review is not None else None


MODERATION_TARGETS: dict[str, TargetHooks] = {
    "review": TargetHooks(locate=_locate, set_hidden=set_hidden, leader_of=_leader_of)
}


# ---------------------------------------------------------------- helpful likes

LIKED = "review.liked"  # the outbox's topic: a member found a review helpful (leaderboards)


@dataclass(frozen=True)
class Liked:
    review_id: int
    likes: int
    new: bool  # False: this member had already liked it


def like(session: Session, *, user_id: int, review_id: int) -> Liked:
    """Mark a published review helpful: once per member (the primary key; a second like
    changes nothing), never one's own (``cannot_like_own_review``). The counter moves in
    the same transaction, and the outbox tells of it (``review.liked``)."""
    review = get_visible(session, review_id, viewer_id=user_id)
    if review.status != ReviewStatus.PUBLISHED:
        raise errors.ReviewNotFound()
    if review.user_id == user_id:
        raise errors.CannotLikeOwnReview()
    now = clock.now()
    inserted = session.execute(
        upsert_insert(session)(ReviewLike)
        .values(review_id=review_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["review_id", "user_id"])
    ).rowcount  # type: ignore[attr-defined]
    if inserted:
        session.execute(
            update(Review)
            .where(Review.id == review_id)
            .values(likes=Review.likes + 1)
            .execution_options(synchronize_session=False)
        )
        outbox.emit(
            session,
            LIKED,
            {
                "review_id": review_id,
                "liker_id": user_id,
                "author_id": review.user_id,
                "community_id": review.community_id,
                "at": clock.iso(now),
            },
        )
    likes = session.scalar(select(Review.likes).where(Review.id == review_id)) or 0
    return Liked(review_id, int(likes), bool(inserted))


def liked_by(session: Session, user_id: int | None, review_ids: Sequence[int]) -> set[int]:
    """Which of these reviews the member has liked."""
    if user_id is None or not review_ids:
        return set()
    return set(
        session.scalars(
            select(ReviewLike.review_id).where(
                ReviewLike.user_id == user_id, ReviewLike.review_id.in_(list(review_ids))
            )
        )
    )


def supplier_stars(session: Session, supplier_id: int, *, since: datetime | None) -> dict[int, int]:
    """How many published reviews of each star a supplier's goods got (written since an
    instant): every review is a verified buyer's, of a completed order line."""
    query = select(Review.rating, func.count()).where(
        Review.supplier_id == supplier_id, Review.status == ReviewStatus.PUBLISHED
    )
    if since is not None:
        query = query.where(Review.created_at >= since)
    counts = dict.fromkeys(range(1, 6), 0)
    counts.update({int(r): int(n) for r, n in session.execute(query.group_by(Review.rating))})
    return counts
