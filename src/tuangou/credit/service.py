"""Leader credit (团长信用): the score of :mod:`tuangou.credit.rules`, from the
leader's history, and what it decides.

* :func:`leader_credit` computes the score live from the last ``WINDOW_DAYS`` of history:
  the leader's wave orders and pickup-point shipments (through the pools service), their
  after-sale cases and the members' pickup ratings (through the after-sales service).
* :func:`require_good_standing` refuses a leader below the threshold with
  ``credit_below_threshold`` (403): the composition root (``wiring.compose``) registers it
  as a leader check of the pools, run before a wave is published or adopted. (A leader the
  daily job has paused is refused earlier with ``leader_paused``.)
* ``credit.tasks.recompute_daily`` is the worker's job: once per local day (a
  compare-and-set on an instance setting, so several workers run it once) it pauses every
  active leader below the threshold, with a reason that marks the pause as the credit's, and
  resumes the leaders paused by the credit who have recovered. A pause an operator made is
  never lifted here.

How a shipment's receipt is judged comes from a :data:`FulfilmentFacts` source. The default
reads the orders alone: a shipment counts as received on time when its first pickup was
verified by the end of the delivery date (or, before then, when its orders have arrived);
as late when its orders were refunded as never delivered, or when the delivery date ended
with nothing arrived. A fulfilment module that records the instant a leader confirmed
receipt can register a precise source with :func:`set_fulfilment_source`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tuangou.aftersales import service as aftersales
from tuangou.communities import service as communities
from tuangou.communities.errors import CommunityErrorCode
from tuangou.core import clock
from tuangou.core.errors import DomainError
from tuangou.credit import rules
from tuangou.pools import service as pools

# The reason of a pause made by the credit job starts with this; only such pauses are
# lifted by the job when the score recovers.
PAUSE_MARK = "信用分低于门槛 (credit below threshold)"


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


def apply_credit(session: Session, leader_id: int) -> str | None:
    """Pause the leader if below the threshold, or resume a pause the credit made if they
    recovered. Returns "paused", "resumed" or None."""
    leader = communities.get_leader(session, leader_id)
    credit = leader_credit(session, leader_id)
    if credit.below_threshold and leader.status == communities.LeaderStatus.ACTIVE:
        communities.set_leader_status(
            session,
            leader_id,
            communities.LeaderStatus.PAUSED,
            f"{PAUSE_MARK}: {credit.score} < {credit.threshold}",
        )
        return "paused"
    paused_by_credit = (leader.paused_reason or "").startswith(PAUSE_MARK)
    paused = leader.status == communities.LeaderStatus.PAUSED
    if not credit.below_threshold and paused and paused_by_credit:
        communities.set_leader_status(session, leader_id, communities.LeaderStatus.ACTIVE, "")
        return "resumed"
    return None
