"""Posts in a community (社群): experience and deal posts with photos, replies, likes, shares,
pins, the day's deal, the feeds and the posting rhythm.

* Only a community's members write, reply and like there; its members and the operators read.
* A post or reply whose text the registered screen matches is created ``held`` (seen by its
  author and moderators only) instead of ``published``; the moderation domain registers its
  checks (rules accepted, not muted) with :func:`register_post_check` and reaches posts and
  replies through :data:`MODERATION_TARGETS`. Nothing here imports it: the composition root
  connects them.
* Counters (likes, replies, shares) move by guarded increments in the transaction that inserts
  or deletes the row they count, so they equal the rows under any concurrency.
* The rhythm's caps (:mod:`tuangou.posts.rules`) are checked with the community's (deal posts,
  pins) or the author's (new-member gaps) writes serialized: an advisory transaction lock on
  PostgreSQL, the database's one writer on SQLite.
* The feeds page by an opaque cursor, a keyset on (created_at, id), newest first, never OFFSET.

Services flush, never commit (ENGINEERING.md rule 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock, outbox, paging
from tuangou.core.db import get_or_404, is_sqlite, upsert_insert
from tuangou.core.errors import DomainError, Forbidden, InvalidInput
from tuangou.photos import service as photos
from tuangou.pools import service as pools
from tuangou.posts import errors, rules
from tuangou.posts.models import DayDeal, Post, PostLike, PostReply, PostRhythm
from tuangou.posts.rules import PostKind, PostStatus
from tuangou.posts.settings import get_post_settings
from tuangou.teams import service as teams

REPLIED = "post.replied"  # the inbox's topic: someone replied to your post
PHOTO_OWNER = "post"

# ---------------------------------------------------------------- registries

PostCheck = Callable[..., None]  # (session, *, community_id, user_id, now) -> None or raise
TextScreen = Callable[[str], list[str]]  # text -> the matched terms (empty: publish)

OnHeld = Callable[[Session, str, int, list[str]], object]  # (session, kind, id, matched terms)

_post_checks: list[PostCheck] = []
_text_screens: list[TextScreen] = []
_on_held: list[OnHeld] = []


def register_post_check(fn: PostCheck) -> None:
    """A check every post and reply passes first: ``fn(session, *, community_id, user_id,
    now)`` raises a DomainError to refuse (rules not accepted, muted…)."""
    if fn not in _post_checks:
        _post_checks.append(fn)


def register_text_screen(fn: TextScreen) -> None:
    """A screen of a post's or reply's text: the terms it matched (any: the text is held for
    review instead of published)."""
    if fn not in _text_screens:
        _text_screens.append(fn)


def register_on_held(fn: OnHeld) -> None:
    """Told of each post or reply the screen held, in the transaction that created it
    (``fn(session, "post" | "reply", id, matched terms)``): the moderation queue."""
    if fn not in _on_held:
        _on_held.append(fn)


def _held(session: Session, kind: str, target_id: int, screened: str | None) -> None:
    if screened:
        for fn in list(_on_held):
            fn(session, kind, target_id, screened.split(", "))


def clear_registries() -> None:
    """For tests: no check, no screen."""
    _post_checks.clear()
    _text_screens.clear()
    _on_held.clear()


def _check(session: Session, community_id: int, user_id: int, now: datetime) -> None:
    for fn in list(_post_checks):
        fn(session, community_id=community_id, user_id=user_id, now=now)


def _screen(body: str) -> str | None:
    matched: list[str] = []
    for fn in list(_text_screens):
        matched.extend(fn(body))
    return ", ".join(dict.fromkeys(matched))[:200] if matched else None


# ---------------------------------------------------------------- helpers


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _text(value: str, *, field: str, max_len: int) -> str:
    try:
        return rules.clean_text(value, field=field, max_len=max_len)
    except rules.RuleViolation as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc


def _serialize(session: Session, namespace: int, key: int) -> None:
    """Writes under the same (namespace, key) take turns until the commit (PostgreSQL's
    advisory transaction lock; SQLite's writers already take turns)."""
    if not is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": namespace, "key": key}
        )


_LOCK_COMMUNITY = 0x7057  # deal posts and pins of a community
_LOCK_AUTHOR = 0x7058  # a new member's posts and replies


def _local(moment: datetime) -> datetime:
    return clock.to_local(moment)


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def get_post(session: Session, post_id: int) -> Post:
    return get_or_404(session, Post, post_id, errors.PostNotFound)


def _is_manager(session: Session, community_id: int, user_id: int) -> bool:
    try:
        communities.assert_can_manage(session, user_id, community_id)
    except DomainError:
        return False
    return True


