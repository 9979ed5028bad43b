"""The refusals of a place query: coordinates that are no place, a radius out of range."""

from __future__ import annotations

from enum import StrEnum

from tuangou.core.errors import DomainError


class GeoErrorCode(StrEnum):
    BAD_COORDINATES = "bad_coordinates"
    RADIUS_OUT_OF_RANGE = "radius_out_of_range"


class BadCoordinates(DomainError):
    code = GeoErrorCode.BAD_COORDINATES
    status = 422
    title = "These coordinates are not a place"


class RadiusOutOfRange(DomainError):
    code = GeoErrorCode.RADIUS_OUT_OF_RANGE
    status = 422
    title = "The radius is out of range"
