"""Community pre-sale waves (社区团购 团期 / 接龙): the use cases other domains, entry points
and jobs call.

One module per part of a wave's life; this package re-exports their public functions, so a
caller writes ``from tuangou.pools import service as pools``:

* ``publishing``: a leader's own wave, a supplier's catalogue wave, a leader adopting one
  (帮卖), and the reads of waves, items and listings;
* ``ordering``: ordering from a listing (接龙), and the wave as a kind of order (``KIND``);
* ``cancelling``: a member cancelling their order before the cut-off (a full refund);
* ``settlement``: settling a wave at its cut-off, exactly once, in chunks;
* ``queries``: reads for the API, the pages and the exports;
* ``history``: a leader's history of waves, as the leader credit reads it.

Guarded writes as everywhere: an item's stock (``sold + held + q <= stock``), a member's
limit per item (an upsert guarded by the limit), the chain number per listing (a counter
row), and the wave's status (compare-and-set), so each wave settles exactly once. The pure
rules (tiers, outcomes at cut-off) are in ``pools.rules``; the worker's job in ``pools.tasks``.
"""

from tuangou.pools.rules import ItemStatus, LineStatus, WaveStatus
from tuangou.pools.service.cancelling import Cancelled, cancel_order, cancellable
from tuangou.pools.service.history import (
    LeaderOrderStats,
    PickupShipment,
    SupplierWave,
    leader_order_stats,
    pickup_shipments,
    supplier_waves,
)
from tuangou.pools.service.ordering import (
    KIND,
    Placed,
    info_of,
    lines_of,
    on_order_released,
    on_paid,
    payees,
    place_order,
)
from tuangou.pools.service.publishing import (
    ItemInput,
    LeaderCheck,
    WaveInput,
    adopt_wave,
    all_waves,
    catalogue,
    create_catalogue_wave,
    early_window,
    get_listing,
    get_wave,
    held_back,
    items_of,
    listings_of_community,
    listings_of_leader,
    listings_of_wave,
    new_share_link,
    open_to,
    opens_at,
    publish_supplier_wave,
    publish_wave,
    register_early_access,
    register_leader_check,
    register_opening,
    waves_of_supplier,
)
from tuangou.pools.service.queries import (
    CHAIN_LATEST,
    CHAIN_MOST,
    CHAIN_PAGE,
    ChainPage,
    ChainSummary,
    ListingShare,
    OrderLabel,
    SkuChoice,
    chain,
    chain_page,
    chain_summary,
    communities_of_orders,
    delivery_deadline,
    listing_orders_page,
    may_see_listing,
    open_waves_at,
    order_labels,
    ordered_units,
    progress,
    purchase_order,
    share_of_listing,
    sku_choices,
    visible_listing,
    wave_orders,
)
from tuangou.pools.service.settlement import (
    SETTLE_CHUNK,
    due_waves,
    settle_wave,
)

__all__ = [
    "CHAIN_LATEST",
    "CHAIN_MOST",
    "CHAIN_PAGE",
    "KIND",
    "SETTLE_CHUNK",
    "Cancelled",
    "ChainPage",
    "ChainSummary",
    "ItemInput",
    "ItemStatus",
    "LeaderCheck",
    "LeaderOrderStats",
    "LineStatus",
    "ListingShare",
    "OrderLabel",
    "PickupShipment",
    "Placed",
    "SkuChoice",
    "SupplierWave",
    "WaveInput",
    "WaveStatus",
    "adopt_wave",
    "all_waves",
    "cancel_order",
    "cancellable",
    "catalogue",
    "chain",
    "chain_page",
    "chain_summary",
    "communities_of_orders",
    "create_catalogue_wave",
    "delivery_deadline",
    "due_waves",
    "early_window",
    "get_listing",
    "get_wave",
    "held_back",
    "info_of",
    "items_of",
    "leader_order_stats",
    "lines_of",
    "listing_orders_page",
    "listings_of_community",
    "listings_of_leader",
    "listings_of_wave",
    "may_see_listing",
    "new_share_link",
    "on_order_released",
    "on_paid",
    "open_to",
    "open_waves_at",
    "opens_at",
    "order_labels",
    "ordered_units",
    "payees",
    "pickup_shipments",
    "place_order",
    "progress",
    "publish_supplier_wave",
    "publish_wave",
    "purchase_order",
    "register_early_access",
    "register_leader_check",
    "register_opening",
    "settle_wave",
    "share_of_listing",
    "sku_choices",
    "supplier_waves",
    "visible_listing",
    "wave_orders",
    "waves_of_supplier",
]