@dataclass(frozen=True)
class Viewer:
    """Who reads: a member, or an operator (``operator``: reads every community, moderates
    every post; never a member or an author)."""

    user_id: int | None
    operator: bool = False


def _require_reader(session: Session, community_id: int, viewer: Viewer) -> None:
    """Members and operators read a community's posts; to anyone else it does not exist."""
    communities.get_community(session, community_id)
    if viewer.operator:
        return
    if viewer.user_id is None or not communities.is_member(session, community_id, viewer.user_id):
        raise community_errors.CommunityNotFound()


def _require_member(session: Session, community_id: int, user_id: int) -> Any:
    communities.get_community(session, community_id)
    found = communities.membership(session, community_id, user_id)
    if found is None:
        raise community_errors.NotAMember("you are not a member of this community")
    return found


def _may_see(session: Session, post: Post, viewer: Viewer) -> bool:
    if post.status == PostStatus.DELETED:
        return False
    if post.status == PostStatus.PUBLISHED or viewer.operator or viewer.user_id == post.author_id:
        return True
    return viewer.user_id is not None and _is_manager(session, post.community_id, viewer.user_id)


def visible_post(session: Session, post_id: int, viewer: Viewer) -> Post:
    """The post if the viewer may read it (a member of its community or an operator; held or
    hidden: its author and moderators only), else 404."""
    post = get_post(session, post_id)
    try:
        _require_reader(session, post.community_id, viewer)
    except community_errors.CommunityNotFound:
        raise errors.PostNotFound() from None
    if not _may_see(session, post, viewer):
        raise errors.PostNotFound()
    return post


# ---------------------------------------------------------------- the rhythm


@dataclass(frozen=True)
class RhythmView:
    community_id: int
    rhythm: rules.Rhythm
    bound: int
    limits: rules.NewMemberLimits
    custom: bool


def rhythm_of(session: Session, community_id: int) -> rules.Rhythm:
    row = session.get(PostRhythm, community_id)
    if row is None:
        return rules.Rhythm(deals_per_day=get_post_settings().deals_per_day_default)
    bound = get_post_settings().deals_per_day_bound
    return rules.Rhythm(
        deals_per_day=min(row.deals_per_day, bound),  # the operator's bound, if lowered since
        opens=rules.parse_hour(row.opens) if row.opens else None,
        closes=rules.parse_hour(row.closes) if row.closes else None,
    )


def _rhythm_view(session: Session, community_id: int) -> RhythmView:
    settings = get_post_settings()
    return RhythmView(
        community_id=community_id,
        rhythm=rhythm_of(session, community_id),
        bound=settings.deals_per_day_bound,
        limits=settings.limits(),
        custom=session.get(PostRhythm, community_id) is not None,
    )


def leader_rhythm(session: Session, user_id: int, community_id: int) -> RhythmView:
    communities.require_community_leader(session, user_id, community_id)
    return _rhythm_view(session, community_id)


def set_rhythm(
    session: Session,
    user_id: int,
    community_id: int,
    *,
    deals_per_day: int,
    opens: str | None,
    closes: str | None,
) -> RhythmView:
    """The community's leader sets its rhythm, within the operator's bound."""
    communities.require_community_leader(session, user_id, community_id)
    try:
        rhythm = rules.check_rhythm(
            rules.Rhythm(
                deals_per_day=deals_per_day,
                opens=rules.parse_hour(opens) if opens else None,
                closes=rules.parse_hour(closes) if closes else None,
            ),
            bound=get_post_settings().deals_per_day_bound,
        )
    except rules.RuleViolation as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    values = {
        "deals_per_day": rhythm.deals_per_day,
        "opens": rhythm.opens.strftime("%H:%M") if rhythm.opens else None,
        "closes": rhythm.closes.strftime("%H:%M") if rhythm.closes else None,
        "updated_by": user_id,
        "updated_at": clock.now(),
    }
    stmt = upsert_insert(session)(PostRhythm).values(community_id=community_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["community_id"], set_=values))
    session.expire_all()
    return _rhythm_view(session, community_id)


def _refuse(wait: rules.Wait, now_local: datetime, what: str) -> errors.RhythmLimited:
    when = wait.until.strftime("%H:%M")
    if wait.until.date() != now_local.date():
        when = wait.until.strftime("%Y-%m-%d %H:%M")
    reasons = {
        rules.WaitReason.DEAL_CAP: "this community's deal posts for today are used up",
        rules.WaitReason.HOURS: "this community is outside its posting hours",
        rules.WaitReason.POST_GAP: "new members post at most once every few minutes",
        rules.WaitReason.REPLY_GAP: "new members reply at most once every half minute",
        rules.WaitReason.FIRST_DAY_REPLIES: "new members' replies for their first day are used up",
    }
    return errors.RhythmLimited(
        f"{reasons[wait.reason]}; you may {what} again at {when}",
        retry_after=wait.seconds(now_local),
        retry_at=clock.iso(_utc(wait.until)),
        reason=str(wait.reason),
    )


