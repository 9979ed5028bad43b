from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tuangou.api.deps import Caller, Member
from tuangou.core.db import unit_of_work
from tuangou.journal import rules, schemas
from tuangou.journal import service as journal

router = APIRouter(tags=["journal"])

Community = Annotated[
    int | None, Query(ge=1, description="a community's view (default: the whole log)")
]
CHECKPOINT_FORMAT = (
    "UTF-8 lines, each ending in \\n: 'tuangou journal v1', the origin, the tree size in "
    "decimal, the root hash in lower-case hex, the time; signed with Ed25519"
)


@router.get("/journal/key", response_model=schemas.KeyOut)
def key() -> dict[str, Any]:
    """The public half of the key that signs the record's checkpoints (pin it)."""
    pub = journal.public_key()
    return schemas.KeyOut(
        algorithm="Ed25519",
        public_key=pub.hex(),
        key_id=rules.key_id(pub),
        checkpoint_format=CHECKPOINT_FORMAT,
    ).model_dump()


@router.get("/journal/checkpoints", response_model=list[schemas.CheckpointOut])
def checkpoints(
    community_id: Community = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[dict[str, Any]]:
    """The newest signed checkpoints of the whole log or of a community's view."""
    with unit_of_work(readonly=True) as session:
        found = journal.checkpoints(session, community_id, limit=limit)
        return [schemas.CheckpointOut.of(cp).model_dump() for cp in found]


@router.get("/journal/checkpoints/latest", response_model=schemas.CheckpointOut)
def latest(community_id: Community = None) -> dict[str, Any]:
    """The latest signed checkpoint. Refusal: ``checkpoint_not_found`` (none yet)."""
    with unit_of_work(readonly=True) as session:
        return schemas.CheckpointOut.of(journal.checkpoint(session, community_id)).model_dump()


@router.get("/journal/checkpoints/{size}", response_model=schemas.CheckpointOut)
def by_size(
    size: Annotated[int, Path(ge=1, le=2**31 - 1)], community_id: Community = None
) -> dict[str, Any]:
    """The signed checkpoint of a tree size. Refusal: ``checkpoint_not_found``."""
    with unit_of_work(readonly=True) as session:
        found = journal.checkpoint(session, community_id, size)
        return schemas.CheckpointOut.of(found).model_dump()


@router.get("/journal/proofs/inclusion", response_model=schemas.InclusionOut)
def inclusion(
    who: Caller,
    leaf_index: Annotated[int, Query(ge=0, le=2**31 - 1)],
    tree_size: Annotated[int, Query(ge=1, le=2**31 - 1)],
    community_id: Community = None,
) -> dict[str, Any]:
    """The inclusion proof of the entry at ``leaf_index`` in the signed checkpoint of
    ``tree_size``. Its data is shown to a member it concerns and to operators only.
    Refusals: ``checkpoint_not_found``, ``journal_entry_not_found``."""
    with unit_of_work(readonly=True) as session:
        entry, _ = journal.inclusion(session, leaf_index, tree_size, community_id)
        if who.role != "operator" and not journal.concerns(session, entry, who.user_id):
            entry = dataclasses.replace(entry, data=None)
        cp = journal.checkpoint(session, community_id, tree_size)
        return schemas.InclusionOut(
            checkpoint=schemas.CheckpointOut.of(cp), entry=schemas.EntryOut.of(entry)
        ).model_dump()


@router.get("/journal/proofs/consistency", response_model=schemas.ConsistencyOut)
def consistency(
    first: Annotated[int, Query(ge=1, le=2**31 - 1)],
    second: Annotated[int, Query(ge=1, le=2**31 - 1)],
    community_id: Community = None,
) -> dict[str, Any]:
    """The consistency proof between the signed checkpoints of sizes ``first`` ≤
    ``second``: the newer tree extends the older one, nothing rewritten. Refusals:
    ``bad_proof_range``, ``checkpoint_not_found``."""
    with unit_of_work(readonly=True) as session:
        proof = journal.consistency(session, first, second, community_id)
        return schemas.ConsistencyOut(
            first=schemas.CheckpointOut.of(journal.checkpoint(session, community_id, first)),
            second=schemas.CheckpointOut.of(journal.checkpoint(session, community_id, second)),
            proof=proof,
        ).model_dump()


@router.get("/me/journal", response_model=schemas.BundleOut)
def my_journal(who: Member) -> dict[str, Any]:
    """The caller's proof bundle (我的账本): every entry that concerns them with its inclusion
    proof in the latest checkpoint, that checkpoint and the one before it with their
    consistency proof, and their escrow balance as the ledger states it. Save it and run
    ``tuangou verify --bundle FILE --key KEY``."""
    with unit_of_work(readonly=True) as session:
        return schemas.BundleOut.of(journal.member_bundle(session, who.user_id)).model_dump()
