"""What each domain holds of a member, read by table name for the data export, and the open
things that block a deletion.

Like the read model (``analytics``) and ``audit.py``, this module reads tables that are not
its own, by name in the shared metadata and never through their models, and writes nothing:
the composition root registers these readers with the privacy service, one exporter per
domain. ``EXPORTS`` names, for each domain, its tables and the column that names the member
(or ``order_id`` for rows of the member's orders, ``leader_id`` for a leader's money);
``NOT_EXPORTED`` names every other table with a member's id and why it stays out (a test
holds the two to every such table of the schema)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import Base
from tuangou.core.storage import StoredFileMissing, get_storage
from tuangou.privacy import rules

# domain -> [(table, how the member is named)]; "order_id": rows of the member's orders;
# "leader_id": rows of the member's leader record; "referral_wallet": withdrawals of their
# referral wallet.
EXPORTS: dict[str, list[tuple[str, str]]] = {
    "orders": [
        ("orders", "user_id"),
        ("refunds", "user_id"),
        ("campaign_usage", "user_id"),
        ("wave_orders", "order_id"),
        ("wave_order_lines", "order_id"),
        ("pickups", "order_id"),
    ],
    "payments": [("payments", "user_id")],
    "pools": [("wave_usage", "user_id")],
    "teams": [("team_seats", "user_id"), ("teams", "opener_id")],
    "bargains": [
        ("bargains", "starter_id"),
        ("bargain_helps", "helper_id"),
        ("bargain_usage", "user_id"),
    ],
    "flashsales": [("flash_usage", "user_id")],
    "events": [("event_signups", "user_id")],
    "points": [
        ("points_balances", "user_id"),
        ("points_transfers", "user_id"),
        ("points_awards", "user_id"),
        ("points_checkins", "user_id"),
    ],
    "achievements": [
        ("achievements_earned", "user_id"),
        ("member_badges", "user_id"),
        ("task_completions", "user_id"),
        ("member_actions", "user_id"),
    ],
    "coupons": [("member_coupons", "user_id"), ("coupon_holdings", "user_id")],
    "posts": [("posts", "author_id"), ("post_replies", "author_id"), ("post_likes", "user_id")],
    "reviews": [("reviews", "user_id"), ("review_likes", "user_id")],
    "aftersales": [("aftersale_cases", "user_id"), ("pickup_ratings", "user_id")],
    "referral": [
        ("referral_members", "user_id"),
        ("referral_commissions", "user_id"),
        ("referral_wallets", "user_id"),
    ],
    "notifications": [
        ("notifications", "user_id"),
        ("notify_preferences", "user_id"),  # which messages reach which channel, quiet hours
        ("wechat_subscriptions", "user_id"),  # the WeChat authorisations granted
        ("channel_deliveries", "user_id"),  # the SMS, WeChat and e-mail messages sent
    ],
    "communities": [
        ("community_members", "user_id"),
        ("community_rules_acceptances", "user_id"),  # the member's consents to group rules
        ("leader_applications", "user_id"),
        ("leaders", "user_id"),
    ],
    "commission": [
        ("commission_wallets", "leader_id"),
        ("commissions", "leader_id"),
        ("withdrawals", "leader_id"),
        ("withdrawals", "referral_wallet"),
    ],
    "cocreate": [("proposals", "author_id"), ("proposal_votes", "user_id")],
    "moderation": [("moderation_reports", "reporter_id"), ("moderation_mutes", "user_id")],
    "leaderboards": [("board_actions", "user_id"), ("board_standings", "user_id")],
}

# Tables naming a member that the export leaves out, and why.
NOT_EXPORTED: dict[str, str] = {
    "users": "the profile: the accounts' own exporter",
    "member_addresses": "the address book: the accounts' own exporter",
    "web_sessions": "page sessions: the accounts' own exporter (their times, no secrets)",
    "photos": "photos: their own exporter, with the files",
    "aftersale_photos": "photos of after-sale claims: their files are in the export's "
    "aftersale_photos/ (the rows are the case's evidence, kept with it)",
    "risk_events": "fraud signals, kept from the member (legitimate interest; purged by the "
    "retention)",
    "risk_flags": "fraud review",
    "risk_clearances": "fraud review",
    "risk_cases": "fraud review (its decider, an operator)",
    "bargain_help_refusals": "fraud signals of the risk check",
    "moderation_cases": "the moderators' record of content (the content is exported)",
    "moderation_log": "the moderators' log",
    "community_rules_versions": "a community's rules (its leader's writing, not personal)",
    "events": "a community's events (the leader who made them)",
    "post_day_deals": "a leader's choice of the day's deal",
    "post_rhythms": "a community's posting rhythm",
    "sub_leader_links": "an operator's or a leader's end of a link",
    "webhook_endpoints": "an operator's configuration",
    "journal_members": "the verifiable record's index of a member's entries: the member's "
    "own proof bundle is on 我的账本 (/me/journal/bundle.json)",
    "simulations": "an operator's what-if runs",
}

# Column names never exported (secrets, even the member's own).
SECRET_PARTS = ("hash", "token", "csrf", "secret")


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _leader_ids(session: Session, user_id: int) -> list[int]:
    leaders = _table("leaders")
    return list(session.scalars(select(leaders.c.id).where(leaders.c.user_id == user_id)))


def _order_ids(session: Session, user_id: int) -> list[int]:
    orders = _table("orders")
    return list(session.scalars(select(orders.c.id).where(orders.c.user_id == user_id)))


def _rows(session: Session, table_name: str, how: str, user_id: int) -> list[dict[str, Any]]:
    table = _table(table_name)
    where: ColumnElement[bool]
    if how == "order_id":
        where = table.c.order_id.in_(_order_ids(session, user_id))
    elif how == "leader_id":
        where = table.c.leader_id.in_(_leader_ids(session, user_id))
        if "wallet" in table.c:
            where = where & (table.c.wallet == "leader")
    elif how == "referral_wallet":
        where = (table.c.leader_id == user_id) & (table.c.wallet == "referral")
    else:
        where = table.c[how] == user_id
    pk = list(table.primary_key.columns)
    query = select(table).where(where).order_by(*pk)
    keep = [c.name for c in table.columns if not any(p in c.name for p in SECRET_PARTS)]
    return [{name: _plain(row._mapping[name]) for name in keep} for row in session.execute(query)]


Exporter = Callable[[Session, int], dict[str, Any]]


def exporter(domain: str) -> Exporter:
    """The exporter of a domain's tables: ``{table: [row, …]}``."""
    specs = EXPORTS[domain]

    def export(session: Session, user_id: int) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for table_name, how in specs:
            key = table_name if how != "referral_wallet" else f"{table_name}_referral"
            found[key] = _rows(session, table_name, how, user_id)
        return found

    return export


