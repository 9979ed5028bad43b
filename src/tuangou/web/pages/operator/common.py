"""What every screen of the operator console shares: the sections, the labels of statuses
and accounts, and the page helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.web import i18n, status
from tuangou.web.forms import FormState
from tuangou.web.templating import translate

SECTIONS = [
    ("/ops", i18n.lazy("Dashboard")),
    ("/ops/dashboard", i18n.lazy("Figures")),
    ("/ops/applications", i18n.lazy("Leader applications")),
    ("/ops/leaders", i18n.lazy("Sub-leaders")),
    ("/ops/aftersales", i18n.lazy("After-sales")),
    ("/ops/withdrawals", i18n.lazy("Withdrawals")),
    ("/ops/risk", i18n.lazy("Risk reviews")),
    ("/ops/moderation", i18n.lazy("Moderation")),
    ("/ops/referral", i18n.lazy("Referral")),
    ("/ops/orders", i18n.lazy("Orders")),
    ("/ops/waves", i18n.lazy("Waves")),
    ("/ops/campaigns", i18n.lazy("Campaigns")),
    ("/ops/simulate", i18n.lazy("Try before launch")),
    ("/ops/flash", i18n.lazy("Flash sales")),
    ("/ops/bargains", i18n.lazy("Bargains")),
    ("/ops/points", i18n.lazy("Points")),
    ("/ops/achievements", i18n.lazy("Tasks")),
    ("/ops/coupons", i18n.lazy("Coupons")),
    ("/ops/products", i18n.lazy("Products")),
    ("/ops/suppliers", i18n.lazy("Suppliers")),
    ("/ops/quality", i18n.lazy("Supplier quality")),
    ("/ops/webhooks", i18n.lazy("Webhooks")),
    ("/ops/supplier-links", i18n.lazy("Supplier links")),
]

QUEUES = {
    "leader_applications": (i18n.lazy("Leader applications"), "/ops/applications"),
    "aftersales": (i18n.lazy("After-sale cases"), "/ops/aftersales"),
    "withdrawals": (i18n.lazy("Withdrawals waiting"), "/ops/withdrawals"),
}

ORDER_STATUSES = {
    "pending_payment": i18n.lazy("Awaiting payment"),
    "paid": i18n.lazy("Paid"),
    "confirmed": i18n.lazy("Confirmed"),
    "shipped": i18n.lazy("Shipped"),
    "arrived": i18n.lazy("Arrived"),
    "completed": i18n.lazy("Completed"),
    "cancelled": i18n.lazy("Cancelled"),
    "refunded": i18n.lazy("Refunded"),
}
ORDER_KINDS = {
    "team": i18n.lazy("Team buy"),
    "wave": i18n.lazy("Wave"),
    "flash": i18n.lazy("Flash sale"),
    "bargain": i18n.lazy("Bargain"),
    "event": i18n.lazy("Event"),
}

REFUND_REASONS = {
    "price_protection": i18n.lazy("Price protection"),
    "team_failed": i18n.lazy("Team failed"),
    "left_team": i18n.lazy("Left the team"),
    "cancelled_by_member": i18n.lazy("Cancelled by the member"),
    "opener_free": i18n.lazy("Opener free"),
    "not_shipped": i18n.lazy("Not shipped in time"),
    "late_payment": i18n.lazy("Late payment"),
    "manual": i18n.lazy("Refunded by an operator"),
    "moq_not_met": i18n.lazy("Below the minimum quantity"),
    "after_sale": i18n.lazy("After-sale"),
    "not_picked_up": i18n.lazy("Not picked up"),
    "not_delivered": i18n.lazy("Not delivered"),
    "event_cancelled": i18n.lazy("Event cancelled"),
}

WAVE_STATUSES = {
    "open": i18n.lazy("Open"),
    "settling": i18n.lazy("Settling"),
    "settled": i18n.lazy("Settled"),
    "cancelled": i18n.lazy("Cancelled"),
}
ITEM_STATUSES = {
    "open": i18n.lazy("Open"),
    "confirmed": i18n.lazy("Confirmed"),
    "cancelled": i18n.lazy("Below the minimum quantity"),
}

LINE_STATUSES = {
    "open": i18n.lazy("Ordered"),
    "confirmed": i18n.lazy("Confirmed"),
    "refunded": i18n.lazy("Refunded"),
    "cancelled": i18n.lazy("Refunded"),
}
PAYMENT_STATUSES = {
    "pending": i18n.lazy("Waiting for the payer"),
    "succeeded": i18n.lazy("Succeeded"),
    "failed": i18n.lazy("Declined"),
    "expired": i18n.lazy("Expired"),
}
REFUND_STATUSES = {
    "pending": i18n.lazy("Being sent back"),
    "succeeded": i18n.lazy("Sent back"),
}
GATEWAYS = status.GATEWAYS
# The journal's accounts; those of one supplier or leader end in ":<id>".
LEDGER_ACCOUNTS = {
    "gateway": i18n.lazy("Payment gateway"),
    "escrow": i18n.lazy("Escrow"),
    "refunds": i18n.lazy("Refunds owed to members"),
    "subsidy": i18n.lazy("Platform subsidy"),
    "platform_revenue": i18n.lazy("Platform revenue"),
    "supplier_payable": i18n.lazy("Owed to supplier"),
    "leader_frozen": i18n.lazy("Leader commission, frozen"),
    "leader_available": i18n.lazy("Leader commission, available"),
    "leader_withdrawing": i18n.lazy("Leader commission, being withdrawn"),
    "referral_frozen": i18n.lazy("Referral commission, frozen"),
    "referral_available": i18n.lazy("Referral commission, available"),
    "referral_withdrawing": i18n.lazy("Referral commission, being withdrawn"),
    "referral_debt": i18n.lazy("Referral commission owed back"),
}

CAMPAIGN_STATUSES = {
    "active": i18n.lazy("Active"),
    "paused": i18n.lazy("Paused"),
    "ended": i18n.lazy("Ended"),
}
OPENER_PERKS = {
    "none": i18n.lazy("None"),
    "price": i18n.lazy("Opener price"),
    "free": i18n.lazy("Opener free"),
}


# What a finished action says on the page it leads to: ``_done(path, "refunded")`` sends the
# operator to ``path?done=refunded`` and the page shows the message (a reload shows it again,
# as on the member's pages; it changes nothing).
DONE = {
    "saved": i18n.lazy("Saved."),
    "decided": i18n.lazy("Done: the decision is recorded and the people concerned are told."),
    "refunded": i18n.lazy("Refunded. The member sees the reason in the order and the inbox."),
    "accepted": i18n.lazy("Accepted: the refund is on its way to the member."),
    "rejected": i18n.lazy("Rejected: the member is told why."),
}


def _account_name(account: str) -> tuple[str, str]:
    """A journal account as (message id of its kind, the id of its owner or "")."""
    kind, _, owner = account.partition(":")
    return LEDGER_ACCOUNTS.get(kind, account), owner


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    done = request.query_params.get("done", "")
    if done in DONE and "flash" not in values:
        values["flash"] = translate(request, DONE[done])
    return {
        "sections": SECTIONS,
        "order_statuses": ORDER_STATUSES,
        "order_kinds": ORDER_KINDS,
        "refund_reasons": REFUND_REASONS,
        "wave_statuses": WAVE_STATUSES,
        "item_statuses": ITEM_STATUSES,
        "line_statuses": LINE_STATUSES,
        "payment_statuses": PAYMENT_STATUSES,
        "refund_statuses": REFUND_STATUSES,
        "gateways": GATEWAYS,
        "account_name": _account_name,
        **values,
    }


def _refused(exc: DomainError) -> int:
    """A form's refusal: 409 for a conflict with the current state, else 400."""
    return 409 if exc.status == 409 else 400


