"""Bargain by friends (砍价 / 助力): the use cases other domains, entry points and jobs call.

* ``campaigns``: an operator's bargain campaign (its stock allocated from the SKU), pausing
  it, its end (unsold stock back to the SKU, once);
* ``bargaining``: starting a bargain (its cut schedule fixed and stored), friends' cuts, the
  risk check before each cut (:func:`register_help_check`), reversing a fraud ring's helps
  (:func:`reverse_helps`), the end of a bargain whose time ran out;
* ``ordering``: the bargain as a kind of order (``bargain``), bought at the price reached.

The cut schedule itself is pure, in ``bargains.rules``.
"""

from tuangou.bargains.rules import BargainStatus, CampaignStatus, HelpStatus, RiskAction
from tuangou.bargains.service.bargaining import (
    SHARE_TOKEN_BYTES,
    Details,
    Helped,
    bargains_of,
    bargains_of_campaign,
    campaign_of,
    details,
    due,
    expire,
    get_bargain,
    help_bargain,
    helped,
    helps_for_journal,
    helps_of,
    may_see,
    refusals_of,
    register_help_check,
    register_on_helped,
    reverse_helps,
    schedule_of,
    start_bargain,
    unregister_help_check,
    visible_bargain,
)
from tuangou.bargains.service.campaigns import (
    CampaignInput,
    close_campaign,
    create_campaign,
    endable,
    get_campaign,
    is_live,
    list_campaigns,
    set_campaign_status,
)
from tuangou.bargains.service.ordering import KIND, KIND_NAME, Bought, place_order

__all__ = [
    "KIND",
    "KIND_NAME",
    "SHARE_TOKEN_BYTES",
    "BargainStatus",
    "Bought",
    "CampaignInput",
    "CampaignStatus",
    "Details",
    "HelpStatus",
    "Helped",
    "RiskAction",
    "bargains_of",
    "bargains_of_campaign",
    "campaign_of",
    "close_campaign",
    "create_campaign",
    "details",
    "due",
    "endable",
    "expire",
    "get_bargain",
    "get_campaign",
    "help_bargain",
    "helped",
    "helps_for_journal",
    "helps_of",
    "is_live",
    "list_campaigns",
    "may_see",
    "place_order",
    "refusals_of",
    "register_help_check",
    "register_on_helped",
    "reverse_helps",
    "schedule_of",
    "set_campaign_status",
    "start_bargain",
    "unregister_help_check",
    "visible_bargain",
]
