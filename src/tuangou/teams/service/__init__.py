"""Team buys (拼团): the use cases other domains, entry points and jobs call.

One module per part of a team's life; this package re-exports their public functions, so a
caller writes ``from tuangou.teams import service as teams``:

* ``campaigns``: creating a campaign, pausing it, its end (stock back to the SKU);
* ``seats``: opening a team (its minimum size reserved), joining one, leaving before it
  forms, and buying alone (单独购买: a team order without a seat);
* ``hooks``: the team buy as a kind of order (what a payment or a release does to a team);
* ``settlement``: settling a team exactly once, when full or at its deadline;
* ``membership``: seats, the opener's hand-over, closing an empty team;
* ``gate``: refusals of openings and joins from memory when a campaign has nothing free;
* ``locking``: the team buy's row locks, in the platform's one order (``core.locks``);
* ``queries``: reads for the API and the pages.

The state machine itself (which status follows which event) is pure, in ``teams.rules``.
"""

from tuangou.teams.rules import CampaignStatus, SeatStatus, TeamStatus
from tuangou.teams.service.campaigns import (
    CampaignInput,
    close_campaign,
    create_campaign,
    endable,
    get_campaign,
    is_live,
    list_campaigns,
    page_campaigns,
    set_campaign_status,
    tiers_of,
)
from tuangou.teams.service.gate import refusal_to_join, refusal_to_open
from tuangou.teams.service.hooks import KIND
from tuangou.teams.service.locking import claim_team
from tuangou.teams.service.membership import seat_of
from tuangou.teams.service.queries import (
    OPEN_TEAMS_MOST,
    OPEN_TEAMS_PAGE,
    OpenTeamsPage,
    chain_list,
    chains_of,
    get_team,
    joinable_counts,
    live_teams_of_member,
    open_teams_page,
    order_ids_of_team,
    seat_in_team,
    teams_of_campaign,
)
from tuangou.teams.service.seats import Seat, Solo, buy_alone, join_team, leave_team, open_team
from tuangou.teams.service.settlement import due, overdue_count, settle_team

__all__ = [
    "KIND",
    "OPEN_TEAMS_MOST",
    "OPEN_TEAMS_PAGE",
    "CampaignInput",
    "CampaignStatus",
    "OpenTeamsPage",
    "Seat",
    "SeatStatus",
    "Solo",
    "TeamStatus",
    "buy_alone",
    "chain_list",
    "chains_of",
    "claim_team",
    "close_campaign",
    "create_campaign",
    "due",
    "endable",
    "get_campaign",
    "get_team",
    "is_live",
    "join_team",
    "joinable_counts",
    "leave_team",
    "list_campaigns",
    "live_teams_of_member",
    "open_team",
    "open_teams_page",
    "order_ids_of_team",
    "overdue_count",
    "page_campaigns",
    "refusal_to_join",
    "refusal_to_open",
    "seat_in_team",
    "seat_of",
    "set_campaign_status",
    "settle_team",
    "teams_of_campaign",
    "tiers_of",
]
