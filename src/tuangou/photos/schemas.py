from __future__ import annotations

from tuangou.core.schemas import Out


class PhotoOut(Out):
    """A photo: ``url`` and ``thumb_url`` are for pages (the browser's session); API clients
    fetch ``/api/photos/{id}`` and ``/api/photos/{id}?size=thumb`` with their token."""

    id: str
    url: str
    thumb_url: str
    width: int
    height: int
