"""``tuangou audit``: check DOMAIN.md invariants 1–5 against the database.

This is the one module that reads every domain's tables directly: it is an independent
witness of what the services wrote, so it recomputes each figure from raw rows instead of
trusting the services' own counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tuangou.aftersales.rules import CaseStatus
from tuangou.core import clock
from tuangou.ledger.rules import must_stay_non_negative
from tuangou.orders import rules as order_rules
from tuangou.orders.rules import OrderStatus

SETTLE_GRACE = timedelta(minutes=5)


@dataclass
class Check:
    name: str
    invariant: int
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def _rows(session: Session, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text(sql), params)]


def check_stock(session: Session) -> Check:
    c = Check("no oversell: sold + held + reserved ≤ stock, counters match the orders and teams", 1)
    for cid, stock, sold, held, reserved in _rows(
        session, "SELECT id, stock, sold, held, reserved FROM team_campaigns"
    ):
        if sold < 0 or held < 0 or reserved < 0 or sold + held + reserved > stock:
            c.violations.append(
                f"campaign {cid}: sold {sold} + held {held} + reserved {reserved} > stock {stock}"
            )
    # Stock is conserved: what a campaign reserves is exactly what its teams still reserve,
    # and only a team still under way reserves anything (a settled, failed or closed team
    # gave its reservation back).
    for cid, reserved, actual in _rows(
        session,
        """SELECT c.id, c.reserved, COALESCE(SUM(t.reserved), 0) FROM team_campaigns c
           LEFT JOIN teams t ON t.campaign_id = c.id
           GROUP BY c.id, c.reserved""",
    ):
        if reserved != actual:
            c.violations.append(
                f"campaign {cid}: reserved {reserved} but its teams reserve {actual}"
            )
    for tid, status, reserved in _rows(
        session,
        """SELECT id, status, reserved FROM teams
           WHERE reserved < 0 OR (reserved > 0 AND status NOT IN ('pending', 'open', 'formed'))""",
    ):
        c.violations.append(f"team {tid}: {status} but still reserves {reserved}")
    for cid, held, actual in _rows(
        session,
        """SELECT c.id, c.held, COALESCE(SUM(o.quantity), 0) FROM team_campaigns c
           LEFT JOIN orders o ON o.kind = 'team' AND o.campaign_id = c.id
                AND o.status = 'pending_payment'
           GROUP BY c.id, c.held""",
    ):
        if held != actual:
            c.violations.append(f"campaign {cid}: held {held} but unpaid orders hold {actual}")
    for cid, sold, actual in _rows(
        session,
        """SELECT c.id, c.sold, COALESCE(SUM(o.quantity), 0) FROM team_campaigns c
           LEFT JOIN orders o ON o.kind = 'team' AND o.campaign_id = c.id AND (
                o.status IN ('paid', 'confirmed', 'shipped', 'completed')
                OR (o.status = 'refunded' AND o.close_reason IN ('not_shipped', 'manual')))
           GROUP BY c.id, c.sold""",
    ):
        if sold != actual:
            c.violations.append(f"campaign {cid}: sold {sold} but its orders sold {actual}")
    for iid, stock, sold, held in _rows(session, "SELECT id, stock, sold, held FROM wave_items"):
        if sold < 0 or held < 0 or sold + held > stock:
            c.violations.append(f"wave item {iid}: sold {sold} + held {held} > stock {stock}")
    for iid, held, actual in _rows(
        session,
        """SELECT i.id, i.held, COALESCE(SUM(o.qty), 0) FROM wave_items i
           LEFT JOIN (SELECT l.item_id, l.quantity AS qty FROM wave_order_lines l
                      JOIN orders o ON o.id = l.order_id WHERE o.status = 'pending_payment') o
             ON o.item_id = i.id
           GROUP BY i.id, i.held""",
    ):
        if held != actual:
            c.violations.append(f"wave item {iid}: held {held} but unpaid orders hold {actual}")
    for iid, sold, actual in _rows(
        session,
        """SELECT i.id, i.sold, COALESCE(SUM(o.qty), 0) FROM wave_items i
           LEFT JOIN (SELECT l.item_id, l.quantity AS qty FROM wave_order_lines l
                      JOIN orders o ON o.id = l.order_id
                      WHERE o.paid_at IS NOT NULL AND o.status <> 'cancelled'
                        AND l.status IN ('open', 'confirmed')) o
             ON o.item_id = i.id
           GROUP BY i.id, i.sold""",
    ):
        if sold != actual:
            c.violations.append(f"wave item {iid}: sold {sold} but its orders sold {actual}")
    for sid, stock, allocated in _rows(session, "SELECT id, stock, allocated FROM skus"):
        if allocated > stock or allocated < 0:
            c.violations.append(f"sku {sid}: allocated {allocated} > stock {stock}")
    # A SKU has set aside exactly the stock of its team and bargain campaigns still running,
    # of its items in waves not settled yet and of its flash slots not settled (an ended
    # campaign, a settled wave or slot gave its allocation back: the units sold left the
    # SKU's stock, the rest are free).
    for sid, allocated, campaigns, waves, slots in _rows(
        session,
        """SELECT s.id, s.allocated,
                  (SELECT COALESCE(SUM(c.stock), 0) FROM team_campaigns c
                    WHERE c.sku_id = s.id AND c.status <> 'ended')
                  + (SELECT COALESCE(SUM(b.stock), 0) FROM bargain_campaigns b
                    WHERE b.sku_id = s.id AND b.status <> 'ended'),
                  (SELECT COALESCE(SUM(i.stock), 0) FROM wave_items i
                     JOIN waves w ON w.id = i.wave_id
                    WHERE i.sku_id = s.id AND w.status <> 'settled'),
                  (SELECT COALESCE(SUM(f.stock), 0) FROM flash_slots f
                    WHERE f.sku_id = s.id AND f.settled_at IS NULL)
           FROM skus s""",
    ):
        if allocated != campaigns + waves + slots:
            c.violations.append(
                f"sku {sid}: allocated {allocated}, but its running campaigns hold {campaigns},"
                f" its open wave items {waves} and its unsettled flash slots {slots}"
            )
    c.violations.extend(flash_violations(session))
    c.violations.extend(bargain_stock_violations(session))
    return c


def flash_violations(session: Session) -> list[str]:
    """A flash slot's units: available + held + sold = stock, held = the units of its unpaid
    orders, sold = the units of its orders ever paid (a refund after the sale keeps them
    sold), and each member's count = the units of their orders not cancelled."""
    found = []
    for fid, stock, available, held, sold in _rows(
        session, "SELECT id, stock, available, held, sold FROM flash_slots"
    ):
        if min(available, held, sold) < 0 or available + held + sold != stock:
            found.append(
                f"flash slot {fid}: available {available} + held {held} + sold {sold}"
                f" is not its stock {stock}"
            )
    for fid, held, unpaid, sold, paid in _rows(
        session,
        """SELECT f.id, f.held,
                  (SELECT COALESCE(SUM(o.quantity), 0) FROM orders o WHERE o.kind = 'flash'
                      AND o.campaign_id = f.id AND o.status = 'pending_payment'),
                  f.sold,
                  (SELECT COALESCE(SUM(o.quantity), 0) FROM orders o WHERE o.kind = 'flash'
                      AND o.campaign_id = f.id
                      AND o.status NOT IN ('pending_payment', 'cancelled'))
           FROM flash_slots f""",
    ):
        if held != unpaid:
            found.append(f"flash slot {fid}: held {held} but unpaid orders hold {unpaid}")
        if sold != paid:
            found.append(f"flash slot {fid}: sold {sold} but its orders sold {paid}")
    for fid, uid, counted, actual in _rows(
        session,
        """SELECT u.slot_id, u.user_id, u.quantity,
                  (SELECT COALESCE(SUM(o.quantity), 0) FROM orders o WHERE o.kind = 'flash'
                      AND o.campaign_id = u.slot_id AND o.user_id = u.user_id
                      AND o.status <> 'cancelled')
           FROM flash_usage u""",
    ):
        if counted != actual:
            found.append(
                f"flash slot {fid}: member {uid} counted {counted} but has {actual} in orders"
            )
    return found


