"""The verifiable record's pure parts: RFC 9162 Merkle tree hashing, inclusion and
consistency proofs (made and checked), canonical entry data, and signed checkpoints.

RFC 9162 §2.1 (the same tree as RFC 6962):

* the hash of an empty tree is SHA-256 of the empty string;
* a leaf is ``SHA-256(0x00 ‖ data)``;
* a node is ``SHA-256(0x01 ‖ left ‖ right)``, where for ``n`` leaves the left subtree holds
  the largest power of two smaller than ``n``.

Proofs are made from the leaf hashes (``list[bytes]``) and checked with the verification
algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, which need only the proof, the sizes and the
roots. Nothing here touches a database; :mod:`tuangou.journal.service` stores the leaves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
CHECKPOINT_HEADER = "tuangou journal v1"
GLOBAL = "global"  # the origin of the whole log; a community's view is "community/<id>"


def origin_of(community_id: int | None) -> str:
    return GLOBAL if not community_id else f"community/{community_id}"


# ---------------------------------------------------------------- entries


def canonical(data: dict[str, Any]) -> bytes:
    """An entry's data as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


# ---------------------------------------------------------------- trees


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, bottom-up (RFC 9162 §2.1.1): O(n), no recursion."""
    if not leaves:
        return EMPTY_ROOT
    # Merge complete subtrees left to right like a binary counter: the stack holds the roots
    # of perfect subtrees of decreasing sizes, which is the RFC's shape for any n.
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        size, node = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, node_hash(left, node)
        stack.append((size, node))
    size, node = stack.pop()
    while stack:
        _, left = stack.pop()
        node = node_hash(left, node)
    return node


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1): the audit path of leaf ``index``."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk down from the top, remembering the siblings; the path is bottom-up.
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1) between the first ``old_size`` leaves and all."""
    n = len(leaves)
    if not 0 < old_size <= n:
        raise ValueError(f"no consistency proof from {old_size} to {n}")
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` take ``leaf`` at ``index`` to ``expected_root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``new_size`` an append-only extension of the one
    of ``old_size``? (Equal sizes need an empty proof and equal roots.)"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str  # ISO 8601 with its UTC offset

    def text(self) -> bytes:
        """What is signed: one field a line, ending with a newline."""
        return (
            f"{CHECKPOINT_HEADER}\n{self.origin}\n{self.size}\n{self.root.hex()}\n{self.time}\n"
        ).encode()


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """An Ed25519 signature by the raw 32-byte ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_id(public_key: bytes) -> str:
    """A short name of a public key: the first 8 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


# ---------------------------------------------------------------- a member's bundle


def check_bundle(bundle: dict[str, Any], public_key: bytes) -> list[str]:
    """Everything a member can check of an exported bundle (``GET /api/journal/me``)
    without trusting the server: each checkpoint's signature by the pinned key, the
    consistency of the older checkpoint with the newer, each entry's leaf (recomputed from
    its data) and inclusion proof against the newest checkpoint, and that the escrow balance
    the server states equals the sum of the member's escrow legs in those entries.
    Entries newer than the checkpoint carry no proof yet: they count in the balance only.
    Returns the problems found (empty: all holds)."""
    problems: list[str] = []
    try:
        checkpoint = _checkpoint(bundle["checkpoint"])
    except (KeyError, TypeError, ValueError):
        return ["the bundle has no checkpoint"]
    if not verify_signature(public_key, checkpoint.text(), _hex(bundle["checkpoint"], "signature")):
        problems.append(f"checkpoint {checkpoint.size}: the signature is not by the pinned key")
    older = bundle.get("previous")
    if older:
        prev = _checkpoint(older)
        if not verify_signature(public_key, prev.text(), _hex(older, "signature")):
            problems.append(f"checkpoint {prev.size}: the signature is not by the pinned key")
        proof = [bytes.fromhex(p) for p in bundle.get("consistency") or []]
        if not verify_consistency(prev.size, checkpoint.size, prev.root, checkpoint.root, proof):
            problems.append(
                f"checkpoints {prev.size} and {checkpoint.size} are not consistent:"
                " history was rewritten"
            )
    member = bundle.get("member_id")
    escrow = 0
    for entry in bundle.get("entries") or []:
        index = int(entry["leaf_index"])
        data = str(entry["data"]).encode()
        leaf = leaf_hash(data)
        if leaf.hex() != entry.get("leaf_hash"):
            problems.append(f"entry {index}: its leaf hash is not the hash of its data")
        if entry.get("proof") is None:  # newer than the checkpoint: counted, not proven
            if index < checkpoint.size:
                problems.append(f"entry {index} ({entry.get('ref')}): no proof given")
            escrow += member_escrow(json.loads(data), member)
            continue
        proof = [bytes.fromhex(p) for p in entry["proof"]]
        if not verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root):
            problems.append(
                f"entry {index} ({entry.get('ref')}): not included in checkpoint {checkpoint.size}"
            )
        escrow += member_escrow(json.loads(data), member)
    stated = bundle.get("escrow_balance")
    if stated is not None and int(stated) != escrow:
        problems.append(
            f"the escrow balance stated ({stated}) is not the sum of the entries ({escrow})"
        )
    return problems


def member_escrow(data: dict[str, Any], member: Any) -> int:
    """What an entry moved into (or out of) escrow for ``member``'s orders."""
    if data.get("source") != "ledger" or data.get("buyer") != member:
        return 0
    return sum(int(amount) for account, amount in data.get("legs") or [] if account == "escrow")


def _checkpoint(raw: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        origin=str(raw["origin"]),
        size=int(raw["size"]),
        root=bytes.fromhex(str(raw["root"])),
        time=str(raw["time"]),
    )


def _hex(raw: dict[str, Any], name: str) -> bytes:
    try:
        return bytes.fromhex(str(raw.get(name) or ""))
    except ValueError:
        return b""
