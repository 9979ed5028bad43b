"""What other domains use of ``geo``: the pure rules, and their refusals as domain errors.

The nearby query itself lives where the data is (``communities.service.nearby``, the open
waves from ``pools``); this only turns query parameters into a checked GCJ-02 point.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuangou.geo import errors, rules
from tuangou.geo.rules import (
    COORD_SYSTEMS,
    DETOUR_FACTOR,
    GCJ02,
    RADIUS_DEFAULT_M,
    RADIUS_MAX_M,
    RADIUS_MIN_M,
    WALK_M_PER_MIN,
    WGS84,
    covering_cells,
    destination,
    distance_m,
    gcj02_to_wgs84,
    geohash,
    out_of_china,
    prefix_bounds,
    walking_minutes,
    wgs84_to_gcj02,
)

__all__ = [
    "COORD_SYSTEMS",
    "DETOUR_FACTOR",
    "GCJ02",
    "RADIUS_DEFAULT_M",
    "RADIUS_MAX_M",
    "RADIUS_MIN_M",
    "WALK_M_PER_MIN",
    "WGS84",
    "Centre",
    "centre",
    "covering_cells",
    "destination",
    "distance_m",
    "gcj02_to_wgs84",
    "geohash",
    "out_of_china",
    "prefix_bounds",
    "walking_minutes",
    "wgs84_to_gcj02",
]


@dataclass(frozen=True)
class Centre:
    """A checked query: its centre in GCJ-02, the radius in metres."""

    latitude: float
    longitude: float
    radius_m: float


def centre(
    latitude: float, longitude: float, *, radius_m: float = RADIUS_DEFAULT_M, coord: str = GCJ02
) -> Centre:
    """The query's centre in GCJ-02 (a WGS-84 one converted), with its radius checked:
    ``bad_coordinates`` or ``radius_out_of_range`` (422) otherwise."""
    try:
        lat, lng = rules.to_gcj02(latitude, longitude, coord)
    except rules.GeoViolation as exc:
        raise errors.BadCoordinates(exc.message, field=exc.field) from exc
    try:
        radius = rules.check_radius(radius_m)
    except rules.GeoViolation as exc:
        raise errors.RadiusOutOfRange(exc.message, field=exc.field) from exc
    return Centre(lat, lng, radius)