def check_seats(session: Session) -> Check:
    c = Check("one seat per member per team; no team over its max size", 2)
    for tid, user_id, n in _rows(
        session,
        """SELECT team_id, user_id, COUNT(*) FROM team_seats WHERE status IN ('held', 'paid')
           GROUP BY team_id, user_id HAVING COUNT(*) > 1""",
    ):
        c.violations.append(f"team {tid}: member {user_id} holds {n} seats")
    for tid, max_size, taken, paid_count, live, paid in _rows(
        session,
        """SELECT t.id, t.max_size, t.seats_taken, t.paid_count,
                  COALESCE(SUM(CASE WHEN s.status IN ('held', 'paid') THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN s.status = 'paid' THEN 1 ELSE 0 END), 0)
           FROM teams t LEFT JOIN team_seats s ON s.team_id = t.id
           GROUP BY t.id, t.max_size, t.seats_taken, t.paid_count""",
    ):
        if live > max_size or taken > max_size:
            c.violations.append(f"team {tid}: {live} seats taken, max {max_size}")
        if live != taken:
            c.violations.append(f"team {tid}: counter says {taken} seats, {live} are live")
        if paid != paid_count:
            c.violations.append(f"team {tid}: counter says {paid_count} paid, {paid} seats paid")
    c.violations.extend(event_violations(session))
    return c


