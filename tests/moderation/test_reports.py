"""Reports, the automatic hide at the threshold, decisions and the queue, over HTTP on both
backends, with a fake kind of content ("note")."""

from __future__ import annotations

from typing import Any

from tests.communities import inbox, refused
from tests.conftest import rows, run_worker
from tests.moderation.conftest import Notes, World

REPORTS = "/api/reports"


def report(w: World, who: dict[str, Any], target: int, reason: str = "spam", **extra: Any) -> Any:
    return w.post(REPORTS, who, {"kind": "note", "id": target, "reason": reason, **extra})


def state() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "cases": rows("SELECT id, kind, target_id, status, open_reports FROM moderation_cases"),
        "reports": rows("SELECT id, reporter_id, reason FROM moderation_reports"),
        "log": rows("SELECT id, action FROM moderation_log"),
        "outbox": rows("SELECT id FROM outbox_events WHERE topic LIKE 'moderation.%'"),
    }


def test_reports_hide_at_the_threshold_until_a_moderator_restores(
    world: World, notes: Notes
) -> None:
    w = world
    author, a, b, c = w.members
    note = notes.add(w.community["id"], author["user_id"], "加我私聊, 便宜出")

    first = report(w, a, note, "spam", note="广告")
    assert first.status_code == 201, first.text
    assert first.json()["target"]["status"] == "reported"
    assert first.json()["hidden_now"] is False
    assert report(w, b, note, "fraud").json()["hidden_now"] is False
    assert notes.calls == []

    # The third distinct member's report hides it until review.
    third = report(w, c, note, "spam")
    assert third.status_code == 201, third.text
    assert third.json()["hidden_now"] is True
    assert third.json()["target"]["status"] == "hidden_pending_review"
    assert notes.calls == [(note, True)]
    log = w.get("/api/leader/moderation/log", w.leader).json()
    assert [(e["action"], e["actor"], e["target_id"]) for e in log] == [("auto_hide", None, note)]

    # The queue: the leader's, with the reports' reasons and counts.
    queue = w.get("/api/leader/moderation/queue", w.leader)
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()
    assert (item["kind"], item["id"], item["status"]) == ("note", note, "hidden_pending_review")
    assert item["reports"] == 3 and item["reasons"] == {"spam": 2, "fraud": 1}
    assert item["notes"] == ["广告"] and item["excerpt"] == "加我私聊, 便宜出"
    assert w.get("/api/leader/moderation/queue", w.leader2).json() == []
    ops = w.get("/api/ops/moderation/queue", w.op).json()
    assert [i["id"] for i in ops] == [note]

    # The author is told it was hidden.
    run_worker()
    told = [m for m in inbox(w.api, author) if m["kind"] == "moderation.hidden"]
    assert len(told) == 1

    # A hidden note is no longer reportable (nobody but its author and moderators sees it).
    refused(report(w, w.leader, note), 404, "target_not_found")

    # Restoring needs a reason, and a moderator.
    restore = f"/api/moderation/note/{note}/restore"
    refused(w.post(restore, w.leader, {"reason": ""}), 422, "invalid_input")
    refused(w.post(restore, a, {"reason": "误报"}), 403, "not_a_moderator")
    refused(w.post(restore, w.leader2, {"reason": "误报"}), 404, "target_not_found")
    r = w.post(restore, w.leader, {"reason": "误报, 是正常转让"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "visible" and r.json()["reason"] == "误报, 是正常转让"
    assert notes.calls[-1] == (note, False)
    refused(w.post(restore, w.leader, {"reason": "再次"}), 409, "not_hidden")
    assert w.get("/api/leader/moderation/queue", w.leader).json() == []
    run_worker()
    restored = [m for m in inbox(w.api, author) if m["kind"] == "moderation.restored"]
    assert len(restored) == 1 and "误报, 是正常转让" in restored[0]["body"]


def every_report_refusal_has_its_code_and_changes_nothing(w: World, notes: Notes) -> None:
    author, a = w.members[0], w.members[1]
    note = notes.add(w.community["id"], author["user_id"])
    assert report(w, a, note).status_code == 201
    before = state()
    refused(report(w, author, note), 409, "cannot_report_own")
    refused(report(w, a, note, "abuse"), 409, "already_reported")
    refused(report(w, w.outsider, note), 404, "target_not_found")  # not in its community
    refused(report(w, a, note + 100), 404, "target_not_found")
    refused(
        w.post(REPORTS, a, {"kind": "poem", "id": note, "reason": "spam"}),
        422,
        "unknown_target_kind",
    )
    refused(report(w, w.members[2], note, "rude"), 422, "invalid_input")
    refused(report(w, w.members[2], note, "other", note="x" * 501), 422, "invalid_input")
    assert state() == before
    # Staff accounts do not report.
    refused(
        w.post(REPORTS, w.op, {"kind": "note", "id": note, "reason": "spam"}), 403, "staff_account"
    )


def test_refusals_and_decisions_of_the_communitys_leader_and_operators(
    world: World, notes: Notes
) -> None:
    w = world
    every_report_refusal_has_its_code_and_changes_nothing(w, notes)
    author = w.members[0]
    note = notes.add(w.community["id"], author["user_id"])
    hide = f"/api/moderation/note/{note}/hide"
    before = state()
    refused(w.post(hide, w.members[1], {"reason": "广告"}), 403, "not_a_moderator")
    refused(w.post(hide, author, {"reason": "广告"}), 403, "not_a_moderator")
    refused(w.post(hide, w.leader2, {"reason": "广告"}), 404, "target_not_found")
    refused(w.post(hide, w.leader, {}), 422, "invalid_input")
    refused(
        w.post("/api/moderation/poem/1/hide", w.leader, {"reason": "x"}), 422, "unknown_target_kind"
    )
    assert state() == before

    r = w.post(hide, w.leader, {"reason": "发广告"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"]) == ("hidden", "发广告")
    assert notes.items[note].hidden
    refused(w.post(hide, w.op, {"reason": "再藏"}), 409, "already_hidden")
    # An operator moderates everything, a note of no community included.
    lonely = notes.add(None, author["user_id"])
    refused(
        w.post(f"/api/moderation/note/{lonely}/hide", w.leader, {"reason": "x"}),
        403,
        "not_a_moderator",
    )
    r = w.post(f"/api/moderation/note/{lonely}/hide", w.op, {"reason": "违规"})
    assert r.status_code == 200, r.text
    r = w.post(f"/api/moderation/note/{note}/restore", w.op, {"reason": "申诉通过"})
    assert r.status_code == 200, r.text

    log = w.get("/api/ops/moderation/log", w.op).json()
    assert [(e["action"], e["target_id"], e["reason"]) for e in log] == [
        ("restore", note, "申诉通过"),
        ("hide", lonely, "违规"),
        ("hide", note, "发广告"),
    ]
    assert log[2]["actor"]["nickname"] == "王团长"
    # The leader's log: their communities only (the note of no community is not theirs).
    mine = w.get("/api/leader/moderation/log", w.leader).json()
    assert [e["action"] for e in mine] == ["restore", "hide"]
    assert w.get("/api/leader/moderation/log", w.leader2).json() == []
    hides = w.get("/api/ops/moderation/log", w.op, action="hide").json()
    assert [e["target_id"] for e in hides] == [lonely, note]
    scoped = w.get("/api/ops/moderation/log", w.op, community_id=w.community["id"]).json()
    assert len(scoped) == 2
    refused(w.get("/api/ops/moderation/log", w.op, action="delete"), 422, "invalid_input")
    refused(w.get("/api/ops/moderation/log", w.leader), 403, "forbidden")
    refused(w.get("/api/leader/moderation/log", w.members[1]), 403, "not_a_leader")
    refused(
        w.get("/api/leader/moderation/log", w.leader, community_id=w.community2["id"]),
        404,
        "community_not_found",
    )
    # The log is append-only: nothing above changed an entry, two restores make two entries.
    assert rows("SELECT COUNT(*) FROM moderation_log")[0][0] == 3


def test_held_content_waits_in_the_queue_until_approved(world: World, notes: Notes) -> None:
    from tuangou.core.db import run_in_transaction
    from tuangou.moderation import service as moderation

    w = world
    author = w.members[0]
    text = "想要的加 微-信 聊"
    note = notes.add(w.community["id"], author["user_id"], text)
    notes.items[note].hidden = True  # created held: not published
    matched = ["加微信"]
    assert moderation.screen_text(text) == matched
    run_in_transaction(lambda s: moderation.record_held(s, "note", note, matched))
    (item,) = w.get("/api/leader/moderation/queue", w.leader).json()
    assert (item["status"], item["matched"], item["reports"]) == ("held", matched, 0)

    approve = f"/api/moderation/note/{note}/approve"
    refused(w.post(approve, w.members[1], {}), 403, "not_a_moderator")
    refused(
        w.post(f"/api/moderation/note/{note}/restore", w.leader, {"reason": "x"}), 409, "not_hidden"
    )
    r = w.post(approve, w.leader, {})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "visible"
    assert notes.items[note].hidden is False and notes.calls == [(note, False)]
    refused(w.post(approve, w.leader, {}), 409, "not_held")
    other = notes.add(w.community["id"], author["user_id"])
    refused(w.post(f"/api/moderation/note/{other}/approve", w.leader, {}), 409, "not_held")
    assert w.get("/api/leader/moderation/queue", w.leader).json() == []
    assert [e["action"] for e in w.get("/api/leader/moderation/log", w.leader).json()] == [
        "approve"
    ]
