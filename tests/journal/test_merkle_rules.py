"""RFC 9162 / RFC 6962 Merkle hashing and proofs, against the well-known reference vectors
and an independent naive implementation written here from the RFC's definitions."""

from __future__ import annotations

import hashlib
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tuangou.journal import rules

# The inputs of the reference tests of RFC 6962 implementations (certificate-transparency's
# merkle_tree_test, transparency-dev/merkle's testdata), and the roots of their first n leaves.
INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# The audit path of leaf 0 in the 8-leaf tree (the same reference tests).
PATH_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def naive_mth(d: list[bytes]) -> bytes:
    """MTH as RFC 9162 §2.1.1 writes it, recursively, over the entries themselves."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:])).digest()


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), §2.1.3.1."""
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), §2.1.4.1."""

    def sub(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [naive_mth(d)]
        k = 1
        while k * 2 < len(d):
            k *= 2
        if m <= k:
            return [*sub(m, d[:k], b), naive_mth(d[k:])]
        return [*sub(m - k, d[k:], False), naive_mth(d[:k])]

    return sub(m, d, True)


def test_the_empty_tree_and_the_reference_roots() -> None:
    assert rules.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    leaves = [rules.leaf_hash(x) for x in INPUTS]
    for n, expected in enumerate(ROOTS, start=1):
        assert rules.root(leaves[:n]).hex() == expected
        assert naive_mth(INPUTS[:n]).hex() == expected


def test_the_reference_audit_path_and_its_check() -> None:
    leaves = [rules.leaf_hash(x) for x in INPUTS]
    path = rules.inclusion_proof(0, leaves)
    assert [p.hex() for p in path] == PATH_0_OF_8
    root = bytes.fromhex(ROOTS[-1])
    assert rules.verify_inclusion(0, 8, leaves[0], path, root)
    assert not rules.verify_inclusion(1, 8, leaves[0], path, root)
    assert not rules.verify_inclusion(0, 8, leaves[1], path, root)
    assert not rules.verify_inclusion(0, 8, leaves[0], path[:-1], root)


@pytest.mark.parametrize("seed", range(3))
def test_proofs_of_random_trees_match_the_naive_definitions(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(12):
        n = rng.randint(1, 70)
        data = [bytes([i % 256, i // 256]) + rng.randbytes(rng.randint(0, 9)) for i in range(n)]
        leaves = [rules.leaf_hash(x) for x in data]
        top = naive_mth(data)
        assert rules.root(leaves) == top
        for m in rng.sample(range(n), min(n, 6)):
            path = rules.inclusion_proof(m, leaves)
            assert path == naive_path(m, data)
            assert rules.verify_inclusion(m, n, leaves[m], path, top)
            if n > 1:
                assert not rules.verify_inclusion(m, n, leaves[(m + 1) % n], path, top)
        for m in rng.sample(range(1, n + 1), min(n, 6)):
            proof = rules.consistency_proof(m, leaves)
            assert proof == naive_proof(m, data)
            old = naive_mth(data[:m])
            assert rules.verify_consistency(m, n, old, top, proof)
            if m < n:
                other = naive_mth([*data[: m - 1], b"rewritten"])
                assert not rules.verify_consistency(m, n, other, top, proof)
                assert not rules.verify_consistency(m, n, old, top, proof[1:])


def test_a_signature_by_another_key_is_refused() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cp = rules.Checkpoint("global", 8, bytes.fromhex(ROOTS[-1]), "2026-12-07T10:00:00+00:00")
    signature = key.sign(cp.text())
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    other_pub = other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert rules.verify_signature(pub, cp.text(), signature)
    assert not rules.verify_signature(other_pub, cp.text(), signature)
    moved = rules.Checkpoint("global", 7, cp.root, cp.time)
    assert not rules.verify_signature(pub, moved.text(), signature)


def test_canonical_data_is_sorted_and_compact() -> None:
    assert rules.canonical({"b": 1, "a": [1, "团"]}) == '{"a":[1,"团"],"b":1}'.encode()
