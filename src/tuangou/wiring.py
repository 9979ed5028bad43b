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
        auth,
        bargains,
        flash,
        leader,
        member,
        operator,
        referral,
        risk,
        teambuy,
    )


def _load_models() -> None:
    """Every table, so that the metadata (and Alembic) sees the whole schema."""
    import tuangou.accounts.models
    import tuangou.aftersales.models
    import tuangou.bargains.models
    import tuangou.catalog.models
    import tuangou.commission.models
    import tuangou.communities.models
    import tuangou.core.models
    import tuangou.flashsales.models
    import tuangou.fulfilment.models
    import tuangou.ledger.models
    import tuangou.notifications.models
    import tuangou.orders.models
    import tuangou.payments.models
    import tuangou.photos.models
    import tuangou.pools.models
    import tuangou.referral.models
    import tuangou.risk.models
    import tuangou.search.models
    import tuangou.teams.models  # noqa: F401


def _register() -> None:
    from tuangou.bargains import service as bargains
    from tuangou.core import outbox
    from tuangou.credit import service as credit
    from tuangou.flashsales import service as flash
    from tuangou.notifications import service as notifications
    from tuangou.orders import service as orders
    from tuangou.payments import tasks as payment_tasks
    from tuangou.pools import service as pools
    from tuangou.risk import service as risk
    from tuangou.teams import service as teams

    # Kinds of order (DOMAIN.md §1, §2): what a payment, a release or a delivery does.
    orders.register_kind("team", teams.KIND)
    orders.register_kind("wave", pools.KIND)
    orders.register_kind(flash.KIND_NAME, flash.KIND)
    orders.register_kind(bargains.KIND_NAME, bargains.KIND)

    # Conditions across domains: a leader below the credit threshold publishes no wave.
    pools.register_leader_check("credit", credit.require_good_standing)

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


def _void_ring_helps(session: Any, member_ids: Sequence[int], reason: str) -> None:
    """A ring an operator confirmed loses its helps on bargains nobody has paid for."""
    from tuangou.bargains import service as bargains

    bargains.reverse_helps(session, member_ids, reason)
