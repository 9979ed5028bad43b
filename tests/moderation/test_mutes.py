"""Mutes: 1 h, 1 day, 7 days; refused posting until the second they end; lifted early."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.communities import inbox, refused
from tests.conftest import rows, run_worker
from tests.moderation.conftest import World
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.moderation import errors
from tuangou.moderation import service as moderation


def _until() -> datetime:
    found = rows("SELECT until FROM moderation_mutes WHERE lifted_at IS NULL ORDER BY id DESC")
    value = found[0][0]
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def may_post(w: World, who: dict[str, object], now: datetime) -> str | None:
    """None when the member may post in the first community at ``now``, else the refusal."""
    try:
        with unit_of_work(readonly=True) as s:
            moderation.check_may_post(
                s, community_id=w.community["id"], user_id=int(str(who["user_id"])), now=now
            )
    except errors.DomainError as exc:
        return exc.code
    return None


def test_a_mute_ends_at_its_second(world: World) -> None:
    period, length = "1h", timedelta(hours=1)
    w = world
    member = w.members[0]
    mutes = f"/api/leader/communities/{w.community['id']}/mutes"
    r = w.post(mutes, w.leader, {"user_id": member["user_id"], "period": period, "reason": "刷屏"})
    assert r.status_code == 201, r.text
    until = _until()
    assert r.json()["until"] == clock.iso(until)
    started = rows("SELECT created_at FROM moderation_mutes")[0][0]
    started = started if isinstance(started, datetime) else datetime.fromisoformat(str(started))
    assert until - started == length

    # The second before it ends: refused, naming until when; at its end and after: allowed.
    with pytest.raises(errors.MutedUntil) as refusal, unit_of_work(readonly=True) as s:
        moderation.require_not_muted(
            s,
            community_id=w.community["id"],
            user_id=member["user_id"],
            now=until - timedelta(seconds=1),
        )
    assert refusal.value.status == 403
    assert refusal.value.extra["until"] == clock.iso(until)
    assert may_post(w, member, until - timedelta(seconds=1)) == "muted_until"
    assert may_post(w, member, until) is None
    assert may_post(w, member, until + timedelta(seconds=1)) is None
    # Only in that community, and only that member.
    assert may_post(w, w.members[1], until - timedelta(seconds=1)) is None

    me = w.get(f"/api/communities/{w.community['id']}/me", member).json()
    assert (me["muted_until"], me["mute_reason"], me["may_post"]) == (
        clock.iso(until),
        "刷屏",
        False,
    )
    run_worker()
    (told,) = [m for m in inbox(w.api, member) if m["kind"] == "moderation.muted"]
    assert "刷屏" in told["body"]


def test_unmute_early_and_every_mute_refusal(world: World) -> None:
    w = world
    member, other = w.members[0], w.members[1]
    cid = w.community["id"]
    mutes = f"/api/leader/communities/{cid}/mutes"
    body = {"user_id": member["user_id"], "period": "1d", "reason": "骂人"}
    before = rows("SELECT COUNT(*) FROM moderation_log")
    refused(w.post(mutes, other, body), 403, "not_a_moderator")
    refused(w.post(mutes, w.leader2, body), 404, "community_not_found")
    refused(w.post(mutes, w.leader, {**body, "period": "2d"}), 422, "invalid_input")
    refused(w.post(mutes, w.leader, {**body, "reason": ""}), 422, "invalid_input")
    refused(
        w.post(mutes, w.leader, {**body, "user_id": w.outsider["user_id"]}), 409, "not_a_member"
    )
    refused(
        w.post(mutes, w.op, {**body, "user_id": w.leader["user_id"]}), 409, "cannot_mute_leader"
    )
    refused(w.delete(f"{mutes}/{member['user_id']}", w.leader), 409, "not_muted")
    assert rows("SELECT COUNT(*) FROM moderation_log") == before
    assert rows("SELECT COUNT(*) FROM moderation_mutes") == [(0,)]

    assert w.post(mutes, w.op, body).status_code == 201  # an operator mutes too
    now = clock.now()
    assert may_post(w, member, now) == "muted_until"
    refused(w.delete(f"{mutes}/{member['user_id']}", other), 403, "not_a_moderator")
    r = w.delete(f"{mutes}/{member['user_id']}", w.leader)
    assert r.status_code == 200, r.text
    assert r.json() == {"community_id": cid, "user_id": member["user_id"], "unmuted": True}
    assert may_post(w, member, clock.now()) is None
    me = w.get(f"/api/communities/{cid}/me", member).json()
    assert (me["muted_until"], me["may_post"]) == (None, True)
    actions = [e["action"] for e in w.get("/api/leader/moderation/log", w.leader).json()]
    assert actions == ["unmute", "mute"]

    # A new mute replaces the one in force: 7 days, then 1 hour, is 1 hour.
    week = {"user_id": member["user_id"], "period": "7d", "reason": "a"}
    assert w.post(mutes, w.leader, week).status_code == 201
    assert _until() - clock.now() > timedelta(days=6, hours=23)
    hour = {"user_id": member["user_id"], "period": "1h", "reason": "b"}
    assert w.post(mutes, w.leader, hour).status_code == 201
    assert may_post(w, member, clock.now() + timedelta(hours=1, seconds=1)) is None
    in_force = run_in_transaction(lambda s: len(moderation.mutes_of(s, [cid], clock.now())))
    assert in_force == 1
