"""The operator console (平台运营, at a desk; still usable on a phone), under ``/ops``.

Queues first (leader applications, after-sale cases, withdrawals), then the dashboard's
charts; the catalogue (suppliers, products, SKUs, team-buy campaigns); orders and manual
refunds; each wave's purchase order. Every page needs the operator role; each handler calls
the same services as the API's operator endpoints, with the same arguments.

One module per group of screens (``dashboard``, ``leaders``, ``catalogue``, ``links``,
``orders``, ``waves``, ``webhooks``, ``quality``), what they share in ``common``;
:data:`router` gathers their routes.
"""

from __future__ import annotations

from fastapi import APIRouter

from tuangou.web.pages.operator import (
    catalogue,
    dashboard,
    leaders,
    links,
    orders,
    quality,
    simulate,
    waves,
    webhooks,
)

router = APIRouter()
for _screens in (dashboard, leaders, catalogue, links, orders, waves, webhooks, simulate, quality):
    router.include_router(_screens.router)
