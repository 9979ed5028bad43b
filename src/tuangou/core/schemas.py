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
# Half of a UTF-16 pair alone (JSON's "\ud800"): no text, and nothing can encode it.
SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_value(value: Any) -> None:
    """Raise ValueError for an integer beyond 32 bits, or a text with a control character or
    a lone surrogate, anywhere in ``value`` (a request's parsed JSON)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -BIGGEST - 1 <= value <= BIGGEST:
            raise ValueError("a number is out of range")
    elif isinstance(value, str):
        if CONTROL.search(value):
            raise ValueError("text may not contain control characters")
        if SURROGATE.search(value):
            raise ValueError("text must be valid Unicode")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key)
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)


# What :func:`check_value` refuses, as JSON Schema says it: text without control characters,
# integers of 32 bits.
STORABLE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def declare_storable(schema: dict[str, Any]) -> None:
    """Write into a JSON schema (in place) the bounds :func:`check_value` enforces: each
    integer between the bounds of a 32-bit integer column, each free text (and each key of a
    map) without control characters."""
    kind = schema.get("type")
    if kind == "integer":
        schema["minimum"] = max(schema.get("minimum", -BIGGEST - 1), -BIGGEST - 1)
        schema["maximum"] = min(schema.get("maximum", BIGGEST), BIGGEST)
    elif kind == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = STORABLE_TEXT
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        schema.setdefault("propertyNames", {"pattern": STORABLE_TEXT})
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for part in schema.get(key, []):
            declare_storable(part)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            declare_storable(schema[key])
    for part in schema.get("properties", {}).values():
        declare_storable(part)


def bound_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """Declare in an OpenAPI document the bounds of each integer in a path or a query: a
    number beyond an integer column finds nothing (or is refused), never a row."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                for part in [schema, *schema.get("anyOf", [])]:
                    if part.get("type") == "integer":
                        declare_storable(part)
    return document


class In(BaseModel):
    """A request body (or a part of one). Its JSON schema declares the bounds it enforces."""

    model_config = ConfigDict(json_schema_extra=lambda schema, _: declare_storable(schema))

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # Only the fields it has: other keys are dropped unread, so nothing of them is stored.
        if isinstance(data, dict):
            check_value({k: v for k, v in data.items() if k in cls.model_fields})
        else:
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