def aftersale_photo_files(session: Session, user_id: int) -> list[tuple[str, bytes]]:
    """The photos the member attached to their after-sale claims: (file name, bytes)."""
    photos = _table("aftersale_photos")
    storage = get_storage()
    files: list[tuple[str, bytes]] = []
    for row in session.execute(
        select(photos.c.id, photos.c.case_id, photos.c.position, photos.c.storage_key)
        .where(photos.c.user_id == user_id)
        .order_by(photos.c.id)
    ):
        try:
            data = storage.get(row.storage_key)
        except StoredFileMissing:
            continue
        suffix = "." + row.storage_key.rsplit(".", 1)[1] if "." in row.storage_key else ""
        files.append((f"case-{row.case_id}-{row.position}{suffix}", data))
    return files


# ---------------------------------------------------------------- what blocks a deletion


def open_orders(session: Session, user_id: int) -> list[rules.Blocker]:
    orders = _table("orders")
    ids = list(
        session.scalars(
            select(orders.c.id)
            .where(orders.c.user_id == user_id, orders.c.status.in_(rules.OPEN_ORDER_STATUSES))
            .order_by(orders.c.id)
        )
    )
    return [rules.Blocker("open_orders", len(ids), tuple(ids))] if ids else []


def open_aftersales(session: Session, user_id: int) -> list[rules.Blocker]:
    cases = _table("aftersale_cases")
    ids = list(
        session.scalars(
            select(cases.c.id)
            .where(cases.c.user_id == user_id, cases.c.status == "open")
            .order_by(cases.c.id)
        )
    )
    return [rules.Blocker("open_aftersales", len(ids), tuple(ids))] if ids else []


def pending_withdrawals(session: Session, user_id: int) -> list[rules.Blocker]:
    w = _table("withdrawals")
    leader_ids = _leader_ids(session, user_id)
    mine = ((w.c.wallet == "referral") & (w.c.leader_id == user_id)) | (
        (w.c.wallet == "leader") & w.c.leader_id.in_(leader_ids)
    )
    rows = session.execute(
        select(w.c.id, w.c.amount).where(mine, w.c.status == "requested").order_by(w.c.id)
    ).all()
    if not rows:
        return []
    ids = tuple(int(r.id) for r in rows)
    return [rules.Blocker("pending_withdrawals", len(ids), ids, sum(int(r.amount) for r in rows))]


def balances(session: Session, user_id: int) -> list[rules.Blocker]:
    total = 0
    ref = _table("referral_wallets")
    total += int(
        session.scalar(
            select(
                func.coalesce(func.sum(ref.c.frozen + ref.c.available + ref.c.withdrawing), 0)
            ).where(ref.c.user_id == user_id)
        )
        or 0
    )
    leader_ids = _leader_ids(session, user_id)
    if leader_ids:
        cw = _table("commission_wallets")
        total += int(
            session.scalar(
                select(
                    func.coalesce(func.sum(cw.c.frozen + cw.c.available + cw.c.withdrawing), 0)
                ).where(cw.c.leader_id.in_(leader_ids))
            )
            or 0
        )
    return [rules.Blocker("balance", 1, (), total)] if total > 0 else []


def leading(session: Session, user_id: int) -> list[rules.Blocker]:
    ids = _leader_ids(session, user_id)
    return [rules.Blocker("leading", len(ids), tuple(ids))] if ids else []


BLOCKERS: dict[str, Callable[[Session, int], list[rules.Blocker]]] = {
    "open_orders": open_orders,
    "open_aftersales": open_aftersales,
    "pending_withdrawals": pending_withdrawals,
    "balance": balances,
    "leading": leading,
}
