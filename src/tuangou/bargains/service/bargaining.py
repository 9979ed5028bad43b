"""Starting a bargain, friends' cuts (助力), the risk check before each cut, reversing a
fraud ring's helps, and a bargain's end when its time runs out.

Every cut is taken under the bargain's row (``locks.Rank.BARGAIN``: ``SELECT … FOR UPDATE``
on PostgreSQL, the write lock on SQLite), then the helper's counter in the campaign
(``Rank.LIMIT``, a guarded upsert), and the bargain moves by one guarded UPDATE (``WHERE
cuts_taken = n AND status = 'open'``); one help per (bargain, helper) is a unique key. So
however many friends cut at once, each takes the next cut of the schedule once, and the cuts
never pass the floor.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.bargains import errors, rules
from tuangou.bargains.models import (
    Bargain,
    BargainCampaign,
    BargainCut,
    BargainHelp,
    BargainUsage,
    HelpRefusal,
)
from tuangou.bargains.rules import BargainStatus, HelpStatus
from tuangou.bargains.service import campaigns
from tuangou.core import clock, locks
from tuangou.core.db import execute, get_or_404, insert_loaded, table, upsert_insert
from tuangou.core.locks import Rank
from tuangou.orders import service as orders

SHARE_TOKEN_BYTES = 16  # 128 random bits, as a wave's share link


class Verdict(Protocol):
    @property
    def action(self) -> str: ...


HelpCheck = Callable[[Session, int, Bargain, "str | None", "str | None"], Verdict]
_help_checks: dict[str, HelpCheck] = {}


def register_help_check(check: HelpCheck, name: str = "risk") -> None:
    """Another domain's judgement of a help, called inside the help's transaction before the
    cut with ``(session, helper_id, bargain, device, ip)``; it answers an object whose
    ``action`` is allow, challenge, hold or block. A hold lets the help count (the checker
    keeps it under review); a challenge or a block refuses it with ``risk_refused`` (which
    names no signal) and records the refusal. The composition root registers the risk engine
    here; with none registered every help is allowed."""
    _help_checks[name] = check


def unregister_help_check(name: str = "risk") -> None:
    _help_checks.pop(name, None)


OnHelped = Callable[..., object]
_on_helped: list[OnHelped] = []


def register_on_helped(fn: OnHelped) -> None:
    """Another domain's reaction to a counted help, called inside the help's transaction
    with ``(session, helper_id=, help_id=, at=)`` (the points a helper earns)."""
    if fn not in _on_helped:
        _on_helped.append(fn)


def helps_for_journal(session: Session, help_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """The fields of friends' helps that never change after the cut (the verifiable record
    hashes them): the help, its bargain and campaign, the helper, the cut and its bonus."""
    rows = session.execute(
        select(
            BargainHelp.id,
            BargainHelp.bargain_id,
            BargainHelp.campaign_id,
            BargainHelp.helper_id,
            BargainHelp.amount,
            BargainHelp.bonus,
            BargainHelp.created_at,
        ).where(BargainHelp.id.in_(list(help_ids)))
    )
    return {
        r.id: {
            "id": r.id,
            "bargain": r.bargain_id,
            "campaign": r.campaign_id,
            "member": r.helper_id,
            "cut": int(r.amount),
            "bonus": int(r.bonus),
            "at": clock.iso(r.created_at),
        }
        for r in rows
    }


# ---------------------------------------------------------------- reading


def get_bargain(session: Session, bargain_id: int) -> Bargain:
    return get_or_404(session, Bargain, bargain_id, errors.BargainNotFound)


def may_see(
    session: Session, bargain: Bargain, *, user_id: int | None, operator: bool, share: str | None
) -> bool:
    """Its starter, operators, its helpers, and whoever holds its share link."""
    if operator or (user_id is not None and user_id == bargain.starter_id):
        return True
    if share and hmac.compare_digest(share.encode(), bargain.share_token.encode()):
        return True
    return user_id is not None and helped(session, bargain.id, user_id)


def visible_bargain(
    session: Session,
    bargain_id: int,
    *,
    user_id: int | None,
    operator: bool = False,
    share: str | None = None,
) -> Bargain:
    """The bargain, or the same 404 as a missing one for anyone who may not see it."""
    bargain = session.get(Bargain, bargain_id)
    if bargain is None or not may_see(
        session, bargain, user_id=user_id, operator=operator, share=share
    ):
        raise errors.BargainNotFound()
    return bargain


def helped(session: Session, bargain_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(BargainHelp.id).where(
                BargainHelp.bargain_id == bargain_id, BargainHelp.helper_id == user_id
            )
        )
        is not None
    )


def schedule_of(session: Session, bargain: Bargain) -> list[int]:
    """The bargain's cut schedule as it stands (its latest revision), in order."""
    return list(
        session.scalars(
            select(BargainCut.amount)
            .where(BargainCut.bargain_id == bargain.id, BargainCut.revision == bargain.revision)
            .order_by(BargainCut.seq)
        )
    )