def _joined_if_new(membership: Any) -> datetime | None:
    """When a plain member joined (local); None for the leader and admins, never slowed."""
    if membership.role != "member":
        return None
    return _local(membership.joined_at)


def _check_post_rhythm(
    session: Session, community_id: int, membership: Any, *, deal: bool, now: datetime
) -> None:
    now_local = _local(now)
    rhythm = rhythm_of(session, community_id)
    limits = get_post_settings().limits()
    joined = _joined_if_new(membership)
    new = rules.is_new(now_local, joined, limits)
    if deal:
        _serialize(session, _LOCK_COMMUNITY, community_id)
    if new:
        _serialize(session, _LOCK_AUTHOR, membership.user_id)
    deals_today = 0
    if deal:
        start = clock.local_midnight(now_local.date())
        deals_today = int(
            session.scalar(
                select(func.count())
                .select_from(Post)
                .where(
                    Post.community_id == community_id,
                    Post.kind == PostKind.DEAL,
                    Post.created_at >= start,
                    Post.status.in_([PostStatus.PUBLISHED, PostStatus.HELD, PostStatus.HIDDEN]),
                )
            )
            or 0
        )
    last = None
    if new:
        last = session.scalar(
            select(func.max(Post.created_at)).where(
                Post.author_id == membership.user_id, Post.community_id == community_id
            )
        )
    wait = rules.post_wait(
        now_local,
        rhythm,
        limits,
        deal=deal,
        deals_today=deals_today,
        joined_at=joined,
        last_post_at=_local(last) if last else None,
    )
    if wait is not None:
        raise _refuse(wait, now_local, "post")


def _check_reply_rhythm(
    session: Session, community_id: int, membership: Any, *, now: datetime
) -> None:
    now_local = _local(now)
    rhythm = rhythm_of(session, community_id)
    limits = get_post_settings().limits()
    joined = _joined_if_new(membership)
    last, since = None, 0
    if rules.is_new(now_local, joined, limits):
        _serialize(session, _LOCK_AUTHOR, membership.user_id)
        last, since = session.execute(
            select(func.max(PostReply.created_at), func.count()).where(
                PostReply.author_id == membership.user_id,
                PostReply.community_id == community_id,
                PostReply.created_at >= membership.joined_at,
            )
        ).one()
    wait = rules.reply_wait(
        now_local,
        rhythm,
        limits,
        joined_at=joined,
        last_reply_at=_local(last) if last else None,
        replies_since_joining=int(since or 0),
    )
    if wait is not None:
        raise _refuse(wait, now_local, "reply")


# ---------------------------------------------------------------- posts


def _check_deal(
    session: Session, community_id: int, campaign_id: int | None, listing_id: int | None
) -> None:
    if campaign_id is not None and listing_id is not None:
        raise InvalidInput("link a campaign or a wave, not both", field="campaign_id")
    try:
        if campaign_id is not None and not teams.is_live(teams.get_campaign(session, campaign_id)):
            raise errors.DealNotVisible("this campaign is not open")
        if (
            listing_id is not None
            and pools.get_listing(session, listing_id).community_id != community_id
        ):
            raise errors.DealNotVisible("this wave is not listed in this community")
    except errors.DealNotVisible:
        raise
    except DomainError as exc:
        raise errors.DealNotVisible() from exc


def create_post(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    body: str,
    photo_ids: Sequence[str] = (),
    campaign_id: int | None = None,
    listing_id: int | None = None,
) -> Post:
    """A member's post: published, or held if the text screen matched. Refusals: not a
    member (``not_a_member``), the moderation checks, a deal not open to the community
    (``deal_not_visible``), the rhythm (``rhythm_limited``, with ``retry_after``)."""
    now = clock.now()
    membership = _require_member(session, community_id, user_id)
    cleaned = _text(body, field="text", max_len=rules.TEXT_MAX)
    if len(photo_ids) > rules.PHOTOS_MAX:
        raise InvalidInput(f"at most {rules.PHOTOS_MAX} photos", field="photo_ids")
    _check_deal(session, community_id, campaign_id, listing_id)
    deal = campaign_id is not None or listing_id is not None
    _check(session, community_id, user_id, now)
    _check_post_rhythm(session, community_id, membership, deal=deal, now=now)
    screened = _screen(cleaned)
    post = Post(
        community_id=community_id,
        author_id=user_id,
        kind=PostKind.DEAL if deal else PostKind.EXPERIENCE,
        text=cleaned,
        campaign_id=campaign_id,
        listing_id=listing_id,
        status=PostStatus.HELD if screened else PostStatus.PUBLISHED,
        screened=screened,
        created_at=now,
    )
    session.add(post)
    session.flush()
    _held(session, "post", post.id, screened)
    if photo_ids:
        photos.attach(
            session,
            user_id=user_id,
            photo_ids=list(photo_ids),
            owner_kind=PHOTO_OWNER,
            owner_id=post.id,
            max_count=rules.PHOTOS_MAX,
        )
    return post


