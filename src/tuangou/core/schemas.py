"""The base of the API's reply models, and the problem every error reply is.

Every ``/api`` route declares the model of its success reply (``response_model``, or the
``responses`` of a route that builds its body itself). A reply model is strict and closed: a
builder's dict must carry exactly the model's fields, with exactly their types, so the model
cannot drift from what the route really sends, and validating a reply never changes a value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, WithJsonSchema

# Times are sent as ISO 8601 text with their UTC offset (``clock.iso``), as they always were.
Iso = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class Out(BaseModel):
    """A reply of the API (or a part of one)."""

    model_config = ConfigDict(extra="forbid", strict=True, from_attributes=True)


class Problem(BaseModel):
    """An error reply: RFC 9457 problem details (with ``instance``, the path, and the problem's
    own extra fields)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str


PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_responses() -> dict[int | str, dict[str, Any]]:
    """The error replies every API route may give, declared once for the API's router."""
    content = {PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}}
    return {
        "4XX": {"description": "The request was refused (problem details)", "content": content},
        "5XX": {"description": "Something went wrong on our side", "content": content},
    }


def file_responses(*media_types: str, description: str = "The file") -> dict[int | str, Any]:
    """The success reply of a route that sends a file or a page rather than JSON (its route
    declares ``response_class=Response`` so that no JSON reply is declared beside it)."""
    schema = {"type": "string", "format": "binary"}
    return {
        200: {"description": description, "content": {m: {"schema": schema} for m in media_types}}
    }
