from __future__ import annotations

from typing import Any

from pydantic import Field

from tuangou.core.schemas import Out


class KeyOut(Out):
    algorithm: str = Field(description="always Ed25519")
    public_key: str = Field(description="the raw 32-byte public key, in hex")
    key_id: str = Field(description="the first 8 bytes of the key's SHA-256, in hex")
    checkpoint_format: str = Field(description="how the signed text of a checkpoint is built")


class CheckpointOut(Out):
    origin: str = Field(description='"global", or "community/<id>" for a community\'s view')
    community_id: int | None
    size: int = Field(description="the tree size: how many leaves the checkpoint covers")
    root: str = Field(description="the RFC 9162 root hash, in hex")
    time: str = Field(description="when it was signed (ISO 8601, part of the signed text)")
    key_id: str
    signature: str = Field(description="Ed25519 over the checkpoint's text, in hex")

    @classmethod
    def of(cls, cp: Any) -> CheckpointOut:
        return cls(**cp.as_dict())


class EntryOut(Out):
    leaf_index: int | None = Field(description="the leaf's index in the view asked for")
    global_index: int | None = Field(description="the leaf's index in the whole log")
    source: str = Field(description="ledger, points or bargain_help")
    ref: str = Field(description="the journaled row's id in its source")
    community_id: int | None
    data: str | None = Field(
        description="the canonical JSON that was hashed (only to a member it concerns, or an "
        "operator; others get the leaf hash and the proof)"
    )
    leaf_hash: str = Field(description="SHA-256(0x00 ‖ data), in hex")
    proof: list[str] | None = Field(
        description="the inclusion proof against the reply's checkpoint (None: newer than it)"
    )

    @classmethod
    def of(cls, entry: Any) -> EntryOut:
        return cls(**entry.as_dict())


class InclusionOut(Out):
    checkpoint: CheckpointOut
    entry: EntryOut


class ConsistencyOut(Out):
    first: CheckpointOut
    second: CheckpointOut
    proof: list[str] = Field(description="RFC 9162 §2.1.4 consistency proof, hashes in hex")


class BundleOut(Out):
    """Everything `tuangou verify` checks of one member, without trusting the server."""

    member_id: int
    public_key: str
    checkpoint: CheckpointOut | None
    previous: CheckpointOut | None
    consistency: list[str] | None
    entries: list[EntryOut]
    escrow_balance: int = Field(description="the member's escrow, in fen, as the ledger says")

    @classmethod
    def of(cls, bundle: dict[str, Any]) -> BundleOut:
        return cls.model_validate(bundle)