def event_violations(session: Session) -> list[str]:
    """Community events: taken ≤ seats, taken = the sign-ups holding a seat, and each paid
    seat's order consistent with its sign-up (its event, member, fee and state)."""
    found: list[str] = []
    for eid, seats, taken, holding in _rows(
        session,
        """SELECT e.id, e.seats, e.taken,
                  COALESCE(SUM(CASE WHEN s.status IN ('held', 'signed_up') THEN 1 ELSE 0 END), 0)
           FROM events e LEFT JOIN event_signups s ON s.event_id = e.id
           GROUP BY e.id, e.seats, e.taken""",
    ):
        if taken > seats:
            found.append(f"event {eid}: {taken} seats taken of {seats}")
        if taken != holding:
            found.append(
                f"event {eid}: counter says {taken} seats taken, {holding} sign-ups hold one"
            )
    allowed = {
        "held": {OrderStatus.PENDING_PAYMENT},
        "signed_up": {
            OrderStatus.PAID,
            OrderStatus.CONFIRMED,
            OrderStatus.ARRIVED,
            OrderStatus.COMPLETED,
        },
        "waitlisted": set(),
        "cancelled": {OrderStatus.CANCELLED, OrderStatus.REFUNDED},
        "released": {OrderStatus.CANCELLED},
    }
    for sid, eid, status, fee, order_id, kind, campaign, same_user, amount, ostatus in _rows(
        session,
        """SELECT s.id, s.event_id, s.status, e.fee, s.order_id, o.kind, o.campaign_id,
                  CASE WHEN o.user_id = s.user_id THEN 1 ELSE 0 END, o.amount, o.status
           FROM event_signups s JOIN events e ON e.id = s.event_id
           LEFT JOIN orders o ON o.id = s.order_id
           WHERE e.fee > 0 OR s.order_id IS NOT NULL""",
    ):
        if order_id is None:
            if status in ("held", "signed_up"):
                found.append(f"event {eid}: sign-up {sid} holds a paid seat without an order")
            continue
        if kind != "event" or campaign != eid or not same_user or amount != fee:
            found.append(f"event {eid}: sign-up {sid}'s order {order_id} is not its seat's")
        elif ostatus not in allowed.get(str(status), set()):
            found.append(f"event {eid}: sign-up {sid} is {status} but its order is {ostatus}")
    return found


def check_settlement(session: Session) -> Check:
    c = Check("each team settles exactly once; refunds once per reason, never over paid", 3)
    overdue = clock.now() - SETTLE_GRACE
    for (tid,) in _rows(
        session,
        "SELECT id FROM teams WHERE status IN ('open', 'formed') AND deadline < :t",
        t=overdue,
    ):
        c.violations.append(f"team {tid}: past its deadline but not settled")
    for tid, oid, status in _rows(
        session,
        """SELECT t.id, o.id, o.status FROM teams t JOIN team_seats s ON s.team_id = t.id
           JOIN orders o ON o.id = s.order_id
           WHERE o.paid_at IS NOT NULL AND (
             (t.status = 'settled' AND o.status NOT IN ('confirmed', 'shipped', 'completed',
                                                        'refunded', 'cancelled'))
             OR (t.status = 'failed' AND o.status NOT IN ('refunded', 'cancelled')))""",
    ):
        c.violations.append(f"team {tid}: order {oid} left {status} after settlement")
    for (wid,) in _rows(
        session,
        "SELECT id FROM waves WHERE status IN ('open', 'settling') AND cutoff_at < :t",
        t=overdue,
    ):
        c.violations.append(f"wave {wid}: past its cut-off but not settled")
    for wid, oid in _rows(
        session,
        """SELECT w.id, o.id FROM waves w JOIN wave_orders i ON i.wave_id = w.id
           JOIN orders o ON o.id = i.order_id
           WHERE w.status = 'settled' AND o.status IN ('paid', 'pending_payment')""",
    ):
        c.violations.append(f"wave {wid}: order {oid} left unsettled")
    for oid, reason, n in _rows(
        session,
        # A late payment is refunded per payment; an operator may refund by hand in parts;
        # each accepted after-sale case refunds once (checked per case below).
        """SELECT order_id, reason, COUNT(*) FROM refunds
           WHERE reason NOT IN ('late_payment', 'manual', 'after_sale')
           GROUP BY order_id, reason HAVING COUNT(*) > 1""",
    ):
        c.violations.append(f"order {oid}: refunded {n} times for {reason}")
    for oid, paid, _subsidy, refunded, actual in _rows(
        session,
        """SELECT o.id, o.paid_amount, o.subsidy_amount, o.refunded_amount,
                  COALESCE(SUM(r.amount), 0)
           FROM orders o LEFT JOIN refunds r ON r.order_id = o.id
           GROUP BY o.id, o.paid_amount, o.subsidy_amount, o.refunded_amount""",
    ):
        if refunded != actual:
            c.violations.append(f"order {oid}: refunded_amount {refunded}, refunds sum {actual}")
        if actual > paid:
            c.violations.append(f"order {oid}: refunded {actual} > paid {paid}")
    c.violations.extend(pickup_violations(session))
    c.violations.extend(bargain_cut_violations(session))
    c.violations.extend(aftersale_violations(session))
    return c


