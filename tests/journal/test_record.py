"""The verifiable record on both backends: appends in the writing transaction, numbered
without gaps under concurrency; signed checkpoints and their consistency; a member's bundle
checked by `tuangou verify`; an operator's edit to a journaled row detected and named."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.conftest import Api, rows
from tuangou.cli import app as cli
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.journal import rules
from tuangou.journal import service as journal
from tuangou.journal import verify as v
from tuangou.ledger import service as ledger


def _transfer(ref: str, amount: int) -> None:
    run_in_transaction(
        lambda s: ledger.transfer(s, ref, "payment", [("gateway", -amount), ("escrow", amount)])
    )


def _problems() -> list[str]:
    with unit_of_work(readonly=True) as session:
        return journal.verify_local(session)


def test_concurrent_appends_take_every_index_once(db: str) -> None:
    def writer(name: str) -> None:
        for i in range(15):
            _transfer(f"test:{name}:{i}", 100 + i)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    indexes = [r[0] for r in rows("SELECT leaf_index FROM journal_entries ORDER BY leaf_index")]
    assert indexes == list(range(30))
    assert rows("SELECT size FROM journal_head") == [(30,)]
    # a rolled-back transfer leaves no entry and takes no index
    with pytest.raises(ZeroDivisionError):
        run_in_transaction(lambda s: (_transfer_in(s), 1 / 0))
    _transfer("test:after", 5)
    assert rows("SELECT MAX(leaf_index), COUNT(*) FROM journal_entries") == [(30, 31)]
    assert _problems() == []


def _transfer_in(session: object) -> None:
    ledger.transfer(session, "test:rolled-back", "payment", [("gateway", -1), ("escrow", 1)])  # type: ignore[arg-type]


def test_checkpoints_are_consistent_and_rewriting_history_is_caught(db: str) -> None:
    for i in range(5):
        _transfer(f"test:{i}", 10)
    assert journal.publish_checkpoints() == 1
    assert journal.publish_checkpoints() == 0  # not grown, and not due
    for i in range(5, 12):
        _transfer(f"test:{i}", 10)
    assert journal.publish_checkpoints() == 0  # grown, but the interval has not passed
    assert journal.publish_checkpoints(force=True) == 1
    key = journal.public_key()
    with unit_of_work(readonly=True) as session:
        first, second = journal.checkpoint(session, None, 5), journal.checkpoint(session)
        proof = journal.consistency(session, 5, 12)
    assert second.size == 12
    for cp in (first, second):
        signed = rules.Checkpoint(cp.origin, cp.size, bytes.fromhex(cp.root), cp.time)
        assert rules.verify_signature(key, signed.text(), bytes.fromhex(cp.signature))
    assert rules.verify_consistency(
        5,
        12,
        bytes.fromhex(first.root),
        bytes.fromhex(second.root),
        [bytes.fromhex(p) for p in proof],
    )
    assert _problems() == []
    # An operator rewrites an old leaf and its data to match: the signed roots give it away.
    with unit_of_work() as session:
        session.execute(
            text("UPDATE journal_entries SET data = :d, leaf_hash = :h WHERE leaf_index = 2"),
            {"d": "{}", "h": rules.leaf_hash(b"{}").hex()},
        )
    found = _problems()
    assert any("entry 2 (ledger test:2): the journaled row was changed" in p for p in found)
    assert any("checkpoint global 5: the stored leaves give another root" in p for p in found)


def test_a_member_verifies_their_entries_and_an_edit_is_named(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid)
    a, b = api.signup("李阿姨"), api.signup("王叔叔")
    team_id = api.open(a, campaign["id"])["team"]["id"]
    api.join(b, team_id)
    journal.publish_checkpoints(force=True)  # the first signed checkpoint
    key_reply = api.c.get("/api/journal/key").json()
    pinned = bytes.fromhex(key_reply["public_key"])
    bundle = api.c.get("/api/me/journal", headers={"Authorization": a["Authorization"]}).json()
    assert bundle["entries"], "the member's payment is in the record"
    assert bundle["escrow_balance"] > 0
    assert rules.check_bundle(bundle, pinned) == []
    assert all(e["proof"] is not None for e in bundle["entries"])
    # `tuangou verify` on the exported bundle, with the pinned key
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", "--key", key_reply["public_key"], "--bundle", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output
    # a server that states another balance, or signs with another key, is caught
    lying = {**bundle, "escrow_balance": bundle["escrow_balance"] + 1}
    assert any("escrow balance" in p for p in rules.check_bundle(lying, pinned))
    assert any("signature" in p for p in rules.check_bundle(bundle, bytes(32)))
    path.write_text(json.dumps(lying))
    bad = runner.invoke(cli, ["verify", "--key", key_reply["public_key"], "--bundle", str(path)])
    assert bad.exit_code == 1
    # With a state file, the next run proves the new checkpoint extends the one seen last.
    monkeypatch.setattr(v.httpx, "get", lambda url, **kw: api.c.get(url, **kw))
    state = tmp_path / "seen.json"
    assert v.check(bundle, pinned, server="", state=state)[0] == []
    _transfer("test:later", 7)
    journal.publish_checkpoints(force=True)
    newer = api.c.get("/api/me/journal", headers={"Authorization": a["Authorization"]}).json()
    problems, notes = v.check(newer, pinned, server="", state=state)
    assert problems == [] and any("consistent with the checkpoint seen last" in n for n in notes)
    forged = {"size": bundle["checkpoint"]["size"], "root": "00" * 32}
    state.write_text(json.dumps(forged))
    problems, _ = v.check(newer, pinned, server="", state=state)
    assert any("history was rewritten" in p for p in problems)
    # the operator's check holds, then an edit to a journaled row is named
    assert runner.invoke(cli, ["verify", "--local"]).exit_code == 0
    ref = next(e["ref"] for e in bundle["entries"] if e["ref"].startswith("pay:"))
    with unit_of_work() as session:
        session.execute(
            text(
                "UPDATE ledger_entries SET amount = amount + 100"
                " WHERE transfer_id = :t AND account = 'escrow'"
            ),
            {"t": ref},
        )
    caught = runner.invoke(cli, ["verify", "--local"])
    assert caught.exit_code == 1
    assert f"(ledger {ref}): the journaled row was changed" in caught.output
