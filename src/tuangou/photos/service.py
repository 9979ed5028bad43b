"""Photos: upload (checked, cleaned, stored), attach to what they illustrate, show.

* :func:`upload` takes one photo per call (a weak connection retries one photo, not a post).
* :func:`attach` binds the caller's own unattached photos to an owner (``owner_kind``, e.g.
  ``"post"`` or ``"review"``, and its id) by one guarded UPDATE per photo, so a photo is
  attached once even when two requests race.
* Who sees an attached photo is the owner domain's rule, registered with
  :func:`register_visibility` by the composition root; a kind with no rule is shown to its
  uploader alone. An unattached photo is its uploader's alone. A photo the viewer may not see
  is answered as a missing one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.errors import RateLimited
from tuangou.core.storage import StoredFileMissing, get_storage
from tuangou.photos import errors, rules
from tuangou.photos.models import Photo
from tuangou.photos.schemas import PhotoOut

# Photos a member may have uploaded and not attached, per day (disk abuse).
MAX_LOOSE_PER_DAY = 60

Visibility = Callable[[Session, int | None, int], bool]
_visibility: dict[str, Visibility] = {}


def register_visibility(owner_kind: str, rule: Visibility) -> None:
    """Who may see the photos of ``owner_kind``: ``rule(session, viewer_id, owner_id)``."""
    _visibility[owner_kind] = rule


def out(photo: Photo) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        url=f"/photos/{photo.id}",
        thumb_url=f"/photos/{photo.id}/thumb",
        width=photo.width,
        height=photo.height,
    )


def clean(data: bytes) -> rules.Cleaned:
    """The photo checked from its bytes and cleaned of its metadata (for any domain that keeps
    its own photos, as after-sales does)."""
    try:
        return rules.clean(data)
    except rules.PhotoRuleViolation as exc:
        raise errors.PhotoRefused(str(exc), field="photo") from exc


def upload(session: Session, *, user_id: int, content_type: str, data: bytes) -> PhotoOut:
    """Store one photo for the caller's next post or review; ``content_type`` is only what the
    client declared: the bytes decide."""
    del content_type  # never trusted: see rules.clean
    cleaned = clean(data)
    loose = session.scalar(
        select(func.count())
        .select_from(Photo)
        .where(
            Photo.user_id == user_id,
            Photo.owner_kind.is_(None),
            Photo.created_at > clock.now() - timedelta(days=1),
        )
    )
    if int(loose or 0) >= MAX_LOOSE_PER_DAY:
        raise RateLimited("too many photos not attached to anything; post them, or wait a day")
    storage = get_storage()
    display = cleaned.display
    thumb = cleaned.thumb
    photo = Photo(
        id=secrets.token_hex(16),
        user_id=user_id,
        display_key=storage.put(display.data, suffix=rules.SUFFIX[display.content_type]),
        thumb_key=storage.put(thumb.data, suffix=rules.SUFFIX[thumb.content_type]),
        content_type=display.content_type,
        thumb_content_type=thumb.content_type,
        width=display.width,
        height=display.height,
        size=len(display.data),
        created_at=clock.now(),
    )
    session.add(photo)
    session.flush()
    return out(photo)


def attach(
    session: Session,
    *,
    user_id: int,
    photo_ids: Sequence[str],
    owner_kind: str,
    owner_id: int,
    max_count: int,
) -> None:
    """Attach the caller's own unattached photos, in order, to one owner. Refused, changing
    nothing, when an id repeats, is unknown, is another's or is already attached."""
    if not photo_ids:
        return
    try:
        rules.check_count(len(photo_ids), max_count)
    except rules.PhotoRuleViolation as exc:
        raise errors.PhotosNotAttachable(str(exc), field="photo_ids") from exc
    if len(set(photo_ids)) != len(photo_ids):
        raise errors.PhotosNotAttachable("each photo can be attached once", field="photo_ids")
    for position, photo_id in enumerate(photo_ids, start=1):
        done = session.execute(
            update(Photo)
            .where(Photo.id == photo_id, Photo.user_id == user_id, Photo.owner_kind.is_(None))
            .values(owner_kind=owner_kind, owner_id=owner_id, position=position)
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) != 1:
            # The caller's unit of work rolls back the photos attached before this one.
            raise errors.PhotosNotAttachable(
                "a photo is unknown, not yours or already attached: upload it again",
                field="photo_ids",
            )