def helps_of(session: Session, bargain_id: int) -> list[BargainHelp]:
    return list(
        session.scalars(
            select(BargainHelp).where(BargainHelp.bargain_id == bargain_id).order_by(BargainHelp.id)
        )
    )


def bargains_of(session: Session, user_id: int, limit: int = 100) -> list[Bargain]:
    return list(
        session.scalars(
            select(Bargain)
            .where(Bargain.starter_id == user_id)
            .order_by(Bargain.id.desc())
            .limit(limit)
        )
    )


def bargains_of_campaign(session: Session, campaign_id: int, limit: int = 200) -> list[Bargain]:
    return list(
        session.scalars(
            select(Bargain)
            .where(Bargain.campaign_id == campaign_id)
            .order_by(Bargain.id.desc())
            .limit(limit)
        )
    )


def lock_bargain(session: Session, bargain_id: int) -> Bargain:
    """The bargain, locked for a change and read as it is now."""
    locks.lock(session, Rank.BARGAIN, Bargain.id, [bargain_id])
    bargain = get_bargain(session, bargain_id)
    session.refresh(bargain)
    return bargain


# ---------------------------------------------------------------- counters


_usage = table(BargainUsage)
_counted: dict[tuple[str, str], Any] = {}  # the guarded upsert, per dialect and counter


def _count(session: Session, *, campaign_id: int, user_id: int, counter: str, limit: int) -> bool:
    """Add one to a member's counter in a campaign unless it is at ``limit``."""
    dialect = session.get_bind().dialect.name
    stmt = _counted.get((dialect, counter))
    if stmt is None:
        column = _usage.c[counter]
        stmt = _counted[(dialect, counter)] = (
            upsert_insert(session)(_usage)
            .values(
                campaign_id=bindparam("b_campaign"),
                user_id=bindparam("b_user"),
                started=1 if counter == "started" else 0,
                helped=1 if counter == "helped" else 0,
            )
            .on_conflict_do_update(
                index_elements=["campaign_id", "user_id"],
                set_={counter: column + 1},
                where=column + 1 <= bindparam("b_limit"),
            )
        )
    locks.note(session, Rank.LIMIT, user_id)
    params = {"b_campaign": campaign_id, "b_user": user_id, "b_limit": limit}
    return bool(execute(session, stmt, params).rowcount)


# ---------------------------------------------------------------- starting


def _write_schedule(session: Session, bargain_id: int, revision: int, cuts: list[int]) -> None:
    session.execute(
        insert(table(BargainCut)),
        [
            {"bargain_id": bargain_id, "revision": revision, "seq": i, "amount": amount}
            for i, amount in enumerate(cuts, start=1)
        ],
    )


def start_bargain(session: Session, *, user_id: int, campaign_id: int) -> Bargain:
    """A member starts a bargain: its cut schedule is fixed now and stored (revision 0)."""
    campaign = campaigns.get_campaign(session, campaign_id)
    now = clock.now()
    if not campaigns.is_live(campaign, now):
        raise errors.CampaignNotLive()
    if campaign.sold + campaign.held >= campaign.stock:
        raise errors.SoldOut()
    if not _count(
        session,
        campaign_id=campaign.id,
        user_id=user_id,
        counter="started",
        limit=campaign.starts_per_member,
    ):
        raise errors.StartLimitReached()
    cuts = rules.schedule(campaign.start_price - campaign.floor_price, campaign.helpers_needed)
    bargain = insert_loaded(
        session,
        Bargain(
            campaign_id=campaign.id,
            starter_id=user_id,
            share_token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
            status=BargainStatus.OPEN,
            start_price=campaign.start_price,
            floor_price=campaign.floor_price,
            price=campaign.start_price,
            helpers_needed=campaign.helpers_needed,
            cuts_taken=0,
            revision=0,
            deadline=rules.deadline(now, campaign.hours, campaign.ends_at),
            order_id=None,
            created_at=now,
            completed_at=None,
            paid_at=None,
            closed_at=None,
        ),
    )
    _write_schedule(session, bargain.id, 0, cuts)
    return bargain


# ---------------------------------------------------------------- helping


@dataclass(frozen=True)
class Helped:
    """A help's outcome: the bargain as it stands, and the help (None when the risk check
    refused it: the refusal was recorded, and the entry point answers ``risk_refused``
    after the commit)."""

    bargain: Bargain
    help: BargainHelp | None

    @property
    def refused(self) -> bool:
        return self.help is None