def check_orders(session: Session) -> Check:
    c = Check("paid = kept + refunded; kept = final price × quantity (0 if failed)", 4)
    for oid, paid, actual in _rows(
        session,
        """SELECT o.id, o.paid_amount, COALESCE(SUM(p.amount), 0) FROM orders o
           LEFT JOIN payments p ON p.order_id = o.id AND p.status = 'succeeded'
           GROUP BY o.id, o.paid_amount""",
    ):
        if paid != actual:
            c.violations.append(f"order {oid}: paid_amount {paid}, successful payments {actual}")
    free = {
        oid: amount
        for oid, amount in _rows(
            session, "SELECT order_id, amount FROM refunds WHERE reason = 'opener_free'"
        )
    }
    manual = {
        oid: amount
        for oid, amount in _rows(
            session,
            "SELECT order_id, SUM(amount + discount_amount) FROM refunds"
            " WHERE reason IN ('manual', 'after_sale') GROUP BY order_id",
        )
    }
    # What the discounts (level, coupon) paid for an order and still keep in it: kept like
    # the member's money, at the price before discounts.
    discount_back = dict(
        _rows(
            session,
            "SELECT order_id, SUM(discount_amount) FROM refunds GROUP BY order_id"
            " HAVING SUM(discount_amount) > 0",
        )
    )
    # A wave order's "final price × quantity" is the sum over its confirmed lines.
    wave_final = {
        oid: int(total)
        for oid, total in _rows(
            session,
            """SELECT order_id, SUM(final_unit_price * quantity) FROM wave_order_lines
               WHERE status = 'confirmed' GROUP BY order_id""",
        )
    }
    for oid, kind, status, reason, paid, refunded, final, qty, amount, discount in _rows(
        session,
        """SELECT id, kind, status, close_reason, paid_amount, refunded_amount, final_unit_price,
                  quantity, amount, level_discount + coupon_discount FROM orders""",
    ):
        kept = paid - refunded
        if kind == "wave":
            final, qty = wave_final.get(oid, 0), 1
        if status in order_rules.CONFIRMED_OR_LATER:
            kept += discount - discount_back.get(oid, 0)
            # What an operator refunded by hand (a damaged item, say) is not kept either.
            expected = (final or 0) * qty - free.get(oid, 0) - manual.get(oid, 0)
            if kept != expected:
                c.violations.append(
                    f"order {oid}: kept {kept}, expected final {final} × {qty}"
                    f" − opener-free {free.get(oid, 0)} − manual {manual.get(oid, 0)}"
                    f" = {expected}"
                )
        elif status in order_rules.CLOSED and kept != 0:
            c.violations.append(f"order {oid}: {status} ({reason}) but keeps {kept}")
        elif status == OrderStatus.PAID and kept != amount:
            c.violations.append(f"order {oid}: paid, keeps {kept} instead of its amount {amount}")
    return c


