"""The composition root: the one place where the domains are put together.

Every entry point (the app, the worker, each CLI command, the migrations, the tests and the
benchmarks) calls :func:`compose` before it touches the database, so each of them sees the
same whole: every table in the metadata (so that foreign keys across domains resolve), every
kind of order with its hooks, every outbox handler. Nothing registers itself as a side effect
of being imported.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

_composed = False
_lock = threading.Lock()


def compose() -> None:
    """Import every model, register the kinds of order and the outbox handlers. Idempotent."""
    global _composed
    if _composed:
        return
    with _lock:
        if _composed:
            return
        _load_models()
        _register()
        _composed = True


def load_application() -> None:
    """:func:`compose`, and import every module of the API and the pages (hence every router
    and every error class): for what walks them all, such as the table of error codes."""
    compose()
    import tuangou.api.app  # noqa: F401
    from tuangou.web.pages import (  # noqa: F401
        achievements,
        auth,
        bargains,
        cocreate,
        events,
        flash,
        journal,
        leader,
        leaderboards,
        member,
        moderation,
        operator,
        posts,
        referral,
        reviews,
        risk,
        teambuy,
    )


def _load_models() -> None:
    """Every table, so that the metadata (and Alembic) sees the whole schema."""
    import tuangou.accounts.models
    import tuangou.achievements.models
    import tuangou.aftersales.models
    import tuangou.bargains.models
    import tuangou.catalog.models
    import tuangou.cocreate.models
    import tuangou.commission.models
    import tuangou.communities.models
    import tuangou.core.models
    import tuangou.coupons.models
    import tuangou.events.models
    import tuangou.flashsales.models
    import tuangou.fulfilment.models
    import tuangou.journal.models
    import tuangou.leaderboards.models
    import tuangou.ledger.models
    import tuangou.moderation.models
    import tuangou.notifications.models
    import tuangou.orders.models
    import tuangou.payments.models
    import tuangou.photos.models
    import tuangou.points.models
    import tuangou.pools.models
    import tuangou.posts.models
    import tuangou.quality.models
    import tuangou.recommend.models
    import tuangou.referral.models
    import tuangou.reviews.models
    import tuangou.risk.models
    import tuangou.search.models
    import tuangou.simulate.models  # the what-if simulator's stored runs (an entry point's)
    import tuangou.teams.models
    import tuangou.webhooks.models  # noqa: F401


def _register() -> None:
    from tuangou.bargains import service as bargains
    from tuangou.cocreate import service as cocreate
    from tuangou.core import outbox
    from tuangou.credit import service as credit
    from tuangou.events import service as events
    from tuangou.flashsales import service as flash
    from tuangou.notifications import service as notifications
    from tuangou.orders import service as orders
    from tuangou.payments import tasks as payment_tasks
    from tuangou.photos import service as photos
    from tuangou.pools import service as pools
    from tuangou.risk import service as risk
    from tuangou.teams import service as teams

    # Kinds of order (DOMAIN.md §1, §2): what a payment, a release or a delivery does.
    orders.register_kind("team", teams.KIND)
    orders.register_kind("wave", pools.KIND)
    orders.register_kind(flash.KIND_NAME, flash.KIND)
    orders.register_kind(bargains.KIND_NAME, bargains.KIND)
    orders.register_kind(events.KIND_NAME, events.KIND)

    # Conditions across domains: a leader below the credit threshold publishes no wave.
    pools.register_leader_check("credit", credit.require_good_standing)
    # Co-creation: a proposal's wave is its voters' alone during its early window; a
    # proposal's photo is seen by its community. (Reviews of its wave, once that domain is
    # here: cocreate.register_review_summary(<reviews' summary of a wave>).)
    pools.register_opening("cocreate", cocreate.opening)
    pools.register_early_access("cocreate", cocreate.early_access)
    # ... and a level's early hours open such a wave to its members that much sooner.
    from tuangou.points import service as levels

    pools.register_early_access("level", levels.early_access)
    photos.register_visibility(cocreate.PHOTO_KIND, cocreate.photo_visible)

    # The risk engine judges the entry points' signups, logins, joins, orders and invites.
    from tuangou.api import deps

    deps.register_risk_gate(deps.RiskGate(judge=risk.gate, bind=risk.bind_actor))
    # ... and each friend's cut of a bargain; a confirmed ring's helps are voided.
    bargains.register_help_check(risk.help_check)
    risk.register_on_confirmed(_void_ring_helps)

    # Referral: a new member's invite code binds them at sign-up; the referrers' shares are
    # taken at every release and given back by every after-sale reversal; their wallets are
    # paid out through the leaders' withdrawal flow.
    from tuangou.accounts import service as accounts
    from tuangou.commission import service as commission
    from tuangou.referral import service as referral

    accounts.register_signup_hook(referral.bind_at_signup)
    orders.register_release_share(referral.release_share)
    commission.register_reversal_share(referral.reversal_share)
    commission.register_wallet_kind(referral.WALLET_KIND, referral.WALLET_HOOKS)

    # Outbox handlers (invariant 7): each receives its topics' events at least once.
    outbox.register(notifications.TOPICS, notifications.deliver)
    outbox.register(["refund.created"], payment_tasks.send_refund)
    outbox.register(["order.cancelled"], payment_tasks.expire_payments)

    # Points: a counted help on a bargain earns the helper points (capped per day); an
    # invitee's first completed order earns their inviter (referral's binding) points.
    from tuangou.points import service as points

    bargains.register_on_helped(points.on_bargain_help)
    risk.register_on_confirmed(points.reverse_help_awards)  # ... and a ring loses them
    outbox.register(["order.completed"], _points_on_order_completed)
    points.register_inviter_lookup(referral.inviter_of)
    # ... a published review and an event attended earn their author and attendee points.
    outbox.register(["review.published"], _points_on_review)
    outbox.register(["event.attended"], _points_on_event)
    # Tasks and achievements count the actions behind every award (in the award's
    # transaction) and the buyer's completed orders.
    from tuangou.achievements import service as achievements

    points.register_on_award(achievements.on_award)
    outbox.register(["order.completed"], _achievements_on_order_completed)

    # Nearby (附近): communities finds the pickup points; pools says which waves are open there.
    from tuangou.communities import service as communities

    communities.register_open_waves("pools", pools.open_waves_at)

    _register_posts()
    _register_reviews()
    _register_leaderboards()
    _register_metrics()

    # Outgoing webhooks: every topic the platform emits may reach an operator's endpoint.
    from tuangou.webhooks import service as webhooks

    outbox.register(webhooks.TOPICS, webhooks.enqueue)
    # Coupons and the level discount: the one path of every kind's checkout and refunds.
    from tuangou.coupons import service as coupons

    orders.register_discounter(coupons.DISCOUNTER)
    # Message channels: log-in codes go through the SMS provider the channels configure.
    from tuangou.accounts import sms as account_sms

    account_sms.register_code_provider(notifications.send_login_code)
    # The verifiable record: every money transfer, points transfer and friend's help is
    # appended in the transaction that writes it, numbered just before that commit.
    from tuangou.journal import service as journal
    from tuangou.ledger import service as ledger

    journal.install()
    ledger.register_on_transfer(journal.on_ledger_transfer, journal.on_ledger_transfers)
    points.register_on_transfer(journal.on_points_transfer)
    bargains.register_on_helped(journal.on_bargain_help)
    _register_privacy()


def _register_privacy() -> None:
    """Privacy: each domain's data for the export, what blocks a deletion, what each domain
    erases, the retention of raw data; and an account being deleted takes no new order."""
    from tuangou.accounts import service as accounts
    from tuangou.notifications import service as notifications
    from tuangou.orders import service as orders
    from tuangou.photos import service as photos
    from tuangou.privacy import catalogue
    from tuangou.privacy import service as privacy
    from tuangou.risk import service as risk

    orders.register_buyer_check(accounts.require_open_account)
    privacy.register_exporter("accounts", accounts.profile_export)
    privacy.register_exporter("photos", photos.export_rows)
    for domain in catalogue.EXPORTS:
        privacy.register_exporter(domain, catalogue.exporter(domain))
    privacy.register_files("photos", photos.export_files)
    privacy.register_files("aftersale_photos", catalogue.aftersale_photo_files)
    for name, check in catalogue.BLOCKERS.items():
        privacy.register_blocker(name, check)
    privacy.register_eraser("photos", photos.erase_member)
    privacy.register_eraser("risk", risk.forget_member_phone)
    privacy.register_eraser("notifications", notifications.erase_member)
    privacy.register_file_deleter(photos.delete_files)
    privacy.register_purger("codes", accounts.purge_codes)
    privacy.register_purger("sessions", accounts.purge_sessions)
    privacy.register_purger("risk", risk.forget_raw_signals)


def _register_posts() -> None:
    """Posts: their photos are seen by the post's readers; a post or reply passes the
    community's rules and mutes, its text the filter (held for the queue when it matches);
    reports and moderators hide and restore it."""
    from tuangou.moderation import service as moderation
    from tuangou.photos import service as photos
    from tuangou.posts import service as posts

    photos.register_visibility(posts.PHOTO_OWNER, posts.photo_visible)
    posts.register_post_check(moderation.check_may_post)
    posts.register_text_screen(moderation.screen_text)
    posts.register_on_held(moderation.record_held)
    for kind, hooks in posts.MODERATION_TARGETS.items():
        moderation.register_target(kind, hooks)


def _register_reviews() -> None:
    """Reviews (晒单): who sees a review's photos; the text filter holds a review for the
    moderation queue; reports and moderators hide and restore it."""
    from tuangou.moderation import service as moderation
    from tuangou.photos import service as photos
    from tuangou.reviews import service as reviews

    photos.register_visibility("review", reviews.photo_visible)
    reviews.register_text_screen(moderation.screen_text)
    reviews.register_on_held(moderation.record_held)
    for kind, hooks in reviews.MODERATION_TARGETS.items():
        moderation.register_target(kind, hooks)
    # A converted proposal shows the reviews of its wave after delivery.
    from tuangou.cocreate import service as cocreate

    cocreate.register_review_summary(_wave_reviews)


def _wave_reviews(session: Any, wave_id: int) -> dict[str, Any] | None:
    from tuangou.reviews import service as reviews

    found = reviews.summary(session, reviews.Scope("wave", wave_id))
    if found.empty:
        return None
    return {"count": found.count, "average": found.average, "url": f"/api/waves/{wave_id}/reviews"}


def _points_on_order_completed(session: Any, event: Any) -> None:
    from tuangou.points import service as points

    payload = event.payload or {}
    for user_id in payload.get("user_ids") or []:
        points.on_order_completed(session, int(user_id), int(payload["order_id"]))


def _achievements_on_order_completed(session: Any, event: Any) -> None:
    from tuangou.achievements import service as achievements

    payload = event.payload or {}
    for user_id in payload.get("user_ids") or []:
        achievements.on_order_completed(session, int(user_id), int(payload["order_id"]))


def _void_ring_helps(session: Any, member_ids: Sequence[int], reason: str) -> None:
    """A ring an operator confirmed loses its helps on bargains nobody has paid for."""
    from tuangou.bargains import service as bargains

    bargains.reverse_helps(session, member_ids, reason)


def _points_on_review(session: Any, event: Any) -> None:
    from tuangou.points import service as points

    payload = event.payload or {}
    points.on_review_published(
        session, user_id=int(payload["user_id"]), review_id=int(payload["review_id"])
    )


def _points_on_event(session: Any, event: Any) -> None:
    from tuangou.points import service as points

    payload = event.payload or {}
    points.on_event_attended(
        session, user_id=int(payload["user_id"]), event_id=int(payload["event_id"])
    )


def _register_metrics() -> None:
    """Work that is due, read at each scrape of /metrics: a growing figure is a job lagging."""
    from tuangou.core import metrics
    from tuangou.payments import service as payments
    from tuangou.teams import service as teams

    metrics.register_gauge(
        "tuangou_payments_pending",
        "Payments waiting for the gateway's word (a callback or a lookup)",
        payments.pending_count,
    )
    metrics.register_gauge(
        "tuangou_teams_overdue",
        "Teams past their deadline and not settled yet (the settle job's backlog)",
        teams.overdue_count,
    )


def _register_leaderboards() -> None:
    """Leaderboards: each scored action reaches the boards once (a like on a verified
    review, a counted help, an invitee's first completed order, an event attended); a
    confirmed ring's actions are voided; members the risk engine holds are left out."""
    from tuangou.bargains import service as bargains
    from tuangou.core import outbox
    from tuangou.leaderboards import service as boards
    from tuangou.risk import service as risk

    bargains.register_on_helped(boards.on_bargain_help)
    outbox.register(["review.liked"], _board_on_like)
    outbox.register(["order.completed"], _board_on_order_completed)
    outbox.register(["event.attended"], _board_on_event)
    risk.register_on_confirmed(boards.void_members)
    boards.register_hold_check(_risk_held)


def _risk_held(session: Any, member_ids: Sequence[int]) -> set[int]:
    from tuangou.risk import service as risk

    return {m for m in member_ids if risk.flag_of(session, m) is not None}


def _board_on_like(session: Any, event: Any) -> None:
    from tuangou.leaderboards import service as boards

    p = event.payload or {}
    boards.on_review_liked(
        session,
        review_id=int(p["review_id"]),
        liker_id=int(p["liker_id"]),
        author_id=int(p["author_id"]),
        community_id=p.get("community_id"),
        at=event.created_at,
    )


def _board_on_order_completed(session: Any, event: Any) -> None:
    from tuangou.leaderboards import service as boards

    for user_id in (event.payload or {}).get("user_ids") or []:
        boards.on_order_completed(session, user_id=int(user_id), at=event.created_at)


def _board_on_event(session: Any, event: Any) -> None:
    from tuangou.leaderboards import service as boards

    p = event.payload or {}
    boards.on_event_attended(
        session, user_id=int(p["user_id"]), event_id=int(p["event_id"]), at=event.created_at
    )
