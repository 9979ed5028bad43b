"""Leader credit (团长信用): the score of :mod:`tuangou.communities.credit_rules`, from the
leader's history, and what it decides.

* :func:`leader_credit` computes the score live from the last ``WINDOW_DAYS`` of history:
  the leader's wave orders and pickup-point shipments (through the pools service), their
  after-sale cases and the members' pickup ratings (through the after-sales service).
* :func:`require_good_standing` refuses a leader below the threshold with
  ``credit_below_threshold`` (403): ``pools.service`` calls it before a wave is published or
  adopted. (A leader the daily job has paused is refused earlier with ``leader_paused``.)
* :func:`recompute_daily` is the worker's job: once per local day (a compare-and-set on an
  instance setting, so several workers run it once) it pauses every active leader below the
  threshold, with a reason that marks the pause as the credit's, and resumes the leaders
  paused by the credit who have recovered. A pause an operator made is never lifted here.

How a shipment's receipt is judged comes from a :data:`FulfilmentFacts` source. The default
reads the orders alone: a shipment counts as received on time when its first pickup was
verified by the end of the delivery date (or, before then, when its orders have arrived);
as late when its orders were refunded as never delivered, or when the delivery date ended
with nothing arrived. A fulfilment module that records the instant a leader confirmed
receipt can register a precise source with :func:`set_fulfilment_source`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.aftersales import service as aftersales
from tuangou.communities import credit_rules as rules
from tuangou.communities import service as communities
from tuangou.communities.errors import CommunityErrorCode
from tuangou.communities.rules import LeaderStatus
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.errors import DomainError
from tuangou.core.models import InstanceSetting
from tuangou.pools import service as pools

log = logging.getLogger(__name__)

# The reason of a pause made by the credit job starts with this; only such pauses are
# lifted by the job when the score recovers.
PAUSE_MARK = "信用分低于门槛 (credit below threshold)"
LAST_RUN = "credit_last_run"  # instance setting: the local date of the last daily run


class CreditBelowThreshold(DomainError):
    code = CommunityErrorCode.CREDIT_BELOW_THRESHOLD
    status = 403
    title = "Your leader credit is below the threshold; you cannot publish or adopt waves now"


@dataclass(frozen=True)
class FulfilmentFacts:
    shipments: int  # shipments judged so far
    on_time: int  # of them, received by the delivery date
    orders: int  # orders confirmed at cut-off
    completed: int  # picked up
    unpicked: int  # left unpicked (refunded or kept by the wave's policy)


FulfilmentSource = Callable[[Session, int, datetime], FulfilmentFacts]


def facts_from_orders(session: Session, leader_id: int, since: datetime) -> FulfilmentFacts:
    """The default source: what the leader's orders tell (see the module's docstring)."""
    now = clock.now()
    judged = on_time = 0
    for s in pools.pickup_shipments(session, leader_id, since=since):
        if s.undelivered:
            judged += 1
        elif s.first_pickup_at is not None:
            judged += 1
            on_time += s.first_pickup_at <= s.due_at
        elif s.arrived:
            if now <= s.due_at:  # arrived, and the delivery date is not over yet
                judged += 1
                on_time += 1
        elif now > s.due_at:  # the delivery date is over and nothing has arrived
            judged += 1
    stats = pools.leader_order_stats(session, leader_id, since=since)
    return FulfilmentFacts(judged, on_time, stats.orders, stats.completed, stats.unpicked)


_source: FulfilmentSource = facts_from_orders


def set_fulfilment_source(source: FulfilmentSource | None) -> None:
    """Judge receipt and pickups from another source (None: the orders alone)."""
    global _source
    _source = source or facts_from_orders


def facts(session: Session, leader_id: int) -> rules.CreditFacts:
    since = clock.now() - timedelta(days=rules.WINDOW_DAYS)
    f = _source(session, leader_id, since)
    record = aftersales.leader_record(session, leader_id, since=since)
    return rules.CreditFacts(
        shipments=f.shipments,
        on_time=f.on_time,
        completed=f.completed,
        unpicked=f.unpicked,
        orders=f.orders,
        cases=record.cases,
        accepted=record.accepted,
        ratings=record.ratings,
        stars=record.stars,
    )


def leader_credit(session: Session, leader_id: int) -> rules.Credit:
    communities.get_leader(session, leader_id)
    return rules.score(facts(session, leader_id))


def require_good_standing(session: Session, leader_id: int) -> rules.Credit:
    credit = leader_credit(session, leader_id)
    if credit.below_threshold:
        raise CreditBelowThreshold(
            f"credit {credit.score} is below {credit.threshold}: see GET /api/leader/credit",
            score=credit.score,
            threshold=credit.threshold,
        )
    return credit


# ---------------------------------------------------------------- the daily job


def _claim_today(session: Session) -> bool:
    """Compare-and-set the day of the last run: True for the one worker that runs today."""
    today = clock.local_date(clock.now()).isoformat()
    ins = upsert_insert(session)
    session.execute(
        ins(InstanceSetting)
        .values(name=LAST_RUN, value="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    moved = session.execute(
        update(InstanceSetting)
        .where(InstanceSetting.name == LAST_RUN, InstanceSetting.value < today)
        .values(value=today)
    ).rowcount  # type: ignore[attr-defined]
    return bool(moved)


def apply_credit(session: Session, leader_id: int) -> str | None:
    """Pause the leader if below the threshold, or resume a pause the credit made if they
    recovered. Returns "paused", "resumed" or None."""
    leader = communities.get_leader(session, leader_id)
    credit = leader_credit(session, leader_id)
    if credit.below_threshold and leader.status == LeaderStatus.ACTIVE:
        communities.set_leader_status(
            session,
            leader_id,
            LeaderStatus.PAUSED,
            f"{PAUSE_MARK}: {credit.score} < {credit.threshold}",
        )
        return "paused"
    paused_by_credit = (leader.paused_reason or "").startswith(PAUSE_MARK)
    if not credit.below_threshold and leader.status == LeaderStatus.PAUSED and paused_by_credit:
        communities.set_leader_status(session, leader_id, LeaderStatus.ACTIVE, "")
        return "resumed"
    return None


def recompute_daily() -> int:
    """The worker's daily job: returns how many leaders it looked at (0 if not due today)."""
    if not run_in_transaction(_claim_today):
        return 0
    leader_ids = run_in_transaction(
        lambda s: [leader.id for leader in communities.list_leaders(s, limit=1_000_000)]
    )
    for leader_id in leader_ids:

        def apply(session: Session, leader_id: int = leader_id) -> str | None:
            return apply_credit(session, leader_id)

        try:
            run_in_transaction(apply)
        except Exception:  # one leader's failure must not stop the others
            log.exception("credit recompute failed for leader %s", leader_id)
    return len(leader_ids)
