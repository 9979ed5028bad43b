"""What an order page offers a member beyond its status: a way out (cancel a paid wave order
before the cut-off, leave a team before it forms) and someone to ask (联系团长 for a wave order,
联系客服 for any other), and who decides an after-sale case. Read-only, like ``views``: the
rules are the services'; this only says which of their doors are open for this order now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tuangou.accounts import rules as account_rules
from tuangou.accounts import service as accounts
from tuangou.communities import service as communities
from tuangou.core.config import get_settings
from tuangou.orders import service as orders
from tuangou.pools import service as pools
from tuangou.teams import rules as team_rules
from tuangou.teams import service as teams

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


@dataclass(frozen=True)
class Contact:
    """Who to ask about an order. ``kind``: "leader" (联系团长) or "service" (联系客服)."""

    kind: str
    name: str  # the leader's nickname; empty for the service
    shown: str  # the phone as shown (masked for a leader), or the service's text
    tel: str  # a number for a tel: link, or empty (nobody may call it from here)


@dataclass(frozen=True)
class WayOut:
    contact: Contact | None
    can_cancel: bool  # a paid wave order before its cut-off: cancel, full refund
    can_leave: bool  # a paid seat in a team not formed yet: leave, full refund
    team_id: int | None
    decider: str  # who decides an after-sale case: "leader" or "operators"
    leader_name: str


def service_contact() -> Contact | None:
    """The operator's customer service (``TUANGOU_SERVICE_CONTACT``), if set: a phone number
    becomes a tel: link; anything else (a WeChat id, an e-mail, hours) is shown as text."""
    text = get_settings().service_contact
    if not text:
        return None
    tel = re.sub(r"[ -]", "", text) if _PHONE.match(text) else ""
    return Contact("service", "", text, tel)


def _leader_contact(session: Session, order: Any, user_id: int) -> tuple[Contact, int]:
    info = pools.info_of(session, order.id)
    listing = pools.get_listing(session, info.listing_id)
    leader = communities.get_leader(session, listing.leader_id)
    person = accounts.get_user(session, leader.user_id)
    # A member of the leader's community who ordered may call them; the number stays masked
    # on the page (the link dials it).
    member = communities.is_member(session, listing.community_id, user_id)
    shown = account_rules.mask_phone(person.phone)
    return Contact("leader", person.nickname, shown, person.phone if member else ""), leader.user_id


def way_out(session: Session, order: Any, user_id: int) -> WayOut:
    can_cancel = can_leave = False
    contact: Contact | None
    team_id = None
    leader_name = ""
    decider = "operators"
    if order.kind == "wave":
        contact, leader_user = _leader_contact(session, order, user_id)
        leader_name = contact.name
        # A leader's claim on an order of their own wave goes to the operators.
        decider = "leader" if leader_user != user_id else "operators"
        if order.status == orders.OrderStatus.PAID:
            wave = pools.get_wave(session, pools.info_of(session, order.id).wave_id)
            can_cancel = pools.cancellable(order, wave)
    else:
        contact = service_contact()
        seat = teams.seat_of(session, order.id)
        if seat is not None:
            team_id = seat.team_id
            if order.status == orders.OrderStatus.PAID and seat.status in team_rules.LIVE_SEATS:
                team = teams.get_team(session, seat.team_id)
                can_leave = team_rules.may_leave(
                    team.status, is_opener=seat.is_opener, seat_paid=True
                )
    return WayOut(contact, can_cancel, can_leave, team_id, decider, leader_name)
