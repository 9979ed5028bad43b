"""Responses of pages that are not HTML: a file to download, a private picture."""

from __future__ import annotations

from fastapi.responses import Response


def download(content: bytes | str, media_type: str, filename: str) -> Response:
    """A file to save (an export): never kept by a proxy, as it holds personal data."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def private_image(data: bytes, content_type: str) -> Response:
    """A picture only its viewer may see (an after-sale photo): cached by the browser only."""
    return Response(
        content=data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
