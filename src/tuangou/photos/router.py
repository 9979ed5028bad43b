"""Photos over HTTP: ``POST /api/photos`` takes one photo as the raw request body (any declared
image type: the bytes decide; at most 10 MB) and returns its id and addresses; a post or a
review then names the ids. ``GET /api/photos/{id}`` (``?size=thumb``) serves it to whoever may
see what it illustrates, by bearer token; pages use ``/photos/{id}`` with their session."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.api.deps import MaybeCaller, Member
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.schemas import file_responses
from tuangou.photos import errors, rules
from tuangou.photos import service as photos
from tuangou.photos.schemas import PhotoOut

router = APIRouter(tags=["photos"])


async def read_limited(request: Request) -> bytes:
    """The request body, refused as soon as it passes the photo size limit."""
    too_big = errors.PhotoRefused("a photo may be at most 10 MB", field="photo")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > rules.MAX_BYTES:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > rules.MAX_BYTES:
            raise too_big
    return bytes(data)


@router.post("/photos", status_code=201)
async def upload(request: Request, who: Member) -> PhotoOut:
    """Upload one photo (raw body). Its EXIF (GPS, camera) is removed and it is resized."""
    data = await read_limited(request)
    declared = request.headers.get("content-type", "")

    def work(session: Session) -> PhotoOut:
        return photos.upload(session, user_id=who.user_id, content_type=declared, data=data)

    result: PhotoOut = await run_in_threadpool(run_in_transaction, work)
    return result


def image_response(data: bytes, content_type: str, public: bool) -> Response:
    return Response(
        content=data,
        media_type=content_type,
        headers={
            # A public photo may be hidden by a moderator later: cached briefly.
            "Cache-Control": "public, max-age=300" if public else "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    responses=file_responses("image/jpeg", "image/png", description="The photo"),
)
def photo(
    photo_id: str, who: MaybeCaller, size: Literal["display", "thumb"] = "display"
) -> Response:
    """A photo at display size or as a thumbnail, for whoever may see what it illustrates."""
    with unit_of_work(readonly=True) as session:
        data, content_type, public = photos.image(
            session,
            photo_id,
            viewer_id=who.user_id if who else None,
            operator=bool(who and who.role == "operator"),
            thumb=size == "thumb",
        )
    return image_response(data, content_type, public)
