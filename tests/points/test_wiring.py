"""Points put together with the other domains by the composition root (both backends): a
counted help on a friend's bargain earns the helper points; the bargain's starter earns
nothing for it; a completed order earns nobody anything until an inviter lookup exists."""

from __future__ import annotations

from tests.bargains.helpers import campaign, help_, member, start
from tests.conftest import Api, audit_violations, scalar


def test_a_bargain_help_earns_the_helper_points(api: Api) -> None:
    _, camp = campaign(api, helpers_needed=4)
    starter = member(api, "发起人")
    bargain = start(api, starter, camp["id"])
    friend = member(api, "邻居")
    assert help_(api, friend, bargain).status_code == 201
    assert help_(api, friend, bargain).status_code == 409  # already helped: no second award
    me = api.c.get("/api/me/points", headers={"Authorization": friend["Authorization"]}).json()
    assert me["balance"] == 2 and me["experience"] == 2
    assert (
        scalar(
            "SELECT COUNT(*) FROM points_awards WHERE reason = 'bargain_help' AND user_id = :u",
            u=int(friend["user_id"]),
        )
        == 1
    )
    assert (
        scalar("SELECT COUNT(*) FROM points_awards WHERE user_id = :u", u=int(starter["user_id"]))
        == 0
    )
    assert audit_violations() == []