def delete_post(session: Session, user_id: int, post_id: int) -> Post:
    """The author deletes their post (it leaves every feed; deleting again changes nothing)."""
    post = get_post(session, post_id)
    if post.author_id != user_id:
        if not communities.is_member(session, post.community_id, user_id):
            raise errors.PostNotFound()
        raise errors.NotYourPost()
    session.execute(
        update(Post)
        .where(Post.id == post_id, Post.status != PostStatus.DELETED)
        .values(status=PostStatus.DELETED, deleted_at=clock.now(), pinned_at=None)
    )
    session.refresh(post)
    return post


# ---------------------------------------------------------------- replies


def add_reply(
    session: Session,
    *,
    user_id: int,
    post_id: int,
    body: str,
    reply_to_id: int | None = None,
) -> PostReply:
    """A member's reply on a published post (``reply_to_id``: the reply it answers, on the same
    post). The post's author hears of it (not of their own replies)."""
    now = clock.now()
    post = visible_post(session, post_id, Viewer(user_id))
    membership = _require_member(session, post.community_id, user_id)
    if post.status != PostStatus.PUBLISHED:
        raise errors.PostNotPublished()
    cleaned = _text(body, field="text", max_len=rules.REPLY_MAX)
    if reply_to_id is not None:
        answered = session.get(PostReply, reply_to_id)
        if answered is None or answered.post_id != post_id:
            raise errors.ReplyNotFound()
    _check(session, post.community_id, user_id, now)
    _check_reply_rhythm(session, post.community_id, membership, now=now)
    screened = _screen(cleaned)
    reply = PostReply(
        post_id=post_id,
        community_id=post.community_id,
        author_id=user_id,
        reply_to_id=reply_to_id,
        text=cleaned,
        status=PostStatus.HELD if screened else PostStatus.PUBLISHED,
        screened=screened,
        created_at=now,
    )
    session.add(reply)
    session.flush()
    _held(session, "reply", reply.id, screened)
    if reply.status == PostStatus.PUBLISHED:
        _published_reply(session, reply, post)
    return reply


def _published_reply(session: Session, reply: PostReply, post: Post) -> None:
    session.execute(update(Post).where(Post.id == post.id).values(reply_count=Post.reply_count + 1))
    if reply.author_id != post.author_id:
        name = accounts.masked_names(session, [reply.author_id]).get(reply.author_id, "")
        outbox.emit(
            session,
            REPLIED,
            {
                "user_ids": [post.author_id],
                "post_id": post.id,
                "reply_id": reply.id,
                "community_id": post.community_id,
                "replier": name,
                "excerpt": rules.excerpt(reply.text, 40),
            },
        )


@dataclass(frozen=True)
class ReplyView:
    reply: PostReply
    author: str
    mine: bool


@dataclass(frozen=True)
class ReplyPage:
    items: list[ReplyView]
    next_cursor: str | None


def reply_view(session: Session, reply: PostReply, viewer_id: int | None) -> ReplyView:
    name = accounts.masked_names(session, [reply.author_id]).get(reply.author_id, "")
    return ReplyView(reply, name, reply.author_id == viewer_id)


def _keyset_after(created: Any, ident: Any, cursor: str | None, *, newest_first: bool) -> Any:
    if not cursor:
        return None
    at, last = paging.decode(cursor, datetime, int)
    return paging.after([created, ident], [at, last], descending=newest_first)


