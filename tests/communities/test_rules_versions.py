"""Group rules (群规): versions, acceptance on joining and again after each new version, on
both backends."""

from __future__ import annotations

from typing import Any

from tests.communities import auth, count, make_community, make_leader, refused
from tests.conftest import Api, rows
from tuangou.communities import errors
from tuangou.communities import service as communities
from tuangou.core.db import unit_of_work


def _join(api: Api, who: dict[str, Any], code: str, version: int | None = None) -> Any:
    body = {"rules_version": version} if version is not None else None
    return api.c.post(f"/api/communities/invite/{code}/join", json=body, headers=auth(who))


def _may_post(community_id: int, who: dict[str, Any]) -> str | None:
    try:
        with unit_of_work(readonly=True) as s:
            communities.require_rules_accepted(
                s, community_id=community_id, user_id=int(who["user_id"])
            )
    except errors.RulesNotAccepted as exc:
        return f"{exc.code}:{exc.extra['version']}"
    return None


def test_rules_versions_are_accepted_on_joining_and_again_after_each_new_one(api: Api) -> None:
    op = api.operator()
    leader = make_leader(api, op)
    early = api.signup("早来的")
    late = api.signup("后来的")
    outsider = api.signup("路人")
    community = make_community(api, leader, rules="")
    cid, code = community["id"], community["invite_code"]
    assert community["rules_version"] == 0

    # Without rules, joining needs nothing and posting is allowed.
    assert _join(api, early, code).status_code == 200
    assert _may_post(cid, early) is None
    rules_url = f"/api/communities/{cid}/rules"
    r = api.c.get(rules_url, headers=auth(early))
    assert r.json()["version"] == 0 and r.json()["needs_acceptance"] is False
    refused(
        api.c.post(f"{rules_url}/accept", json={"version": 1}, headers=auth(early)),
        404,
        "rules_not_found",
    )

    # The leader writes version 1: the member who joined before is asked.
    put = f"/api/leader/communities/{cid}/rules"
    r = api.c.put(put, json={"text": "1. 只发团购 2. 文明交流"}, headers=auth(leader))
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["text"]) == (1, "1. 只发团购 2. 文明交流")
    assert _may_post(cid, early) == "rules_not_accepted:1"
    assert _may_post(cid, leader) is None  # the leader is never asked
    shown = api.c.get(rules_url, headers=auth(early)).json()
    assert (shown["version"], shown["needs_acceptance"], shown["accepted_version"]) == (
        1,
        True,
        None,
    )

    # Joining now needs version 1: refused without it (no membership made), or with another.
    page = api.c.get(f"/api/communities/invite/{code}").json()
    assert (page["rules"], page["rules_version"]) == ("1. 只发团购 2. 文明交流", 1)
    r = _join(api, late, code)
    refused(r, 403, "rules_not_accepted")
    assert r.json()["version"] == 1
    refused(_join(api, late, code, 7), 403, "rules_not_accepted")
    assert count("community_members", "user_id = :u", u=int(late["user_id"])) == 0
    assert count("community_rules_acceptances", "user_id = :u", u=int(late["user_id"])) == 0
    assert _join(api, late, code, 1).status_code == 200
    assert _may_post(cid, late) is None
    assert rows(
        "SELECT version FROM community_rules_acceptances WHERE user_id = :u", u=int(late["user_id"])
    ) == [(1,)]

    # Version 2: the member who accepted version 1 is refused until they accept version 2.
    r = api.c.put(put, json={"text": "每天最多 3 条团购"}, headers=auth(leader))
    assert r.json()["version"] == 2
    assert _may_post(cid, late) == "rules_not_accepted:2"
    accept = f"{rules_url}/accept"
    r = api.c.post(accept, json={"version": 1}, headers=auth(late))
    refused(r, 409, "rules_version_stale")
    assert r.json()["version"] == 2
    assert _may_post(cid, late) == "rules_not_accepted:2"
    r = api.c.post(accept, json={"version": 2}, headers=auth(late))
    assert r.status_code == 200, r.text
    assert (r.json()["accepted_version"], r.json()["needs_acceptance"]) == (2, False)
    assert _may_post(cid, late) is None
    # Accepting again changes nothing.
    again = api.c.post(accept, json={"version": 2}, headers={**auth(late), "Idempotency-Key": "a1"})
    assert again.status_code == 200
    assert count("community_rules_acceptances", "user_id = :u", u=int(late["user_id"])) == 2
    me = api.c.get(f"/api/communities/{cid}/me", headers=auth(early)).json()
    assert (me["rules"]["version"], me["may_post"]) == (2, False)

    # The history, newest first: the leader's (and admins').
    history = api.c.get(put, headers=auth(leader))
    assert [(v["version"], v["text"]) for v in history.json()] == [
        (2, "每天最多 3 条团购"),
        (1, "1. 只发团购 2. 文明交流"),
    ]
    refused(api.c.get(put, headers=auth(late)), 403, "not_community_manager")
    refused(api.c.get(rules_url, headers=auth(outsider)), 404, "community_not_found")
    refused(
        api.c.post(accept, json={"version": 2}, headers=auth(outsider)), 404, "community_not_found"
    )


def test_bad_rules_are_refused_and_change_nothing(api: Api) -> None:
    op = api.operator()
    leader = make_leader(api, op)
    community = make_community(api, leader, rules="旧群规")
    member = api.signup("邻居")
    assert _join(api, member, community["invite_code"], 1).status_code == 200
    before = rows("SELECT id, version, text FROM community_rules_versions")
    put = f"/api/leader/communities/{community['id']}/rules"
    for text in ("", "   ", "规" * 5001):
        refused(api.c.put(put, json={"text": text}, headers=auth(leader)), 422, "invalid_input")
    # Only the community's leader writes them.
    refused(api.c.put(put, json={"text": "新"}, headers=auth(member)), 403, "not_community_leader")
    other = make_leader(api, op, "赵团长")
    refused(api.c.put(put, json={"text": "新"}, headers=auth(other)), 404, "community_not_found")
    assert rows("SELECT id, version, text FROM community_rules_versions") == before
    assert rows("SELECT rules, rules_version FROM communities") == [("旧群规", 1)]
    # 5000 characters are allowed.
    r = api.c.put(put, json={"text": "规" * 5000}, headers=auth(leader))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
