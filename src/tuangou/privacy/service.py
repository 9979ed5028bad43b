"""Privacy: a member's data export, the deletion of their account, the data retention.

The service knows no other domain's data. It asks the domains, through registries that the
composition root fills:

* :func:`register_exporter` — "this member's data" of a domain, one JSON file of the export
  each (``<domain>.json``); :func:`register_files` — files of the export (the photos);
* :func:`register_blocker` — open things of the member that block a deletion (an order not
  finished, a claim not decided, a withdrawal waiting, money in a wallet…);
* :func:`register_eraser` — "erase this member" of a domain, run in the deletion's
  transaction; it may return storage keys, deleted once the deletion committed;
* :func:`register_purger` — the data retention of one kind of raw data (one-time codes, page
  sessions, risk signals): delete or clear what is older than an instant, in batches.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.errors import Conflict, InvalidInput
from tuangou.privacy import rules
from tuangou.privacy.errors import PrivacyErrorCode
from tuangou.privacy.rules import Blocker

Exporter = Callable[[Session, int], Any]
FileExporter = Callable[[Session, int], list[tuple[str, bytes]]]
BlockerCheck = Callable[[Session, int], list[Blocker]]
Eraser = Callable[[Session, int], Sequence[str] | int | None]
Purger = Callable[..., int]

_exporters: dict[str, Exporter] = {}
_files: dict[str, FileExporter] = {}
_blockers: dict[str, BlockerCheck] = {}
_erasers: dict[str, Eraser] = {}
_purgers: dict[str, Purger] = {}
_file_deleter: list[Callable[[Sequence[str]], None]] = []


def register_exporter(domain: str, fn: Exporter) -> None:
    _exporters[domain] = fn


def register_files(folder: str, fn: FileExporter) -> None:
    _files[folder] = fn


def register_blocker(name: str, fn: BlockerCheck) -> None:
    _blockers[name] = fn


def register_eraser(domain: str, fn: Eraser) -> None:
    _erasers[domain] = fn


def register_purger(kind: str, fn: Purger) -> None:
    """``fn(session, before=<instant>, limit=<rows>)`` returns how many rows it handled."""
    if kind not in rules.RETENTION_KINDS:
        raise ValueError(f"unknown retention kind {kind!r}")
    _purgers[kind] = fn


def register_file_deleter(fn: Callable[[Sequence[str]], None]) -> None:
    _file_deleter[:] = [fn]


def exporters() -> list[str]:
    return sorted(_exporters)


class DeletionBlocked(Conflict):
    code = PrivacyErrorCode.DELETION_BLOCKED
    title = "The account has open orders or money and cannot be deleted yet"

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(
            rules.describe(blockers),
            blockers=[
                {"kind": b.kind, "count": b.count, "ids": list(b.ids), "amount": b.amount}
                for b in blockers
            ],
        )
        self.blockers = blockers


class DeletionNotConfirmed(InvalidInput):
    code = PrivacyErrorCode.DELETION_NOT_CONFIRMED
    title = "Type the confirmation phrase to delete the account"


# ---------------------------------------------------------------- export


def export_data(session: Session, user_id: int) -> dict[str, Any]:
    """Every registered domain's data of the member: ``{domain: data}``, with every phone
    number but the member's own masked."""
    own = accounts.get_user(session, user_id).phone
    return {
        domain: rules.mask_phones(_exporters[domain](session, user_id), own)
        for domain in sorted(_exporters)
    }


def export_zip(session: Session, user_id: int) -> bytes:
    """The member's data as a zip: ``manifest.json``, one ``<domain>.json`` per domain, and
    their photos under ``photos/``."""
    data = export_data(session, user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        names: list[str] = []
        for domain, content in data.items():
            name = f"{domain}.json"
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=1))
            names.append(name)
        for folder, fn in sorted(_files.items()):
            for file_name, blob in fn(session, user_id):
                name = f"{folder}/{file_name}"
                archive.writestr(name, blob)
                names.append(name)
        manifest = {
            "user_id": user_id,
            "exported_at": clock.iso(clock.now()),
            "files": names,
            "format": "one JSON file per domain; times in ISO 8601; money in fen",
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buffer.getvalue()


# ---------------------------------------------------------------- deletion


@dataclass(frozen=True)
class Preview:
    """What a deletion would do now: what blocks it, what it keeps and what it erases."""

    deleted: bool
    blockers: list[Blocker]
    kept: dict[str, str] = field(default_factory=lambda: dict(rules.KEPT))
    erased: tuple[str, ...] = rules.ERASED


def blockers_of(session: Session, user_id: int) -> list[Blocker]:
    found: list[Blocker] = []
    for name in sorted(_blockers):
        found.extend(_blockers[name](session, user_id))
    return found


def preview(session: Session, user_id: int) -> Preview:
    user = accounts.get_user(session, user_id)
    if accounts.is_deleted(user):
        return Preview(deleted=True, blockers=[])
    return Preview(deleted=False, blockers=blockers_of(session, user_id))


@dataclass(frozen=True)
class Deletion:
    """A deletion's outcome: whether this call deleted the account (False: it already was),
    and the stored files to delete once committed (:func:`finish`)."""

    deleted: bool
    files: tuple[str, ...] = ()


def delete_account(session: Session, user_id: int, *, confirm: str) -> Deletion:
    """Delete the member's account: refused (``deletion_blocked``, naming each open thing)
    while anything is open; else every domain erases what it holds of them and the account is
    anonymised. A second call is a no-op. The member's row is locked first (rank MEMBER): an
    order being placed at the same moment (which reads the row FOR SHARE) either commits
    before, and blocks this deletion, or waits for it, and is refused."""
    if not rules.confirmed(confirm):
        raise DeletionNotConfirmed(f"type {rules.CONFIRM_PHRASES[0]} to confirm", field="confirm")
    user = accounts.lock_member(session, user_id)
    if accounts.is_deleted(user):
        return Deletion(deleted=False)
    blockers = blockers_of(session, user_id)
    if blockers:
        raise DeletionBlocked(blockers)
    files: list[str] = []
    for domain in sorted(_erasers):
        result = _erasers[domain](session, user_id)
        if isinstance(result, list | tuple):
            files.extend(str(k) for k in result)
    accounts.anonymise(session, user_id)
    session.flush()
    return Deletion(deleted=True, files=tuple(files))


def finish(deletion: Deletion) -> None:
    """After the deletion committed: its stored files go (a crash before this leaves files
    that no row names, never a row without its file). The caller then forgets the account's
    token version in this process (``accounts.forget_token_version``)."""
    if _file_deleter and deletion.files:
        _file_deleter[0](deletion.files)


# ---------------------------------------------------------------- retention


def retention_edges() -> dict[str, Any]:
    settings = get_settings()
    return rules.retention_edges(
        clock.now(),
        settings.retention_days,
        {
            "codes": settings.retention_codes_days,
            "sessions": settings.retention_sessions_days,
            "risk": settings.retention_risk_days,
        },
    )


def purge_batch(session: Session, kind: str, *, limit: int = 1000) -> int:
    """One batch of one kind's retention (up to ``limit`` rows): how many it handled."""
    fn = _purgers.get(kind)
    if fn is None:
        return 0
    return int(fn(session, before=retention_edges()[kind], limit=limit))