def replies(
    session: Session, post_id: int, viewer: Viewer, *, cursor: str | None = None, limit: int = 50
) -> ReplyPage:
    """A post's replies, oldest first (a conversation), paged by cursor. Held and hidden
    replies: their author and moderators only."""
    post = visible_post(session, post_id, viewer)
    moderator = viewer.operator or (
        viewer.user_id is not None and _is_manager(session, post.community_id, viewer.user_id)
    )
    query = select(PostReply).where(PostReply.post_id == post_id)
    if not moderator:
        query = query.where(
            or_(PostReply.status == PostStatus.PUBLISHED, PostReply.author_id == viewer.user_id)
        )
    query = query.where(PostReply.status != PostStatus.DELETED)
    after = _keyset_after(PostReply.created_at, PostReply.id, cursor, newest_first=False)
    if after is not None:
        query = query.where(after)
    rows = list(
        session.scalars(query.order_by(PostReply.created_at, PostReply.id).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    names = accounts.masked_names(session, [r.author_id for r in rows])
    items = [ReplyView(r, names.get(r.author_id, ""), r.author_id == viewer.user_id) for r in rows]
    last = rows[-1] if rows else None
    return ReplyPage(items, paging.encode(last.created_at, last.id) if more and last else None)


# ---------------------------------------------------------------- likes and shares


def _published_for_member(session: Session, post_id: int, user_id: int) -> Post:
    post = visible_post(session, post_id, Viewer(user_id))
    _require_member(session, post.community_id, user_id)
    if post.status != PostStatus.PUBLISHED:
        raise errors.PostNotPublished()
    return post


def like(session: Session, user_id: int, post_id: int) -> Post:
    """Like a post; liking again changes nothing. The count moves with the row."""
    post = _published_for_member(session, post_id, user_id)
    inserted = _rowcount(
        session.execute(
            upsert_insert(session)(PostLike)
            .values(post_id=post_id, user_id=user_id, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["post_id", "user_id"])
        )
    )
    if inserted:
        session.execute(
            update(Post).where(Post.id == post_id).values(like_count=Post.like_count + 1)
        )
    session.refresh(post)
    return post


def unlike(session: Session, user_id: int, post_id: int) -> Post:
    """Take a like back; unliking a post not liked changes nothing."""
    post = visible_post(session, post_id, Viewer(user_id))
    _require_member(session, post.community_id, user_id)
    removed = _rowcount(
        session.execute(
            delete(PostLike).where(PostLike.post_id == post_id, PostLike.user_id == user_id)
        )
    )
    if removed:
        session.execute(
            update(Post)
            .where(Post.id == post_id, Post.like_count > 0)
            .values(like_count=Post.like_count - 1)
        )
    session.refresh(post)
    return post


def liked(session: Session, user_id: int | None, post_ids: list[int]) -> set[int]:
    if user_id is None or not post_ids:
        return set()
    return set(
        session.scalars(
            select(PostLike.post_id).where(
                PostLike.user_id == user_id, PostLike.post_id.in_(post_ids)
            )
        )
    )


def share(session: Session, user_id: int, post_id: int) -> Post:
    """Count a share of a published post (the link and text are the caller's to send)."""
    post = _published_for_member(session, post_id, user_id)
    session.execute(update(Post).where(Post.id == post_id).values(share_count=Post.share_count + 1))
    session.refresh(post)
    return post


# ---------------------------------------------------------------- pins and the day's deal


def _require_moderator(session: Session, community_id: int, viewer: Viewer) -> None:
    if viewer.operator:
        return
    if viewer.user_id is None:
        raise Forbidden()
    if not communities.is_member(session, community_id, viewer.user_id):
        raise errors.PostNotFound()
    if not _is_manager(session, community_id, viewer.user_id):
        raise errors.NotPostManager()


def pin(session: Session, viewer: Viewer, post_id: int, *, pinned: bool) -> Post:
    """The community's leader or an admin (or an operator) pins or unpins a published post;
    at most :data:`rules.PINS_MAX` pinned per community (``pin_limit``)."""
    post = get_post(session, post_id)
    _require_moderator(session, post.community_id, viewer)
    if post.status == PostStatus.DELETED:
        raise errors.PostNotFound()
    if not pinned:
        session.execute(update(Post).where(Post.id == post_id).values(pinned_at=None))
        session.refresh(post)
        return post
    if post.status != PostStatus.PUBLISHED:
        raise errors.PostNotPublished()
    if post.pinned_at is not None:
        return post
    _serialize(session, _LOCK_COMMUNITY, post.community_id)
    count = session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.community_id == post.community_id, Post.pinned_at.is_not(None))
    )
    if int(count or 0) >= rules.PINS_MAX:
        raise errors.PinLimit()
    session.execute(
        update(Post)
        .where(Post.id == post_id, Post.pinned_at.is_(None))
        .values(pinned_at=clock.now())
    )
    session.refresh(post)
    return post


