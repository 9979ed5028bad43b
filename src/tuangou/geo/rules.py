"""Pure geometry for 附近: GCJ-02 ⇄ WGS-84, geohash cells, haversine distance, walking time.

Coordinates are (latitude, longitude) in degrees. The platform stores and shows GCJ-02 (国测局
坐标, what Chinese map apps and their links expect); a browser's geolocation and GPS give
WGS-84, converted once on the way in (:func:`wgs84_to_gcj02`). Outside mainland China (the
usual rectangle test) GCJ-02 is WGS-84 itself, so a point there is left unchanged.

The spatial prefilter is a geohash (base-32, interleaved longitude/latitude bits): the cells
at a precision whose size covers the radius, the centre one and its eight neighbours, hold
every point within the radius (:func:`covering_cells`); an exact haversine distance then
filters and sorts. Near the poles and across the 180° meridian the neighbour cells are not
computed (no pickup point of a Chinese group-buying platform is there): out of scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG), for haversine distances

# Walking: 80 m a minute (4.8 km/h) along streets, which are on average 1.3 times longer
# than the straight line (the detour factor).
WALK_M_PER_MIN = 80.0
DETOUR_FACTOR = 1.3

RADIUS_MIN_M = 100
RADIUS_MAX_M = 20_000
RADIUS_DEFAULT_M = 3_000

GCJ02 = "gcj02"
WGS84 = "wgs84"
COORD_SYSTEMS = (GCJ02, WGS84)

GEOHASH_PRECISION = 9  # stored: cells of about 4.8 m × 4.8 m
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {c: i for i, c in enumerate(_BASE32)}


class GeoViolation(ValueError):
    """A coordinate or radius that no query may use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------- checks


def check_point(latitude: float, longitude: float) -> tuple[float, float]:
    lat, lng = float(latitude), float(longitude)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise GeoViolation("lat", "a latitude is a number between -90 and 90")
    if not (math.isfinite(lng) and -180.0 <= lng <= 180.0):
        raise GeoViolation("lng", "a longitude is a number between -180 and 180")
    return lat, lng


def check_radius(radius_m: float) -> float:
    r = float(radius_m)
    if not (math.isfinite(r) and RADIUS_MIN_M <= r <= RADIUS_MAX_M):
        raise GeoViolation(
            "radius", f"a radius is between {RADIUS_MIN_M} and {RADIUS_MAX_M} metres"
        )
    return r


def check_coord_system(coord: str) -> str:
    if coord not in COORD_SYSTEMS:
        raise GeoViolation("coord", "coord is gcj02 or wgs84")
    return coord


# ---------------------------------------------------------------- GCJ-02


_A = 6_378_245.0  # the Krasovsky 1940 ellipsoid GCJ-02 is defined on
_EE = 0.006_693_421_622_965_943


def out_of_china(latitude: float, longitude: float) -> bool:
    """Outside the rectangle around mainland China where GCJ-02 shifts coordinates (the usual
    rough test: parts of neighbouring countries inside the rectangle are shifted too)."""
    return not (72.004 <= longitude <= 137.8347 and 0.8293 <= latitude <= 55.8271)


def _shift(latitude: float, longitude: float) -> tuple[float, float]:
    """The GCJ-02 offset (degrees of latitude, of longitude) at a WGS-84 point."""
    x, y = longitude - 105.0, latitude - 35.0
    wave = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += wave
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += wave
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = latitude / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = dlng * 180.0 / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    """A WGS-84 point (GPS, a browser) in GCJ-02; outside mainland China, unchanged."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    dlat, dlng = _shift(latitude, longitude)
    return latitude + dlat, longitude + dlng


def gcj02_to_wgs84(latitude: float, longitude: float) -> tuple[float, float]:
    """The inverse, by fixed-point iteration (to about 1e-9 degrees, well under a metre)."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    lat, lng = latitude, longitude
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(lat, lng)
        dlat, dlng = glat - latitude, glng - longitude
        lat, lng = lat - dlat, lng - dlng
        if max(abs(dlat), abs(dlng)) < 1e-10:
            break
    return lat, lng


def to_gcj02(latitude: float, longitude: float, coord: str) -> tuple[float, float]:
    """A point given in ``coord`` (gcj02 | wgs84), checked, in GCJ-02."""
    lat, lng = check_point(latitude, longitude)
    if check_coord_system(coord) == WGS84:
        return wgs84_to_gcj02(lat, lng)
    return lat, lng


