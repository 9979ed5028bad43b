"""Photos for pages: the image routes (with the browser's session) and the one way a page
form's photo files are read and uploaded (posts, reviews)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile  # what a parsed form holds (not FastAPI's)

from tuangou.core.db import unit_of_work
from tuangou.photos import rules as photo_rules
from tuangou.photos import service as photos
from tuangou.photos.router import image_response
from tuangou.web import session

router = APIRouter()


async def form_photos(form: Any, field: str = "photos") -> list[tuple[str, bytes]]:
    """The photo files a multipart form carries (declared type, bytes), empty inputs skipped.
    A file over the limit is read one byte past it, so the upload refuses it by size."""
    found = []
    for item in form.getlist(field):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(photo_rules.MAX_BYTES + 1)
            found.append((item.content_type or "", data))
    return found


def upload_all(session: Session, user_id: int, files: list[tuple[str, bytes]]) -> list[str]:
    """Upload a form's photos in order; their ids, to attach."""
    return [
        photos.upload(session, user_id=user_id, content_type=kind, data=data).id
        for kind, data in files
    ]


def _image(request: Request, photo_id: str, thumb: bool) -> Response:
    who = session.current(request)
    with unit_of_work(readonly=True) as db:
        data, content_type, public = photos.image(
            db,
            photo_id,
            viewer_id=who.user_id if who else None,
            operator=bool(who and who.role == "operator"),
            thumb=thumb,
        )
    return image_response(data, content_type, public)


@router.get("/photos/{photo_id}")
def photo(request: Request, photo_id: str) -> Response:
    return _image(request, photo_id, thumb=False)


@router.get("/photos/{photo_id}/thumb")
def thumb(request: Request, photo_id: str) -> Response:
    return _image(request, photo_id, thumb=True)