def mark_day_deal(session: Session, viewer: Viewer, post_id: int) -> Post:
    """Mark a published deal post as its community's deal of the day (今日推荐, the deployment's
    day); a new mark replaces the day's old one."""
    post = get_post(session, post_id)
    _require_moderator(session, post.community_id, viewer)
    if post.status == PostStatus.DELETED:
        raise errors.PostNotFound()
    if post.status != PostStatus.PUBLISHED:
        raise errors.PostNotPublished()
    if post.kind != PostKind.DEAL:
        raise errors.NotADealPost()
    if viewer.user_id is None:
        raise Forbidden()
    now = clock.now()
    values = {"post_id": post_id, "marked_by": viewer.user_id, "marked_at": now}
    stmt = upsert_insert(session)(DayDeal).values(
        community_id=post.community_id, day=clock.local_date(now), **values
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["community_id", "day"], set_=values))
    return post


def day_deals(session: Session, community_ids: list[int]) -> dict[int, int]:
    """community -> today's deal post."""
    if not community_ids:
        return {}
    rows = session.execute(
        select(DayDeal.community_id, DayDeal.post_id).where(
            DayDeal.community_id.in_(set(community_ids)),
            DayDeal.day == clock.local_date(clock.now()),
        )
    )
    return {int(c): int(p) for c, p in rows}


# ---------------------------------------------------------------- feeds


@dataclass(frozen=True)
class DealView:
    kind: str  # campaign | wave
    id: int
    title: str
    price: int  # fen: the group price (a campaign's best tier, a wave's lowest item)
    status: str  # open | closed
    url: str


@dataclass(frozen=True)
class PhotoView:
    id: str
    url: str
    thumb_url: str
    width: int
    height: int


@dataclass
class PostView:
    post: Post
    author: str
    community: str
    photos: list[PhotoView] = field(default_factory=list)
    deal: DealView | None = None
    liked_by_me: bool = False
    todays_deal: bool = False
    mine: bool = False


@dataclass(frozen=True)
class FeedPage:
    pinned: list[PostView]
    items: list[PostView]
    next_cursor: str | None


def _deal(session: Session, post: Post) -> DealView | None:
    now = clock.now()
    try:
        if post.campaign_id is not None:
            campaign = teams.get_campaign(session, post.campaign_id)
            prices = [int(p) for _, p in campaign.tiers] or [campaign.single_price]
            return DealView(
                "campaign",
                campaign.id,
                campaign.title,
                min(prices),
                "open" if teams.is_live(campaign, now) else "closed",
                f"/c/{campaign.id}",
            )
        if post.listing_id is not None:
            listing = pools.get_listing(session, post.listing_id)
            wave = pools.get_wave(session, listing.wave_id)
            items = pools.items_of(session, wave.id)
            is_open = wave.status == pools.WaveStatus.OPEN and wave.cutoff_at > now
            return DealView(
                "wave",
                listing.id,
                wave.title,
                min((i.price for i in items), default=0),
                "open" if is_open else "closed",
                f"/w/{listing.id}",
            )
    except DomainError:
        return None
    return None


def photos_of(session: Session, post_ids: list[int]) -> dict[int, list[PhotoView]]:
    if not post_ids:
        return {}
    found = photos.photos_of(session, PHOTO_OWNER, post_ids)
    return {
        pid: [PhotoView(p.id, p.url, p.thumb_url, p.width, p.height) for p in shown]
        for pid, shown in found.items()
    }


def views(session: Session, posts: list[Post], viewer: Viewer) -> list[PostView]:
    if not posts:
        return []
    ids = [p.id for p in posts]
    names = accounts.masked_names(session, [p.author_id for p in posts])
    community_names = {
        cid: communities.get_community(session, cid).name for cid in {p.community_id for p in posts}
    }
    pictures = photos_of(session, ids)
    likes = liked(session, viewer.user_id, ids)
    today = day_deals(session, list(community_names))
    return [
        PostView(
            post=p,
            author=names.get(p.author_id, ""),
            community=community_names[p.community_id],
            photos=pictures.get(p.id, []),
            deal=_deal(session, p) if p.kind == PostKind.DEAL else None,
            liked_by_me=p.id in likes,
            todays_deal=today.get(p.community_id) == p.id,
            mine=p.author_id == viewer.user_id,
        )
        for p in posts
    ]


def _visible_to(viewer: Viewer) -> Any:
    """Published posts, and the viewer's own held or hidden ones (never a deleted one)."""
    if viewer.user_id is None:
        return Post.status == PostStatus.PUBLISHED
    return or_(
        Post.status == PostStatus.PUBLISHED,
        and_(Post.author_id == viewer.user_id, Post.status != PostStatus.DELETED),
    )