def _refuse_if_not_cuttable(bargain: Bargain, now: Any) -> None:
    if bargain.status == BargainStatus.EXPIRED:
        raise errors.BargainExpired()
    if bargain.status != BargainStatus.OPEN:
        raise errors.BargainComplete()
    if bargain.deadline <= now:
        raise errors.BargainExpired()


def _risk_action(
    session: Session, helper_id: int, bargain: Bargain, device: str | None, ip: str | None
) -> str:
    """The first refusing answer of the checks (challenge, block), else allow: a help on hold
    counts, and its review is the checker's."""
    for check in list(_help_checks.values()):
        action = str(check(session, helper_id, bargain, device, ip).action)
        if action not in (rules.RiskAction.ALLOW, rules.RiskAction.HOLD):
            return action
    return rules.RiskAction.ALLOW


def help_bargain(
    session: Session,
    *,
    helper_id: int,
    bargain_id: int,
    share: str | None,
    device: str | None = None,
    ip: str | None = None,
) -> Helped:
    """A friend cuts the bargain once: the next cut of its schedule (with the new-member
    bonus, if the helper is brand-new and the campaign offers one)."""
    bargain = visible_bargain(session, bargain_id, user_id=helper_id, share=share)
    if bargain.starter_id == helper_id:
        raise errors.SelfHelp()
    device = (device or "").strip()[:64] or None
    ip = (ip or "").strip()[:64] or None
    now = clock.now()
    # What is refused anyway is refused before queueing for the bargain's lock (a bargain
    # leaves ``open`` only under it, so a refusal read here stays true), then checked again
    # under the lock.
    if helped(session, bargain.id, helper_id):
        raise errors.AlreadyHelped()
    _refuse_if_not_cuttable(bargain, now)
    bargain = lock_bargain(session, bargain_id)
    if helped(session, bargain.id, helper_id):
        raise errors.AlreadyHelped()
    _refuse_if_not_cuttable(bargain, now)
    action = _risk_action(session, helper_id, bargain, device, ip)
    if action != rules.RiskAction.ALLOW:
        session.add(
            HelpRefusal(
                bargain_id=bargain.id,
                helper_id=helper_id,
                action=action,
                device=device,
                ip=ip,
                created_at=now,
            )
        )
        session.flush()
        return Helped(bargain, None)
    campaign = campaigns.get_campaign(session, bargain.campaign_id)
    if not _count(
        session,
        campaign_id=campaign.id,
        user_id=helper_id,
        counter="helped",
        limit=campaign.helps_per_member,
    ):
        raise errors.HelpLimitReached()
    taken = bargain.cuts_taken
    cuts = schedule_of(session, bargain)
    remaining = cuts[taken:]
    revision = bargain.revision
    bonus = 0
    if campaign.new_member_bonus > 0 and len(remaining) > 1 and _is_new(session, helper_id):
        bonus, remaining = rules.with_bonus(remaining, campaign.new_member_bonus)
        if bonus:
            revision += 1
            _write_schedule(session, bargain.id, revision, [*cuts[:taken], *remaining])
    amount = remaining[0]
    try:
        help_row = insert_loaded(
            session,
            BargainHelp(
                bargain_id=bargain.id,
                campaign_id=campaign.id,
                helper_id=helper_id,
                seq=taken + 1,
                amount=amount,
                bonus=bonus,
                device=device,
                ip=ip,
                status=HelpStatus.COUNTED,
                created_at=now,
                voided_at=None,
                void_reason=None,
            ),
        )
    except IntegrityError as exc:  # the unique key: a twin of this help got there first
        raise errors.AlreadyHelped() from exc
    complete = taken + 1 >= bargain.helpers_needed
    moved = session.execute(
        update(Bargain)
        .where(
            Bargain.id == bargain.id,
            Bargain.status == BargainStatus.OPEN,
            Bargain.cuts_taken == taken,
            Bargain.price - amount >= Bargain.floor_price,
        )
        .values(
            price=Bargain.price - amount,
            cuts_taken=taken + 1,
            revision=revision,
            status=BargainStatus.COMPLETE if complete else BargainStatus.OPEN,
            completed_at=now if complete else None,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:  # cannot happen under the bargain's lock; refuse rather than over-cut
        raise errors.BargainComplete()
    session.refresh(bargain)
    for react in list(_on_helped):
        react(session, helper_id=helper_id, help_id=help_row.id, at=now)
    return Helped(bargain, help_row)


def _is_new(session: Session, user_id: int) -> bool:
    user = accounts.get_user(session, user_id)
    return rules.is_new_member(
        user.created_at, clock.now(), has_paid_order=orders.has_paid_order(session, user_id)
    )


# ---------------------------------------------------------------- reversing


def reverse_helps(session: Session, helper_ids: Collection[int], reason: str) -> int:
    """A confirmed fraud ring: void its members' helps on bargains nobody has paid for, and
    give each bargain its cuts back (the price rises, the schedule of the cuts to come is
    written again and still sums exactly). An unpaid order placed at the cut price is
    closed first. Exactly once: a help moves counted → voided by compare-and-set, so a
    second call voids nothing. Returns the number of helps voided."""
    ids = sorted(set(helper_ids))
    if not ids:
        return 0
    bargain_ids = sorted(
        set(
            session.scalars(
                select(BargainHelp.bargain_id)
                .join(Bargain, Bargain.id == BargainHelp.bargain_id)
                .where(
                    BargainHelp.helper_id.in_(ids),
                    BargainHelp.status == HelpStatus.COUNTED,
                    Bargain.status.in_(rules.UNPAID),
                )
            )
        )
    )
    voided = 0
    reason = (reason or "reversed").strip()[:200]
    # Every bargain up front, in ascending id: releasing an order takes locks below them.
    locks.lock(session, Rank.BARGAIN, Bargain.id, bargain_ids)
    for bargain_id in bargain_ids:
        voided += _reverse_on(session, bargain_id, ids, reason)
    return voided


def _reverse_on(session: Session, bargain_id: int, helper_ids: list[int], reason: str) -> int:
    bargain = lock_bargain(session, bargain_id)
    if bargain.status not in rules.UNPAID:
        return 0  # paid meanwhile: what was paid stays paid
    if bargain.status == BargainStatus.ORDERED and bargain.order_id is not None:
        order = orders.get(session, bargain.order_id)
        orders.release_unpaid(session, order, reason="bargain_reversed")
        session.refresh(bargain)
    now = clock.now()
    moved = session.execute(
        update(BargainHelp)
        .where(
            BargainHelp.bargain_id == bargain_id,
            BargainHelp.helper_id.in_(helper_ids),
            BargainHelp.status == HelpStatus.COUNTED,
        )
        .values(status=HelpStatus.VOIDED, voided_at=now, void_reason=reason)
        .returning(BargainHelp.amount)
    ).all()
    if not moved:
        return 0
    back = sum(int(a) for (a,) in moved)
    kept = list(
        session.scalars(
            select(BargainHelp.amount)
            .where(BargainHelp.bargain_id == bargain_id, BargainHelp.status == HelpStatus.COUNTED)
            .order_by(BargainHelp.id)
        )
    )
    total = bargain.start_price - bargain.floor_price
    revision = bargain.revision + 1
    _write_schedule(
        session, bargain_id, revision, rules.reschedule(kept, total, bargain.helpers_needed)
    )
    values: dict[str, Any] = {
        "price": Bargain.price + back,
        "cuts_taken": len(kept),
        "revision": revision,
    }
    if bargain.status == BargainStatus.COMPLETE:
        values.update(status=BargainStatus.OPEN, completed_at=None)
    session.execute(update(Bargain).where(Bargain.id == bargain_id).values(**values))
    session.refresh(bargain)
    return len(moved)


# ---------------------------------------------------------------- the end of a bargain


def due(session: Session, limit: int) -> list[int]:
    """Bargains whose time ran out and that nobody is buying (the worker's pick)."""
    return list(
        session.scalars(
            select(Bargain.id)
            .where(Bargain.status.in_(rules.BUYABLE), Bargain.deadline <= clock.now())
            .order_by(Bargain.deadline)
            .limit(limit)
        )
    )


def expire(session: Session, bargain_id: int) -> bool:
    """Close a bargain whose time ran out, exactly once (compare-and-set)."""
    now = clock.now()
    locks.note(session, Rank.BARGAIN, bargain_id)
    return bool(
        session.execute(
            update(Bargain)
            .where(
                Bargain.id == bargain_id,
                Bargain.status.in_(rules.BUYABLE),
                Bargain.deadline <= now,
            )
            .values(status=BargainStatus.EXPIRED, closed_at=now)
        ).rowcount  # type: ignore[attr-defined]
    )


def refusals_of(session: Session, bargain_id: int) -> list[HelpRefusal]:
    return list(
        session.scalars(
            select(HelpRefusal).where(HelpRefusal.bargain_id == bargain_id).order_by(HelpRefusal.id)
        )
    )


def campaign_of(session: Session, bargain: Bargain) -> BargainCampaign:
    return campaigns.get_campaign(session, bargain.campaign_id)


@dataclass(frozen=True)
class Details:
    """What a bargain's page and reply show beside the bargain itself."""

    campaign: BargainCampaign
    schedule: list[int]
    helps: list[BargainHelp]
    names: dict[int, str]  # masked, by user id: the starter and the helpers


def details(session: Session, bargain: Bargain) -> Details:
    helps = helps_of(session, bargain.id)
    names = accounts.masked_names(session, [bargain.starter_id, *(h.helper_id for h in helps)])
    return Details(campaign_of(session, bargain), schedule_of(session, bargain), helps, names)
