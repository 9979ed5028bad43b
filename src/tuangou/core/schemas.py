"""The base of the API's request bodies and reply models, and the problem every error reply is.

Every request body is an :class:`In`: no number in it is beyond what an integer column
stores (a signed 32-bit integer: PostgreSQL's ``integer``), and no text in it carries a
control character (which PostgreSQL refuses and SQLite stores): either is refused as
``invalid_input``, on both backends alike.

Every ``/api`` route declares the model of its success reply (``response_model``, or the
``responses`` of a route that builds its body itself). A reply model is strict and closed: a
builder's dict must carry exactly the model's fields, with exactly their types, so the model
cannot drift from what the route really sends, and validating a reply never changes a value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, WithJsonSchema, model_validator

BIGGEST = 2**31 - 1  # the largest integer an INTEGER column holds on PostgreSQL
# Control characters, but tab, line feed and carriage return (a multi-line note keeps them).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_value(value: Any) -> None:
    """Raise ValueError for an integer beyond 64 bits or a text with a control character,
    anywhere in ``value`` (a request's parsed JSON)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -BIGGEST - 1 <= value <= BIGGEST:
            raise ValueError("a number is out of range")
    elif isinstance(value, str):
        if CONTROL.search(value):
            raise ValueError("text may not contain control characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key)
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)


class In(BaseModel):
    """A request body (or a part of one)."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        check_value(data)
        return data


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