def _page(
    session: Session, query: Any, cursor: str | None, limit: int
) -> tuple[list[Post], str | None]:
    after = _keyset_after(Post.created_at, Post.id, cursor, newest_first=True)
    if after is not None:
        query = query.where(after)
    rows = list(
        session.scalars(query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (paging.encode(rows[-1].created_at, rows[-1].id) if more else None)


def community_feed(
    session: Session,
    community_id: int,
    viewer: Viewer,
    *,
    cursor: str | None = None,
    limit: int = rules.PAGE_SIZE,
) -> FeedPage:
    """A community's feed, newest first; its pinned posts on top of the first page (and not
    again below them)."""
    _require_reader(session, community_id, viewer)
    pinned: list[Post] = []
    if not cursor:
        pinned = list(
            session.scalars(
                select(Post)
                .where(
                    Post.community_id == community_id,
                    Post.pinned_at.is_not(None),
                    Post.status == PostStatus.PUBLISHED,
                )
                .order_by(Post.pinned_at.desc(), Post.id.desc())
                .limit(rules.PINS_MAX)
            )
        )
    query = select(Post).where(
        Post.community_id == community_id,
        _visible_to(viewer),
        or_(Post.pinned_at.is_(None), Post.status != PostStatus.PUBLISHED),
    )
    rows, next_cursor = _page(session, query, cursor, limit)
    both = views(session, pinned + rows, viewer)
    return FeedPage(both[: len(pinned)], both[len(pinned) :], next_cursor)


def home_feed(
    session: Session, user_id: int, *, cursor: str | None = None, limit: int = rules.PAGE_SIZE
) -> FeedPage:
    """A member's home feed: the posts of all their communities, newest first (a pinned post
    stays in its place, marked)."""
    ids = [c.id for c in communities.communities_of(session, user_id)]
    if not ids:
        return FeedPage([], [], None)
    viewer = Viewer(user_id)
    query = select(Post).where(Post.community_id.in_(ids), _visible_to(viewer))
    rows, next_cursor = _page(session, query, cursor, limit)
    return FeedPage([], views(session, rows, viewer), next_cursor)


def post_view(session: Session, post_id: int, viewer: Viewer) -> PostView:
    return views(session, [visible_post(session, post_id, viewer)], viewer)[0]


def deal_choices(session: Session, community_id: int) -> list[DealView]:
    """What a deal post may link in this community: its open waves, the live campaigns."""
    found = [
        DealView(
            "wave",
            listing.id,
            wave.title,
            min((i.price for i in pools.items_of(session, wave.id)), default=0),
            "open",
            f"/w/{listing.id}",
        )
        for listing, wave in pools.listings_of_community(session, community_id, open_only=True)
    ]
    for campaign in teams.list_campaigns(session, live_only=True)[:50]:
        prices = [int(p) for _, p in campaign.tiers] or [campaign.single_price]
        found.append(
            DealView(
                "campaign", campaign.id, campaign.title, min(prices), "open", f"/c/{campaign.id}"
            )
        )
    return found


def can_moderate(session: Session, community_id: int, viewer: Viewer) -> bool:
    return viewer.operator or (
        viewer.user_id is not None and _is_manager(session, community_id, viewer.user_id)
    )


# ---------------------------------------------------------------- moderation's view


@dataclass(frozen=True)
class TargetInfo:
    """What the moderation domain needs of a post or reply (its own ``TargetInfo`` has the
    same fields; the composition root passes these through)."""

    community_id: int | None
    author_id: int
    excerpt: str
    hidden: bool
    link: str


@dataclass(frozen=True)
class TargetHooks:
    locate: Callable[[Session, int], TargetInfo | None]
    set_hidden: Callable[[Session, int, bool], None]
    leader_of: Callable[[Session, int], int | None]


def _locate_post(session: Session, post_id: int) -> TargetInfo | None:
    post = session.get(Post, post_id)
    if post is None or post.status == PostStatus.DELETED:
        return None
    return TargetInfo(
        community_id=post.community_id,
        author_id=post.author_id,
        excerpt=rules.excerpt(post.text),
        hidden=post.status == PostStatus.HIDDEN,
        link=f"/posts/{post.id}",
    )


def _hide_post(session: Session, post_id: int, hidden: bool) -> None:
    """Hide (from published or held) or restore (to published) a post; a deleted one stays."""
    if hidden:
        session.execute(
            update(Post)
            .where(Post.id == post_id, Post.status.in_([PostStatus.PUBLISHED, PostStatus.HELD]))
            .values(status=PostStatus.HIDDEN, pinned_at=None)
        )
    else:
        session.execute(
            update(Post)
            .where(Post.id == post_id, Post.status.in_([PostStatus.HIDDEN, PostStatus.HELD]))
            .values(status=PostStatus.PUBLISHED)
        )
    session.expire_all()


def _community_leader(session: Session, community_id: int | None) -> int | None:
    if community_id is None:
        return None
    community = communities.get_community(session, community_id)
    return communities.get_leader(session, community.leader_id).user_id


def _post_leader(session: Session, post_id: int) -> int | None:
    post = session.get(Post, post_id)
    return None if post is None else _community_leader(session, post.community_id)


def _locate_reply(session: Session, reply_id: int) -> TargetInfo | None:
    reply = session.get(PostReply, reply_id)
    if reply is None or reply.status == PostStatus.DELETED:
        return None
    return TargetInfo(
        community_id=reply.community_id,
        author_id=reply.author_id,
        excerpt=rules.excerpt(reply.text),
        hidden=reply.status == PostStatus.HIDDEN,
        link=f"/posts/{reply.post_id}#r-{reply.id}",
    )


def _hide_reply(session: Session, reply_id: int, hidden: bool) -> None:
    """Hide or restore a reply; the post's reply count follows the published replies."""
    reply = session.get(PostReply, reply_id)
    if reply is None:
        return
    was = reply.status
    if hidden:
        moved = _rowcount(
            session.execute(
                update(PostReply)
                .where(
                    PostReply.id == reply_id,
                    PostReply.status.in_([PostStatus.PUBLISHED, PostStatus.HELD]),
                )
                .values(status=PostStatus.HIDDEN)
            )
        )
        if moved and was == PostStatus.PUBLISHED:
            session.execute(
                update(Post)
                .where(Post.id == reply.post_id, Post.reply_count > 0)
                .values(reply_count=Post.reply_count - 1)
            )
    else:
        moved = _rowcount(
            session.execute(
                update(PostReply)
                .where(
                    PostReply.id == reply_id,
                    PostReply.status.in_([PostStatus.HIDDEN, PostStatus.HELD]),
                )
                .values(status=PostStatus.PUBLISHED)
            )
        )
        if moved:
            post = get_post(session, reply.post_id)
            session.refresh(reply)
            if was == PostStatus.HELD:
                _published_reply(session, reply, post)
            else:
                session.execute(
                    update(Post)
                    .where(Post.id == reply.post_id)
                    .values(reply_count=Post.reply_count + 1)
                )
    session.expire_all()


def _reply_leader(session: Session, reply_id: int) -> int | None:
    reply = session.get(PostReply, reply_id)
    return None if reply is None else _community_leader(session, reply.community_id)


MODERATION_TARGETS: dict[str, TargetHooks] = {
    "post": TargetHooks(locate=_locate_post, set_hidden=_hide_post, leader_of=_post_leader),
    "reply": TargetHooks(locate=_locate_reply, set_hidden=_hide_reply, leader_of=_reply_leader),
}


def photo_visible(session: Session, viewer_id: int | None, post_id: int) -> bool:
    """A post's photos: for the members of its community and the operators (as its text),
    registered with the photos domain by the composition root."""
    post = session.get(Post, post_id)
    if post is None or viewer_id is None:
        return False
    user = accounts.get_user(session, viewer_id)
    viewer = Viewer(viewer_id, operator=user.role == "operator")
    try:
        visible_post(session, post_id, viewer)
    except DomainError:
        return False
    return True


# ---------------------------------------------------------------- what a community says


@dataclass(frozen=True)
class CommunityText:
    """One published text of a community, for readers that mine what members ask for."""

    kind: str  # post | reply
    id: int
    post_id: int
    author_id: int
    text: str
    created_at: datetime


def texts_between(
    session: Session, community_id: int, start: datetime, end: datetime, *, limit: int = 2000
) -> list[CommunityText]:
    """The community's published posts and replies written in ``[start, end)``, newest first,
    at most ``limit`` of each (held, hidden and deleted ones are not what the community said)."""
    found: list[CommunityText] = []
    posts = session.scalars(
        select(Post)
        .where(
            Post.community_id == community_id,
            Post.status == PostStatus.PUBLISHED,
            Post.created_at >= start,
            Post.created_at < end,
        )
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    for p in posts:
        found.append(CommunityText("post", p.id, p.id, p.author_id, p.text, p.created_at))
    replies = session.scalars(
        select(PostReply)
        .where(
            PostReply.community_id == community_id,
            PostReply.status == PostStatus.PUBLISHED,
            PostReply.created_at >= start,
            PostReply.created_at < end,
        )
        .order_by(PostReply.created_at.desc(), PostReply.id.desc())
        .limit(limit)
    )
    for r in replies:
        found.append(CommunityText("reply", r.id, r.post_id, r.author_id, r.text, r.created_at))
    return found
