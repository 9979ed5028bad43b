"""The verifiable record (可验证的账本): an append-only Merkle log of every money transfer,
points transfer and friend's help, signed checkpoints, proofs, and the operator's check.

* **Appending.** The ledger, points and bargains call the hooks the composition root
  registers (:func:`on_ledger_transfer`, :func:`on_points_transfer`, :func:`on_bargain_help`)
  in the transaction that writes the row. :func:`append` reads the row back through its
  domain's service (the same reader :func:`verify_local` uses later), stores its canonical
  JSON and leaf hash with no leaf index yet, and notes the session.
* **Sequencing.** Just before that transaction commits (SQLAlchemy's ``before_commit``),
  the entries it wrote take the next leaf indexes from the one counter row
  (``journal_head``): ``UPDATE … SET size = size + n RETURNING size``. The row is taken last,
  after every other lock of the transaction, and held to its commit, so indexes follow the
  commits' order without gaps or duplicates on both backends.
* **Checkpoints.** :func:`publish_checkpoints` (a worker job) signs the size and root of the
  whole log, and of each community's view, with the instance's Ed25519 key, at most one per
  new size and one per ``journal_checkpoint_minutes``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from tuangou.bargains import service as bargains
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import execute, table, unit_of_work, upsert_insert
from tuangou.journal import errors, rules
from tuangou.journal.models import JournalCheckpoint, JournalEntry, JournalHead, JournalMember
from tuangou.ledger import service as ledger
from tuangou.orders import service as orders
from tuangou.points import service as points
from tuangou.pools import service as pools

__all__ = [
    "SOURCES",
    "Checkpoint",
    "Entry",
    "append",
    "append_many",
    "checkpoint",
    "checkpoints",
    "concerns",
    "consistency",
    "inclusion",
    "install",
    "key_file",
    "member_bundle",
    "on_bargain_help",
    "on_ledger_transfer",
    "on_ledger_transfers",
    "on_points_transfer",
    "public_key",
    "publish_checkpoints",
    "size",
    "verify_local",
]

log = logging.getLogger(__name__)

_PENDING = "tuangou.journal.pending"


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Built:
    data: dict[str, Any]
    members: tuple[int, ...]
    community_id: int | None


Builder = Callable[[Session, Sequence[str]], dict[str, Built]]


def _ledger(session: Session, refs: Sequence[str]) -> dict[str, Built]:
    rows = ledger.journal_rows(session, refs)
    order_ids = sorted({r["order"] for r in rows.values() if r["order"] is not None})
    buyers = orders.buyers(session, order_ids)
    communities = pools.communities_of_orders(session, order_ids)
    built: dict[str, Built] = {}
    for ref, row in rows.items():
        buyer = buyers.get(row["order"]) if row["order"] is not None else None
        members = {buyer} if buyer is not None else set()
        for account, _ in row["legs"]:
            if account.startswith("referral_"):  # referral_<state>:<member>
                members.add(int(account.rsplit(":", 1)[1]))
        data = {"source": "ledger", **row, "buyer": buyer}
        community = communities.get(row["order"]) if row["order"] is not None else None
        built[ref] = Built(data, tuple(sorted(members)), community)
    return built


def _points(session: Session, refs: Sequence[str]) -> dict[str, Built]:
    return {
        ref: Built({"source": "points", **row}, (int(row["member"]),), None)
        for ref, row in points.journal_rows(session, refs).items()
    }


def _helps(session: Session, refs: Sequence[str]) -> dict[str, Built]:
    rows = bargains.helps_for_journal(session, [int(r) for r in refs])
    return {
        str(help_id): Built({"source": "bargain_help", **row}, (int(row["member"]),), None)
        for help_id, row in rows.items()
    }


SOURCES: dict[str, Builder] = {"ledger": _ledger, "points": _points, "bargain_help": _helps}


# ---------------------------------------------------------------- appending


def on_ledger_transfer(session: Session, transfer_id: str) -> None:
    append(session, "ledger", transfer_id)


def on_ledger_transfers(session: Session, transfer_ids: list[str]) -> None:
    append_many(session, "ledger", transfer_ids)


def on_points_transfer(session: Session, transfer_id: str) -> None:
    append(session, "points", transfer_id)


def on_bargain_help(session: Session, *, help_id: int, **_: Any) -> None:
    append(session, "bargain_help", str(help_id))


def append(session: Session, source: str, ref: str) -> None:
    """Add the row ``ref`` of ``source`` to the log, in the caller's transaction; it takes
    its leaf index when that transaction commits."""
    built = SOURCES[source](session, [ref]).get(ref)
    if built is None:
        raise LookupError(f"{source} {ref} is not there to journal")
    data = rules.canonical(built.data)
    entry_id = execute(
        session,
        _NEW_ENTRY,
        {
            "source": source,
            "ref": ref,
            "community_id": built.community_id,
            "data": data.decode(),
            "leaf_hash": rules.leaf_hash(data).hex(),
            "created_at": clock.now(),
        },
    ).scalar_one()
    if built.members:
        execute(
            session,
            _NEW_MEMBER,
            [{"member_id": m, "entry_id": entry_id} for m in built.members],
        )
    session.info[_PENDING] = True


def append_many(session: Session, source: str, refs: Sequence[str]) -> None:
    """:func:`append` for many rows of ``source`` at once, in the order given: one read of
    the rows, one multi-row INSERT of the entries, one of who they concern."""
    if not refs:
        return
    built = SOURCES[source](session, refs)
    missing = [ref for ref in refs if ref not in built]
    if missing:
        raise LookupError(f"{source} {missing[0]} is not there to journal")
    now = clock.now()
    rows = []
    for ref in refs:
        data = rules.canonical(built[ref].data)
        rows.append(
            {
                "source": source,
                "ref": ref,
                "community_id": built[ref].community_id,
                "data": data.decode(),
                "leaf_hash": rules.leaf_hash(data).hex(),
                "created_at": now,
            }
        )
    entries = table(JournalEntry)
    inserted = execute(
        session,
        entries.insert().returning(entries.c.ref, entries.c.id),
        rows,
    )
    made: dict[str, int] = {str(ref): int(entry_id) for ref, entry_id in inserted}
    members = [{"member_id": m, "entry_id": made[ref]} for ref in refs for m in built[ref].members]
    if members:
        execute(session, _NEW_MEMBER, members)
    session.info[_PENDING] = True


_NEW_ENTRY = table(JournalEntry).insert().returning(table(JournalEntry).c.id)
_NEW_MEMBER = table(JournalMember).insert()
_installed = threading.Lock()
_listening = False


def install() -> None:
    """Give the entries of each transaction their leaf indexes just before it commits
    (called once by the composition root)."""
    global _listening
    with _installed:
        if not _listening:
            event.listen(Session, "before_commit", _sequence)
            _listening = True


def _sequence(session: Session) -> None:
    if not session.info.get(_PENDING) or session.in_nested_transaction():
        return  # a savepoint's release: the outer transaction numbers them at its commit
    session.info.pop(_PENDING, None)
    entries = table(JournalEntry)
    # Unnumbered rows this transaction can see are its own: every committed entry has a
    # leaf index, given in its transaction before it committed.
    ids = list(
        session.execute(
            select(entries.c.id).where(entries.c.leaf_index.is_(None)).order_by(entries.c.id)
        ).scalars()
    )
    if not ids:
        return
    head = table(JournalHead)
    grow = update(head).where(head.c.id == 1).values(size=head.c.size + len(ids))
    new_size = session.execute(grow.returning(head.c.size)).scalar()
    if new_size is None:  # no counter row yet (a database emptied by hand): made once
        session.execute(
            upsert_insert(session)(head)
            .values(id=1, size=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        new_size = session.execute(grow.returning(head.c.size)).scalar_one()
    first = new_size - len(ids)
    session.execute(
        text("UPDATE journal_entries SET leaf_index = :i WHERE id = :id"),
        [{"i": first + n, "id": entry_id} for n, entry_id in enumerate(ids)],
    )


# ---------------------------------------------------------------- reading the log


def size(session: Session, community_id: int | None = None) -> int:
    if not community_id:
        return int(session.scalar(select(JournalHead.size).where(JournalHead.id == 1)) or 0)
    return int(
        session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.community_id == community_id, JournalEntry.leaf_index.is_not(None))
        )
        or 0
    )


def _leaves(session: Session, community_id: int | None, n: int | None = None) -> list[bytes]:
    query = select(JournalEntry.leaf_hash).where(JournalEntry.leaf_index.is_not(None))
    if community_id:
        query = query.where(JournalEntry.community_id == community_id)
    query = query.order_by(JournalEntry.leaf_index)
    if n is not None:
        query = query.limit(n)
    return [bytes.fromhex(h) for h in session.scalars(query)]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    community_id: int | None
    size: int
    root: str
    time: str
    key_id: str
    signature: str

    @classmethod
    def of(cls, row: JournalCheckpoint) -> Checkpoint:
        return cls(
            origin=rules.origin_of(row.community_id),
            community_id=row.community_id or None,
            size=row.tree_size,
            root=row.root_hash,
            time=row.signed_at,
            key_id=row.key_id,
            signature=row.signature,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "community_id": self.community_id,
            "size": self.size,
            "root": self.root,
            "time": self.time,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def checkpoints(
    session: Session, community_id: int | None = None, *, limit: int = 20
) -> list[Checkpoint]:
    """The newest signed checkpoints first."""
    rows = session.scalars(
        select(JournalCheckpoint)
        .where(JournalCheckpoint.community_id == (community_id or 0))
        .order_by(JournalCheckpoint.tree_size.desc())
        .limit(limit)
    )
    return [Checkpoint.of(r) for r in rows]


def checkpoint(
    session: Session, community_id: int | None = None, tree_size: int | None = None
) -> Checkpoint:
    """The checkpoint of ``tree_size`` (default: the latest)."""
    query = select(JournalCheckpoint).where(JournalCheckpoint.community_id == (community_id or 0))
    if tree_size is None:
        query = query.order_by(JournalCheckpoint.tree_size.desc()).limit(1)
    else:
        query = query.where(JournalCheckpoint.tree_size == tree_size)
    row = session.scalars(query).first()
    if row is None:
        raise errors.CheckpointNotFound()
    return Checkpoint.of(row)


@dataclass(frozen=True)
class Entry:
    leaf_index: int | None  # in the view asked for (the whole log or a community's)
    global_index: int | None
    source: str
    ref: str
    community_id: int | None
    data: str | None
    leaf_hash: str
    proof: list[str] | None  # against the checkpoint of the reply; None: not in it yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "global_index": self.global_index,
            "source": self.source,
            "ref": self.ref,
            "community_id": self.community_id,
            "data": self.data,
            "leaf_hash": self.leaf_hash,
            "proof": self.proof,
        }


def inclusion(
    session: Session, leaf_index: int, tree_size: int, community_id: int | None = None
) -> tuple[Entry, list[str]]:
    """The entry at ``leaf_index`` of a view and its audit path in the tree of ``tree_size``
    (a signed checkpoint's size)."""
    checkpoint(session, community_id, tree_size)  # proofs only against signed checkpoints
    leaves = _leaves(session, community_id, tree_size)
    if not 0 <= leaf_index < len(leaves):
        raise errors.EntryNotFound()
    row = _entry_at(session, leaf_index, community_id)
    proof = [p.hex() for p in rules.inclusion_proof(leaf_index, leaves)]
    return _entry(row, leaf_index, proof), proof


def concerns(session: Session, entry: Entry, member_id: int) -> bool:
    """Is ``member_id`` among the members the entry concerns?"""
    return (
        session.scalar(
            select(func.count())
            .select_from(JournalMember)
            .join(JournalEntry, JournalEntry.id == JournalMember.entry_id)
            .where(
                JournalMember.member_id == member_id,
                JournalEntry.source == entry.source,
                JournalEntry.ref == entry.ref,
            )
        )
        or 0
    ) > 0


def _entry_at(session: Session, leaf_index: int, community_id: int | None) -> JournalEntry:
    query = select(JournalEntry).where(JournalEntry.leaf_index.is_not(None))
    if community_id:
        query = query.where(JournalEntry.community_id == community_id)
    row = session.scalars(
        query.order_by(JournalEntry.leaf_index).offset(leaf_index).limit(1)
    ).first()
    if row is None:
        raise errors.EntryNotFound()
    return row


def _entry(row: JournalEntry, index: int | None, proof: list[str] | None) -> Entry:
    return Entry(
        leaf_index=index,
        global_index=row.leaf_index,
        source=row.source,
        ref=row.ref,
        community_id=row.community_id,
        data=row.data,
        leaf_hash=row.leaf_hash,
        proof=proof,
    )


def consistency(
    session: Session, first: int, second: int, community_id: int | None = None
) -> list[str]:
    """The consistency proof from the signed checkpoint of size ``first`` to ``second``."""
    if not 0 < first <= second:
        raise errors.BadProofRange(f"first must be between 1 and second ({second})")
    checkpoint(session, community_id, first)
    checkpoint(session, community_id, second)
    leaves = _leaves(session, community_id, second)
    return [p.hex() for p in rules.consistency_proof(first, leaves)]


def member_bundle(session: Session, member_id: int) -> dict[str, Any]:
    """What a member checks (``tuangou verify``, 我的账本): the latest signed checkpoint of
    the whole log and the one before it with their consistency proof, every entry that
    concerns the member with its inclusion proof (``None`` for those newer than the
    checkpoint), and the member's escrow balance as the ledger states it."""
    latest = checkpoints(session, None, limit=2)
    top = latest[0] if latest else None
    leaves = _leaves(session, None, top.size) if top else []
    rows = session.scalars(
        select(JournalEntry)
        .join(JournalMember, JournalMember.entry_id == JournalEntry.id)
        .where(JournalMember.member_id == member_id, JournalEntry.leaf_index.is_not(None))
        .order_by(JournalEntry.leaf_index)
    )
    entries = []
    for row in rows:
        index = row.leaf_index
        assert index is not None
        proven = top is not None and index < top.size
        proof = [p.hex() for p in rules.inclusion_proof(index, leaves)] if proven else None
        entries.append(_entry(row, index, proof).as_dict())
    order_ids = [o.id for o in orders.list_for_user(session, member_id, limit=100_000)]
    bundle: dict[str, Any] = {
        "member_id": member_id,
        "public_key": public_key().hex(),
        "checkpoint": top.as_dict() if top else None,
        "previous": None,
        "consistency": None,
        "entries": entries,
        "escrow_balance": ledger.balance_of_orders(session, ledger.ESCROW, order_ids),
    }
    if len(latest) == 2:
        bundle["previous"] = latest[1].as_dict()
        bundle["consistency"] = [p.hex() for p in rules.consistency_proof(latest[1].size, leaves)]
    return bundle


# ---------------------------------------------------------------- the key and checkpoints


def key_file() -> Path:
    """``TUANGOU_JOURNAL_KEY_FILE``, else ``journal-ed25519.pem`` in the data directory (beside
    a SQLite database, else the working directory)."""
    configured = get_settings().journal_key_file
    if configured:
        return Path(configured)
    from tuangou.core.storage import default_root

    return default_root().parent / "journal-ed25519.pem"


_keys: dict[Path, Ed25519PrivateKey] = {}
_keys_lock = threading.Lock()


def _private_key() -> Ed25519PrivateKey:
    path = key_file()
    with _keys_lock:
        found = _keys.get(path)
        if found is None:
            found = _keys[path] = _load_or_make(path)
        return found


def _load_or_make(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # made once: another process that made it first wins
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            log.info("made the journal's signing key %s", path)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return loaded


def public_key() -> bytes:
    """The raw 32 bytes of the public half of the signing key."""
    return (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def publish_checkpoints(*, force: bool = False) -> int:
    """Sign a checkpoint of the whole log and of each community's view that has grown since
    its last one, once ``journal_checkpoint_minutes`` have passed (or now, with ``force``).
    Returns how many were signed."""
    every = timedelta(minutes=get_settings().journal_checkpoint_minutes)
    signed = 0
    with unit_of_work() as session:
        now = clock.now()
        views: list[int | None] = [None]
        views += list(
            session.scalars(
                select(JournalEntry.community_id)
                .where(JournalEntry.community_id.is_not(None))
                .distinct()
                .order_by(JournalEntry.community_id)
            )
        )
        for community_id in views:
            n = size(session, community_id)
            if n == 0:
                continue
            last = session.execute(
                select(JournalCheckpoint.tree_size, JournalCheckpoint.created_at)
                .where(JournalCheckpoint.community_id == (community_id or 0))
                .order_by(JournalCheckpoint.tree_size.desc())
                .limit(1)
            ).first()
            if last is not None and (n <= last[0] or (not force and now - last[1] < every)):
                continue
            signed += _sign(session, community_id, n, now)
    return signed


def _sign(session: Session, community_id: int | None, n: int, now: Any) -> int:
    root = rules.root(_leaves(session, community_id, n))
    cp = rules.Checkpoint(rules.origin_of(community_id), n, root, clock.iso(now))
    key = _private_key()
    pub = public_key()
    stmt = (
        upsert_insert(session)(table(JournalCheckpoint))
        .values(
            community_id=community_id or 0,
            tree_size=n,
            root_hash=root.hex(),
            signed_at=cp.time,
            key_id=rules.key_id(pub),
            signature=key.sign(cp.text()).hex(),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["community_id", "tree_size"])
    )
    return int(execute(session, stmt).rowcount or 0)


# ---------------------------------------------------------------- the operator's check


def verify_local(session: Session) -> list[str]:
    """Recompute every leaf from the journaled rows as they stand now, and the roots of
    every signed checkpoint from the stored leaves, and check each checkpoint's signature
    with this instance's key. Returns the problems, each naming its entry or checkpoint."""
    problems: list[str] = []
    pub = public_key()
    rows = session.execute(
        select(
            JournalEntry.leaf_index,
            JournalEntry.source,
            JournalEntry.ref,
            JournalEntry.data,
            JournalEntry.leaf_hash,
        ).order_by(JournalEntry.leaf_index)
    ).all()
    by_source: dict[str, list[Any]] = {}
    for row in rows:
        by_source.setdefault(row.source, []).append(row)
    for source, found in by_source.items():
        builder = SOURCES.get(source)
        for start in range(0, len(found), 500):
            chunk = found[start : start + 500]
            current = builder(session, [r.ref for r in chunk]) if builder else {}
            for r in chunk:
                name = f"entry {r.leaf_index} ({source} {r.ref})"
                if r.leaf_index is None:
                    problems.append(f"{name}: has no leaf index")
                if rules.leaf_hash(r.data.encode()).hex() != r.leaf_hash:
                    problems.append(f"{name}: its stored leaf hash is not the hash of its data")
                now = current.get(r.ref)
                if now is None:
                    problems.append(f"{name}: the journaled row is gone")
                    continue
                fresh = rules.canonical(now.data).decode()
                if fresh != r.data:
                    problems.append(
                        f"{name}: the journaled row was changed ({_diff(r.data, fresh)})"
                    )
    indexes = [r.leaf_index for r in rows if r.leaf_index is not None]
    if indexes != list(range(len(indexes))):
        problems.append("the leaf indexes have gaps or repeats")
    if size(session) != len(indexes):
        problems.append(f"the log's size says {size(session)}, it holds {len(indexes)} leaves")
    for community_id in [None, *_communities(session)]:
        leaves = _leaves(session, community_id)
        for cp in session.scalars(
            select(JournalCheckpoint).where(JournalCheckpoint.community_id == (community_id or 0))
        ):
            name = f"checkpoint {rules.origin_of(community_id)} {cp.tree_size}"
            if cp.tree_size > len(leaves):
                problems.append(f"{name}: the log holds fewer leaves than it signed")
                continue
            root = rules.root(leaves[: cp.tree_size])
            if root.hex() != cp.root_hash:
                problems.append(f"{name}: the stored leaves give another root (history rewritten)")
            signed = rules.Checkpoint(
                rules.origin_of(community_id),
                cp.tree_size,
                bytes.fromhex(cp.root_hash),
                cp.signed_at,
            )
            if not rules.verify_signature(pub, signed.text(), bytes.fromhex(cp.signature)):
                problems.append(f"{name}: the signature is not by this instance's key")
    return problems


def _communities(session: Session) -> list[int]:
    return [
        int(c)
        for c in session.scalars(
            select(JournalCheckpoint.community_id)
            .where(JournalCheckpoint.community_id != 0)
            .distinct()
        )
    ]


def _diff(logged: str, now: str) -> str:
    a, b = json.loads(logged), json.loads(now)
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {json.dumps(a.get(k))} → {json.dumps(b.get(k))}" for k in changed)
