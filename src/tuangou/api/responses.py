"""A JSON response rendered with orjson (fast, and handles datetimes)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def next_page(request: Any, response: Any, next_cursor: str | None) -> None:
    """A list that replies with a bare JSON array names its next page in headers: the cursor
    in ``X-Next-Cursor`` and the whole URL in ``Link: <…>; rel="next"`` (RFC 8288). The
    last page has neither."""
    if next_cursor is None:
        return
    url = request.url.remove_query_params("offset").include_query_params(cursor=next_cursor)
    response.headers["X-Next-Cursor"] = next_cursor
    response.headers["Link"] = f'<{url}>; rel="next"'