def photos_of(
    session: Session, owner_kind: str, owner_ids: Sequence[int]
) -> dict[int, list[PhotoOut]]:
    """The photos of each owner, in their order (owners without photos map to [])."""
    found: dict[int, list[PhotoOut]] = {owner_id: [] for owner_id in owner_ids}
    if not owner_ids:
        return found
    rows = session.scalars(
        select(Photo)
        .where(Photo.owner_kind == owner_kind, Photo.owner_id.in_(list(set(owner_ids))))
        .order_by(Photo.owner_id, Photo.position)
    )
    for photo in rows:
        assert photo.owner_id is not None
        found[photo.owner_id].append(out(photo))
    return found


def may_see(session: Session, photo: Photo, viewer_id: int | None, *, operator: bool) -> bool:
    if viewer_id is not None and viewer_id == photo.user_id:
        return True
    if photo.owner_kind is None or photo.owner_id is None:
        return False
    if operator:
        return True
    rule = _visibility.get(photo.owner_kind)
    return rule is not None and rule(session, viewer_id, photo.owner_id)


def image(
    session: Session,
    photo_id: str,
    *,
    viewer_id: int | None,
    operator: bool = False,
    thumb: bool = False,
) -> tuple[bytes, str, bool]:
    """The bytes and content type of a photo, and whether anyone may see it (public caching)."""
    photo = session.get(Photo, photo_id) if len(photo_id) == 32 else None
    if photo is None or not may_see(session, photo, viewer_id, operator=operator):
        raise errors.PhotoUnavailable()
    public = photo.owner_kind is not None and may_see(session, photo, None, operator=False)
    key, kind = (
        (photo.thumb_key, photo.thumb_content_type)
        if thumb
        else (photo.display_key, photo.content_type)
    )
    try:
        return get_storage().get(key), kind, public
    except StoredFileMissing as exc:
        raise errors.PhotoUnavailable() from exc


def export_files(session: Session, user_id: int) -> list[tuple[str, bytes]]:
    """The member's own photos, for their data export: (file name, bytes) of each stored
    picture (the cleaned picture: the upload itself, with its metadata, is never kept)."""
    storage = get_storage()
    files: list[tuple[str, bytes]] = []
    for photo in session.scalars(
        select(Photo).where(Photo.user_id == user_id).order_by(Photo.created_at, Photo.id)
    ):
        try:
            data = storage.get(photo.display_key)
        except StoredFileMissing:
            continue
        files.append((f"{photo.id}{rules.SUFFIX.get(photo.content_type, '')}", data))
    return files


def export_rows(session: Session, user_id: int) -> list[dict[str, object]]:
    """What the member's data export says of each of their photos."""
    return [
        {
            "id": p.id,
            "owner_kind": p.owner_kind,
            "owner_id": p.owner_id,
            "position": p.position,
            "content_type": p.content_type,
            "width": p.width,
            "height": p.height,
            "created_at": clock.iso(p.created_at),
        }
        for p in session.scalars(
            select(Photo).where(Photo.user_id == user_id).order_by(Photo.created_at, Photo.id)
        )
    ]


def erase_member(session: Session, user_id: int) -> list[str]:
    """Delete the rows of every photo the member uploaded (their account's deletion) and
    return the storage keys of their files, which the caller deletes once this committed."""
    rows = list(session.scalars(select(Photo).where(Photo.user_id == user_id)))
    keys = [key for p in rows for key in (p.display_key, p.thumb_key)]
    if rows:
        session.execute(
            delete(Photo)
            .where(Photo.id.in_([p.id for p in rows]))
            .execution_options(synchronize_session=False)
        )
        for p in rows:
            session.expunge(p)
    return keys


def delete_files(keys: Sequence[str]) -> None:
    """Delete stored files (after the transaction that dropped their rows committed)."""
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except (StoredFileMissing, OSError):
            continue
