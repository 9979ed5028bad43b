"""Calibration: what the deployment's own team buys say about its members.

Read once from the live database, read-only, before the switch to the sandbox. Like the
analytics read model, it reads the team buy's and the orders' tables by name (the shared
metadata), as sums and lists of the recent past, and writes nothing; what it cannot tell
keeps the documented default (:class:`rules.Parameters`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.core.db import Base
from tuangou.simulate.rules import History

RECENT = 5000  # the newest rows of each kind that are read


def _hours(later: Any, earlier: Any) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds() / 3600)


def history(session: Session) -> History:
    tables = Base.metadata.tables
    seats, teams = tables["team_seats"], tables["teams"]
    orders, campaigns = tables["orders"], tables["team_campaigns"]
    found = History()
    paid_seats = session.execute(
        select(seats.c.is_opener, seats.c.joined_at, teams.c.opened_at, teams.c.created_at)
        .join(teams, teams.c.id == seats.c.team_id)
        .where(seats.c.paid_at.is_not(None))
        .order_by(seats.c.id.desc())
        .limit(RECENT)
    ).all()
    for is_opener, joined_at, opened_at, created_at in paid_seats:
        found.seats += 1
        if is_opener:
            found.openers += 1
            continue
        delay = _hours(joined_at, opened_at or created_at)
        if delay is not None:
            found.join_delays.append(delay)
    settled = session.execute(
        select(teams.c.paid_count, teams.c.opened_at, teams.c.formed_at)
        .where(teams.c.outcome.is_not(None))
        .order_by(teams.c.id.desc())
        .limit(RECENT)
    ).all()
    for paid_count, opened_at, formed_at in settled:
        found.team_sizes.append(int(paid_count))
        fill = _hours(formed_at, opened_at)
        if fill is not None:
            found.fill_hours.append(fill)
    team_orders = session.execute(
        select(orders.c.unit_price, orders.c.paid_at, orders.c.status, campaigns.c.single_price)
        .join(campaigns, campaigns.c.id == orders.c.campaign_id)
        .where(orders.c.kind == "team", orders.c.status != "pending_payment")
        .order_by(orders.c.id.desc())
        .limit(RECENT)
    ).all()
    for unit_price, paid_at, status, single_price in team_orders:
        if paid_at is None and status != "cancelled":
            continue
        found.holds += 1
        if paid_at is not None:
            found.paid_holds += 1
            if single_price:
                found.price_ratios.append(unit_price / single_price)
    return found