def check_journal(session: Session) -> Check:
    c = Check(
        "journal balances; escrow = paid − refunded − settled; nothing negative;"
        " every order's referral split exact",
        5,
    )
    total = session.execute(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries")).scalar()
    if total != 0:
        c.violations.append(f"all entries sum to {total}, not 0")
    for tid, s in _rows(
        session,
        "SELECT transfer_id, SUM(amount) FROM ledger_entries GROUP BY transfer_id"
        " HAVING SUM(amount) <> 0",
    ):
        c.violations.append(f"transfer {tid} sums to {s}")
    for oid, expected, actual in _rows(
        session,
        """SELECT o.id, o.paid_amount + o.subsidy_amount - o.refunded_amount - o.released_amount,
                  COALESCE(SUM(e.amount), 0)
           FROM orders o LEFT JOIN ledger_entries e ON e.order_id = o.id AND e.account = 'escrow'
           GROUP BY o.id, o.paid_amount, o.subsidy_amount, o.refunded_amount, o.released_amount""",
    ):
        if expected != actual:
            c.violations.append(f"order {oid}: escrow holds {actual}, orders say {expected}")
        if actual < 0:
            c.violations.append(f"order {oid}: escrow negative ({actual})")
    balances: dict[str, int] = dict(
        _rows(session, "SELECT account, SUM(amount) FROM ledger_entries GROUP BY account")
    )
    for account, amount in balances.items():
        if must_stay_non_negative(account) and amount < 0:
            c.violations.append(f"account {account} is negative ({amount})")
    paid = session.execute(
        text("SELECT COALESCE(SUM(amount), 0) FROM payments WHERE status = 'succeeded'")
    ).scalar()
    sent = session.execute(
        text("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE status = 'succeeded'")
    ).scalar()
    pending = session.execute(
        text("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE status <> 'succeeded'")
    ).scalar()
    if balances.get("gateway", 0) != -(paid or 0) + (sent or 0):
        c.violations.append(
            f"gateway account {balances.get('gateway', 0)} ≠ −payments {paid} + refunds sent {sent}"
        )
    if balances.get("refunds", 0) != (pending or 0):
        c.violations.append(
            f"refunds account {balances.get('refunds', 0)} ≠ refunds not yet sent {pending}"
        )
    for leader_id, frozen, available, withdrawing in _rows(
        session, "SELECT leader_id, frozen, available, withdrawing FROM commission_wallets"
    ):
        for name, value in (
            ("frozen", frozen),
            ("available", available),
            ("withdrawing", withdrawing),
        ):
            in_ledger = balances.get(f"leader_{name}:{leader_id}", 0)
            if value != in_ledger:
                c.violations.append(
                    f"leader {leader_id}: wallet {name} {value} ≠ ledger {in_ledger}"
                )
    c.violations.extend(points_violations(session))
    c.violations.extend(referral_violations(session))
    c.violations.extend(discount_violations(session))
    return c


def discount_violations(session: Session) -> list[str]:
    """Discounts at checkout (part of invariant 5): each order's price before discounts is
    what the member was charged plus its discounts; a paid order's discounts are exactly its
    subsidy transfer into escrow (``subsidy:discount:<order>``), an unpaid one has none; the
    discounts' shares of its refunds never exceed them; a coupon is on one order at most."""
    found: list[str] = []
    funded = {
        oid: int(amount)
        for oid, amount in _rows(
            session,
            """SELECT order_id, SUM(amount) FROM ledger_entries
               WHERE account = 'escrow' AND transfer_id LIKE 'subsidy:discount:%'
               GROUP BY order_id""",
        )
    }
    back = dict(
        _rows(session, "SELECT order_id, SUM(discount_amount) FROM refunds GROUP BY order_id")
    )
    for oid, listed, amount, level, coupon, paid_at in _rows(
        session,
        """SELECT id, list_amount, amount, level_discount, coupon_discount, paid_at
           FROM orders""",
    ):
        discount = level + coupon
        if listed != amount + discount:
            found.append(
                f"order {oid}: price before discounts {listed} ≠ amount {amount}"
                f" + level {level} + coupon {coupon}"
            )
        expected = discount if paid_at is not None else 0
        if funded.get(oid, 0) != expected:
            found.append(
                f"order {oid}: discounts {expected}, subsidy transfers {funded.get(oid, 0)}"
            )
        if (back.get(oid) or 0) > discount:
            found.append(f"order {oid}: refunds gave back {back[oid]} of discounts {discount}")
    for coupon_id, n in _rows(
        session,
        "SELECT coupon_id, COUNT(*) FROM orders WHERE coupon_id IS NOT NULL"
        " AND status NOT IN ('cancelled', 'refunded') GROUP BY coupon_id HAVING COUNT(*) > 1",
    ):
        found.append(f"coupon {coupon_id} is on {n} live orders")
    return found


def referral_violations(session: Session) -> list[str]:
    """Referral commission (part of invariant 5): every line is what the order's release paid its
    referrer and what its reversals took back; an order's shares never exceed its release;
    two levels at most, within the cap; wallets agree with the ledger, a debt is never a
    negative balance."""
    c = Check("referral", 5)
    released: dict[tuple[int, str], int] = {
        (int(oid), str(account)): int(amount)
        for oid, account, amount in _rows(
            session,
            """SELECT e.order_id, e.account, SUM(e.amount) FROM ledger_entries e
               JOIN ledger_transfers t ON t.id = e.transfer_id
               WHERE t.kind = 'release' AND e.account LIKE 'referral_frozen:%'
               GROUP BY e.order_id, e.account""",
        )
    }
    returned: dict[tuple[int, int], int] = {}  # (order, member) -> taken back
    for oid, account, amount in _rows(
        session,
        """SELECT e.order_id, e.account, SUM(e.amount) FROM ledger_entries e
           JOIN ledger_transfers t ON t.id = e.transfer_id
           WHERE t.kind = 'release_reversal' AND e.account LIKE 'referral_%'
           GROUP BY e.order_id, e.account""",
    ):
        key = (int(oid), int(str(account).rsplit(":", 1)[1]))
        returned[key] = returned.get(key, 0) - int(amount)
    seen: set[tuple[int, str]] = set()
    per_order: dict[int, tuple[int, int, int]] = {}  # order -> (shares, rates, base)
    for cid, oid, uid, level, base, rate, amount, rev in _rows(
        session,
        """SELECT id, order_id, user_id, level, base_amount, rate_bps, amount, reversed_amount
           FROM referral_commissions""",
    ):
        account = f"referral_frozen:{uid}"
        seen.add((int(oid), account))
        paid = released.get((int(oid), account), 0)
        if amount != paid:
            c.violations.append(
                f"referral commission {cid}: {amount} but order {oid}'s release paid {paid}"
            )
        back = returned.get((int(oid), int(uid)), 0)
        if rev != back:
            c.violations.append(
                f"referral commission {cid}: {rev} reversed but the ledger took back {back}"
            )
        if level not in (1, 2):
            c.violations.append(f"referral commission {cid}: level {level}")
        if amount > (base * rate + 5000) // 10000:
            c.violations.append(f"referral commission {cid}: {amount} > its rate of {base}")
        shares, rates, _ = per_order.get(int(oid), (0, 0, 0))
        per_order[int(oid)] = (shares + int(amount), rates + int(rate), int(base))
    for (oid, account), amount in released.items():
        if (oid, account) not in seen:
            c.violations.append(f"order {oid}: release paid {amount} to {account}, no line")
    for oid, (shares, rates, _) in per_order.items():
        if rates > 3000:
            c.violations.append(f"order {oid}: referral rates {rates} bps exceed 30%")
        out = session.execute(
            text(
                "SELECT COALESCE(SUM(-amount), 0) FROM ledger_entries"
                " WHERE transfer_id = :t AND account = 'escrow'"
            ),
            {"t": f"release:{oid}"},
        ).scalar()
        if shares > int(out or 0):
            c.violations.append(f"order {oid}: referral shares {shares} > released {out}")
    balances: dict[str, int] = dict(
        _rows(
            session,
            "SELECT account, SUM(amount) FROM ledger_entries WHERE account LIKE 'referral_%'"
            " GROUP BY account",
        )
    )
    for uid, frozen, available, withdrawing, debt in _rows(
        session, "SELECT user_id, frozen, available, withdrawing, debt FROM referral_wallets"
    ):
        for name, value in (
            ("frozen", frozen),
            ("available", available),
            ("withdrawing", withdrawing),
            ("debt", -debt),
        ):
            in_ledger = balances.get(f"referral_{name}:{uid}", 0)
            if value != in_ledger:
                c.violations.append(f"member {uid}: referral {name} {value} ≠ ledger {in_ledger}")
    for account, amount in balances.items():
        if account.startswith("referral_debt:") and amount > 0:
            c.violations.append(f"account {account} is positive ({amount})")
    return c.violations


def pickup_violations(session: Session) -> list[str]:
    """Wave fulfilment (part of invariant 3): each order arrives, is picked up or closed by
    the wave's policy once; pickups and shipments agree with their orders."""
    violations: list[str] = []
    expected = {
        "waiting": ("arrived", "refunded"),
        "picked_up": ("completed", "refunded"),
        "kept": ("completed", "refunded"),
        "refunded": ("refunded",),
    }
    for pid, oid, pstatus, ostatus in _rows(
        session,
        "SELECT p.id, p.order_id, p.status, o.status FROM pickups p"
        " JOIN orders o ON o.id = p.order_id",
    ):
        if ostatus not in expected.get(pstatus, ()):
            violations.append(f"pickup {pid}: {pstatus} but order {oid} is {ostatus}")
    for (oid,) in _rows(
        session,
        """SELECT o.id FROM orders o LEFT JOIN pickups p ON p.order_id = o.id
           WHERE o.kind = 'wave' AND o.status = 'arrived' AND p.id IS NULL""",
    ):
        violations.append(f"order {oid}: arrived without a pickup code")
    for (pid,) in _rows(
        session,
        "SELECT id FROM pickups WHERE status = 'waiting' AND unpicked_at < :t",
        t=clock.now() - SETTLE_GRACE,
    ):
        violations.append(f"pickup {pid}: past its days but the wave's policy not applied")
    for sid, oid, status in _rows(
        session,
        """SELECT s.id, o.id, o.status FROM shipments s
           JOIN wave_orders i ON i.wave_id = s.wave_id AND i.pickup_point_id = s.pickup_point_id
           JOIN orders o ON o.id = i.order_id
           WHERE (s.received_at IS NOT NULL AND o.status IN ('confirmed', 'shipped'))
              OR (s.refunded_at IS NOT NULL AND o.status IN ('confirmed', 'shipped', 'arrived'))""",
    ):
        violations.append(f"shipment {sid}: order {oid} still {status}")
    return violations


def aftersale_violations(session: Session) -> list[str]:
    """After-sales (part of invariant 3): each accepted case refunds its amount once, through
    its own refund; no other case refunds anything; claims never exceed what was bought."""
    violations: list[str] = []
    for rid, oid, amount, cid, status, refunded, case_order in _rows(
        session,
        """SELECT r.id, r.order_id, r.amount, c.id, c.status, c.amount_refunded, c.order_id
           FROM refunds r LEFT JOIN aftersale_cases c ON c.refund_id = r.id
           WHERE r.reason = 'after_sale'""",
    ):
        if cid is None:
            violations.append(f"refund {rid} (order {oid}): after-sale refund with no case")
        elif status != CaseStatus.ACCEPTED or refunded != amount or case_order != oid:
            violations.append(
                f"case {cid}: {status}, refunded {refunded} on order {case_order},"
                f" but refund {rid} gave {amount} on order {oid}"
            )
    for cid, status, refunded, refund_id in _rows(
        session,
        """SELECT c.id, c.status, c.amount_refunded, c.refund_id FROM aftersale_cases c
           LEFT JOIN refunds r ON r.id = c.refund_id AND r.reason = 'after_sale'
           WHERE (c.status = 'accepted' AND r.id IS NULL) OR (c.status <> 'accepted'
                  AND (c.amount_refunded <> 0 OR c.refund_id IS NOT NULL))""",
    ):
        violations.append(f"case {cid}: {status}, refunded {refunded}, refund {refund_id}")
    for oid, item, claimed, bought in _rows(
        session,
        """SELECT l.order_id, l.item_id, SUM(l.quantity), MAX(COALESCE(w.quantity, o.quantity))
           FROM aftersale_lines l
           JOIN aftersale_cases c ON c.id = l.case_id AND c.status IN ('open', 'accepted')
           JOIN orders o ON o.id = l.order_id
           LEFT JOIN wave_order_lines w ON w.order_id = l.order_id AND w.item_id = l.item_id
           GROUP BY l.order_id, l.item_id""",
    ):
        if claimed > bought:
            violations.append(f"order {oid}: item {item} claimed {claimed} > bought {bought}")
    return violations


def bargain_cut_violations(session: Session) -> list[str]:
    """Every bargain's counted cuts sum to start − price, and every revision of its cut
    schedule to start − floor; the taken cuts are the schedule's first ones."""
    c = Check("", 3)
    for bid, start, floor, price, taken, needed, cut, counted in _rows(
        session,
        """SELECT b.id, b.start_price, b.floor_price, b.price, b.cuts_taken, b.helpers_needed,
                  COALESCE(SUM(h.amount), 0), COUNT(h.id)
           FROM bargains b
           LEFT JOIN bargain_helps h ON h.bargain_id = b.id AND h.status = 'counted'
           GROUP BY b.id, b.start_price, b.floor_price, b.price, b.cuts_taken,
                    b.helpers_needed""",
    ):
        if start - price != cut:
            c.violations.append(f"bargain {bid}: cut {start - price}, but its helps cut {cut}")
        if price < floor or counted != taken or taken > needed:
            c.violations.append(
                f"bargain {bid}: price {price} (floor {floor}), {counted} helps counted,"
                f" {taken} cuts taken of {needed}"
            )
    for bid, revision, total, span, count, needed in _rows(
        session,
        """SELECT k.bargain_id, k.revision, SUM(k.amount), b.start_price - b.floor_price,
                  COUNT(*), b.helpers_needed
           FROM bargain_cuts k JOIN bargains b ON b.id = k.bargain_id
           GROUP BY k.bargain_id, k.revision, b.start_price, b.floor_price, b.helpers_needed""",
    ):
        if total != span or count != needed:
            c.violations.append(
                f"bargain {bid}: schedule revision {revision} has {count} cuts summing to"
                f" {total}, not {needed} summing to {span}"
            )
    schedules: dict[int, list[int]] = {}
    for bid, amount in _rows(
        session,
        """SELECT k.bargain_id, k.amount FROM bargain_cuts k
           JOIN bargains b ON b.id = k.bargain_id AND k.revision = b.revision
           ORDER BY k.bargain_id, k.seq""",
    ):
        schedules.setdefault(bid, []).append(amount)
    taken_cuts: dict[int, list[int]] = {}
    for bid, amount in _rows(
        session,
        "SELECT bargain_id, amount FROM bargain_helps WHERE status = 'counted'"
        " ORDER BY bargain_id, id",
    ):
        taken_cuts.setdefault(bid, []).append(amount)
    for bid, cuts in taken_cuts.items():
        if schedules.get(bid, [])[: len(cuts)] != cuts:
            c.violations.append(f"bargain {bid}: its helps did not take its schedule's cuts")
    return c.violations


def bargain_stock_violations(session: Session) -> list[str]:
    """A bargain campaign never sells more than its stock, and its counters match its
    orders."""
    c = Check("", 1)
    for cid, stock, sold, held, unpaid, paid in _rows(
        session,
        """SELECT c.id, c.stock, c.sold, c.held,
                  (SELECT COUNT(*) FROM orders o WHERE o.kind = 'bargain'
                    AND o.campaign_id = c.id AND o.status = 'pending_payment'),
                  (SELECT COUNT(*) FROM orders o WHERE o.kind = 'bargain'
                    AND o.campaign_id = c.id AND (
                      o.status IN ('paid', 'confirmed', 'shipped', 'completed')
                      OR (o.status = 'refunded' AND o.close_reason IN ('not_shipped', 'manual'))))
           FROM bargain_campaigns c""",
    ):
        if sold < 0 or held < 0 or sold + held > stock:
            c.violations.append(f"bargain campaign {cid}: sold {sold} + held {held} > {stock}")
        if held != unpaid or sold != paid:
            c.violations.append(
                f"bargain campaign {cid}: held {held}, sold {sold}, but its orders hold"
                f" {unpaid} and sold {paid}"
            )
    return c.violations


def points_violations(session: Session) -> list[str]:
    """The points journal (part of invariant 5; its own tables, like the money journal):
    balanced, no account but the source negative, each member's cached balance the sum of
    their entries, their experience the sum of their awards', every award in the journal."""
    c = Check("points", 5)
    for tid, s in _rows(
        session,
        "SELECT transfer_id, SUM(amount) FROM points_entries GROUP BY transfer_id"
        " HAVING SUM(amount) <> 0",
    ):
        c.violations.append(f"points transfer {tid} sums to {s}")
    sums: dict[str, int] = dict(
        _rows(session, "SELECT account, SUM(amount) FROM points_entries GROUP BY account")
    )
    for account, amount in sums.items():
        if account != "issued" and amount < 0:
            c.violations.append(f"points account {account} is negative ({amount})")
    for user_id, cached, experience in _rows(
        session, "SELECT user_id, balance, experience FROM points_balances"
    ):
        in_journal = sums.get(f"member:{user_id}", 0)
        if cached != in_journal:
            c.violations.append(f"member {user_id}: points balance {cached} ≠ entries {in_journal}")
        earned = session.execute(
            text("SELECT COALESCE(SUM(experience), 0) FROM points_awards WHERE user_id = :u"),
            {"u": user_id},
        ).scalar()
        if experience != earned:
            c.violations.append(f"member {user_id}: experience {experience} ≠ awards {earned}")
    members = {int(a.split(":", 1)[1]) for a in sums if a.startswith("member:")}
    cached_ids = {row[0] for row in _rows(session, "SELECT user_id FROM points_balances")}
    for user_id in sorted(members - cached_ids):
        c.violations.append(f"member {user_id}: points entries but no balance row")
    for award_id, user_id, points, in_journal in _rows(
        session,
        """SELECT a.id, a.user_id, a.points, COALESCE(SUM(e.amount), 0) FROM points_awards a
           LEFT JOIN points_entries e ON e.transfer_id = 'award:' || CAST(a.id AS VARCHAR(20))
                AND e.account = 'member:' || CAST(a.user_id AS VARCHAR(20))
           GROUP BY a.id, a.user_id, a.points""",
    ):
        if points != in_journal:
            c.violations.append(
                f"points award {award_id} of member {user_id}: {points} ≠ journal {in_journal}"
            )
    return c.violations


CHECKS = (check_stock, check_seats, check_settlement, check_orders, check_journal)


def run(session: Session) -> list[Check]:
    return [check(session) for check in CHECKS]