# ---------------------------------------------------------------- distances


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def walking_minutes(distance: float) -> int:
    """Minutes on foot: the straight line × ``DETOUR_FACTOR`` at ``WALK_M_PER_MIN``; at least 1."""
    return max(1, math.ceil(distance * DETOUR_FACTOR / WALK_M_PER_MIN))


# ---------------------------------------------------------------- geohash


def geohash(latitude: float, longitude: float, precision: int = GEOHASH_PRECISION) -> str:
    lat_lo, lat_hi, lng_lo, lng_hi = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    bits, value, even = 0, 0, True
    while len(out) < precision:
        if even:
            mid = (lng_lo + lng_hi) / 2
            if longitude >= mid:
                value, lng_lo = value * 2 + 1, mid
            else:
                value, lng_hi = value * 2, mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if latitude >= mid:
                value, lat_lo = value * 2 + 1, mid
            else:
                value, lat_hi = value * 2, mid
        even = not even
        bits += 1
        if bits == 5:
            out.append(_BASE32[value])
            bits, value = 0, 0
    return "".join(out)


@dataclass(frozen=True)
class Cell:
    """A geohash cell's bounds, in degrees."""

    lat_lo: float
    lat_hi: float
    lng_lo: float
    lng_hi: float


def cell_of(code: str) -> Cell:
    lat_lo, lat_hi, lng_lo, lng_hi = -90.0, 90.0, -180.0, 180.0
    even = True
    for char in code:
        value = _DECODE[char]
        for shift in range(4, -1, -1):
            bit = (value >> shift) & 1
            if even:
                mid = (lng_lo + lng_hi) / 2
                lng_lo, lng_hi = (mid, lng_hi) if bit else (lng_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    return Cell(lat_lo, lat_hi, lng_lo, lng_hi)


MAX_CELLS = 16  # the most cells a query covers its circle with


def _cell_degrees(precision: int) -> tuple[float, float]:
    """A cell's height and width in degrees at this precision."""
    return 180.0 / 2 ** (5 * precision // 2), 360.0 / 2 ** ((5 * precision + 1) // 2)


def bounding_box(latitude: float, longitude: float, radius_m: float) -> Cell:
    """A box (degrees) holding every point within ``radius_m`` of the centre."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    far = min(89.9, abs(latitude) + dlat)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(far))))
    return Cell(
        max(-90.0, latitude - dlat),
        min(90.0, latitude + dlat),
        max(-180.0, longitude - dlng),
        min(180.0, longitude + dlng),
    )


def _span(lo: float, hi: float, origin: float, step: float) -> range:
    return range(math.floor((lo - origin) / step), math.floor((hi - origin) / step) + 1)


def covering_cells(latitude: float, longitude: float, radius_m: float) -> list[str]:
    """The geohash cells, all of one precision, that hold every point within ``radius_m``.

    The precision is chosen from the radius: the finest whose cells cover the circle's
    bounding box in at most ``MAX_CELLS`` (the centre's cell and its neighbours, as many as
    the box needs; at 3 km in Shanghai, 6 cells of about 4.9 km × 4.2 km)."""
    box = bounding_box(latitude, longitude, radius_m)
    for precision in range(GEOHASH_PRECISION, 0, -1):
        height, width = _cell_degrees(precision)
        rows = _span(box.lat_lo, box.lat_hi, -90.0, height)
        cols = _span(box.lng_lo, box.lng_hi, -180.0, width)
        if len(rows) * len(cols) <= MAX_CELLS or precision == 1:
            break
    cells: dict[str, None] = {}
    for i in rows:
        lat = min(90.0, -90.0 + (i + 0.5) * height)
        for j in cols:
            lng = min(180.0, -180.0 + (j + 0.5) * width)
            cells[geohash(lat, lng, precision)] = None
    return sorted(cells)


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """The range ``[low, high)`` of stored geohashes that start with ``prefix`` (``high``
    None: no upper bound): an indexed range scan on any database, no LIKE. ``high`` is the
    prefix with its last character raised by one (carrying over a final "z")."""
    stem = prefix
    while stem and stem[-1] == _BASE32[-1]:
        stem = stem[:-1]
    if not stem:
        return prefix, None
    return prefix, stem[:-1] + _BASE32[_DECODE[stem[-1]] + 1]


def destination(
    latitude: float, longitude: float, distance: float, bearing_deg: float
) -> tuple[float, float]:
    """The point ``distance`` metres from this one along ``bearing_deg`` (0 north, 90 east)
    on the haversine sphere: for demo data, benchmarks and tests at a radius's edge."""
    d = distance / EARTH_RADIUS_M
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(latitude), math.radians(longitude)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)