def _done(path: str, done: str = "saved") -> RedirectResponse:
    """Back to ``path`` after an action that worked, which the page then says (:data:`DONE`)."""
    path, hash_, fragment = path.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}done={done}{hash_}{fragment}"
    return RedirectResponse(joined, status_code=303)


def _save(
    request: Request,
    state: FormState,
    action: Callable[[Session], Any],
    done: str,
    field: str,
    message: str = "saved",
) -> Response | None:
    """A form's change in one transaction: the way to ``done``, or None with the refusal
    next to ``field`` in ``state``."""
    try:
        run_in_transaction(action)
    except DomainError as exc:
        state.refuse(request, exc, field)
        return None
    return _done(done, message)


def age_text(request: Request, seconds: int | None) -> str:
    """How long something has waited, the largest two units ("2 d 3 h", "5 min")."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return translate(request, "%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return translate(request, "%(h)d h %(m)d min", h=hours, m=minutes)
    return translate(request, "%(m)d min", m=minutes)


def _decide(
    request: Request,
    form: Any,
    item_id: int,
    action: Callable[[Session, FormState], Any],
    page: Callable[..., Response],
    done: str,
    *,
    needs_reason: bool,
    message: str = "decided",
) -> Response:
    state = FormState.of(form)
    if needs_reason:
        state.required(request, "reason")
    if state.ok:
        try:
            with unit_of_work() as session:
                action(session, state)
            return _done(done, message)
        except DomainError as exc:
            state.refuse(request, exc, "reason" if needs_reason else "_form")
    return page(request, form=state, failed=item_id, status=400)
