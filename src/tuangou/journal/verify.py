"""``tuangou verify``: a member's check of the record that trusts nothing the server says
beyond what it can prove, and the operator's ``--local`` check of the database.

A member pins the server's public key (from ``/journal/key``, once, by a channel they
trust) and checks, with :func:`tuangou.journal.rules.check_bundle`, a proof bundle fetched
with their token or exported from 我的账本. With a state file, the checkpoint seen last time
is remembered, and the next run asks the server for a consistency proof from it and checks
it against the remembered root: the server cannot rewrite history between two runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tuangou.journal import rules


def load_key(value: str) -> bytes:
    """The pinned public key: 64 hex characters, or a file holding them (or a PEM key)."""
    text = value.strip()
    path = Path(text)
    if len(text) != 64 and path.exists():
        raw = path.read_bytes()
        if raw.lstrip().startswith(b"-----BEGIN"):
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            loaded = serialization.load_pem_public_key(raw)
            if not isinstance(loaded, Ed25519PublicKey):
                raise ValueError("the key file is not an Ed25519 public key")
            return loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        text = raw.decode().strip()
    key = bytes.fromhex(text)
    if len(key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes (64 hex characters)")
    return key


def fetch_bundle(server: str, token: str, *, timeout: float = 30.0) -> dict[str, Any]:
    reply = httpx.get(
        server.rstrip("/") + "/api/me/journal",
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )
    reply.raise_for_status()
    found: dict[str, Any] = reply.json()
    return found


def check(
    bundle: dict[str, Any],
    key: bytes,
    *,
    server: str | None = None,
    state: Path | None = None,
) -> tuple[list[str], list[str]]:
    """(problems, notes) of a bundle; with ``state`` and ``server``, also the consistency of
    the checkpoint remembered there with the bundle's, and the state moved forward."""
    problems = rules.check_bundle(bundle, key)
    notes: list[str] = []
    top = bundle.get("checkpoint")
    entries = bundle.get("entries") or []
    pending = sum(1 for e in entries if e.get("proof") is None)
    notes.append(
        f"{len(entries) - pending} entr{'y' if len(entries) - pending == 1 else 'ies'} proven"
        f" in checkpoint {top['size'] if top else '-'}; {pending} newer than it"
    )
    notes.append(f"escrow balance {bundle.get('escrow_balance')} fen")
    if state is not None and top is not None:
        seen = json.loads(state.read_text()) if state.exists() else None
        if seen and server is not None:
            old_size, old_root = int(seen["size"]), bytes.fromhex(seen["root"])
            new_root = bytes.fromhex(top["root"])
            if old_size > int(top["size"]):
                problems.append(f"the log shrank from {old_size} to {top['size']}")
            else:
                reply = httpx.get(
                    server.rstrip("/") + "/api/journal/proofs/consistency",
                    params={"first": old_size, "second": top["size"]},
                    timeout=30.0,
                )
                proof = [bytes.fromhex(p) for p in reply.json().get("proof", [])]
                if reply.status_code != 200 or not rules.verify_consistency(
                    old_size, int(top["size"]), old_root, new_root, proof
                ):
                    problems.append(
                        f"the checkpoint seen last ({old_size}) is not a prefix of"
                        f" {top['size']}: history was rewritten"
                    )
                else:
                    notes.append(f"consistent with the checkpoint seen last ({old_size})")
        if not problems:
            state.write_text(json.dumps({"size": top["size"], "root": top["root"]}))
    return problems, notes
