"""GCJ-02 against published reference pairs, geohash against its reference vector, the
covering cells against every point of the circle, distances, walking time and bad input.

Near the poles and across the 180° meridian are out of scope (no pickup point is there):
nothing here tests them.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuangou.geo import errors, service
from tuangou.geo import rules as geo

# Published reference pairs (WGS-84 → GCJ-02) of the widely used open-source transform.
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_wgs84_to_gcj02_matches_the_reference_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lat, lng = geo.wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lng == pytest.approx(gcj[1], abs=1e-9)
    # The shift itself is hundreds of metres: a no-op conversion would fail above.
    assert geo.distance_m(*wgs, *gcj) > 100


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_gcj02_to_wgs84_inverts_the_reference_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    back = geo.gcj02_to_wgs84(*gcj)
    assert geo.distance_m(*back, *wgs) < 0.01


def test_round_trip_error_is_under_a_centimetre_across_china() -> None:
    rnd = random.Random(16)
    worst = 0.0
    for _ in range(2000):
        lat, lng = rnd.uniform(18.0, 53.0), rnd.uniform(74.0, 134.0)
        there = geo.wgs84_to_gcj02(lat, lng)
        back = geo.gcj02_to_wgs84(*there)
        worst = max(worst, geo.distance_m(lat, lng, *back))
    assert worst < 0.01


@pytest.mark.parametrize(
    "point", [(48.8584, 2.2945), (40.6892, -74.0445), (-33.8568, 151.2153), (55.7539, 37.6208)]
)
def test_outside_mainland_china_nothing_is_converted(point: tuple[float, float]) -> None:
    assert geo.out_of_china(*point)
    assert geo.wgs84_to_gcj02(*point) == point
    assert geo.gcj02_to_wgs84(*point) == point


def test_geohash_matches_the_reference_vector() -> None:
    assert geo.geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"
    assert geo.geohash(31.2304, 121.4737) == geo.geohash(31.2304, 121.4737, 9)
    cell = geo.cell_of("u4pruydqqvj")
    assert cell.lat_lo <= 57.64911 <= cell.lat_hi
    assert cell.lng_lo <= 10.40744 <= cell.lng_hi


def test_prefix_bounds_cover_exactly_the_prefix() -> None:
    assert geo.prefix_bounds("wtw3") == ("wtw3", "wtw4")
    assert geo.prefix_bounds("wtwz") == ("wtwz", "wtx")
    assert geo.prefix_bounds("zz") == ("zz", None)
    low, high = geo.prefix_bounds("wtw9")
    assert high is not None
    for code in ("wtw9", "wtw90000", "wtw9zzzz"):
        assert low <= code < high
    for code in ("wtw8zzzz", "wtwb", "wtwb0000"):
        assert not (low <= code < high)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(min_value=18.0, max_value=53.0),
    lng=st.floats(min_value=74.0, max_value=134.0),
    radius=st.floats(min_value=geo.RADIUS_MIN_M, max_value=geo.RADIUS_MAX_M),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    share=st.floats(min_value=0.0, max_value=1.0),
)
def test_every_point_of_the_circle_is_in_a_covering_cell(
    lat: float, lng: float, radius: float, bearing: float, share: float
) -> None:
    cells = geo.covering_cells(lat, lng, radius)
    assert 1 <= len(cells) <= geo.MAX_CELLS
    assert len({len(c) for c in cells}) == 1  # one precision
    there = geo.destination(lat, lng, radius * share, bearing)
    assert geo.distance_m(lat, lng, *there) <= radius * share + 1e-6
    code = geo.geohash(*there)
    assert any(code.startswith(c) for c in cells), (cells, code)


def test_the_precision_follows_the_radius() -> None:
    sizes = [len(geo.covering_cells(31.23, 121.47, r)[0]) for r in (100, 500, 3000, 20000)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > sizes[-1]


def test_distances_and_walking_time() -> None:
    # One degree of latitude on the mean sphere: 111.195 km.
    assert geo.distance_m(31.0, 121.0, 32.0, 121.0) == pytest.approx(111_195, abs=1)
    there = geo.destination(31.2304, 121.4737, 1234.5, 37.0)
    assert geo.distance_m(31.2304, 121.4737, *there) == pytest.approx(1234.5, abs=1e-3)
    # 800 m straight × 1.3 for the streets at 80 m a minute: 13 minutes.
    assert geo.walking_minutes(800) == 13
    assert geo.walking_minutes(0) == 1
    assert math.isclose(geo.DETOUR_FACTOR * 800 / geo.WALK_M_PER_MIN, 13.0)


def test_a_query_centre_is_checked_and_converted() -> None:
    c = service.centre(31.1774276, 121.5272106, radius_m=3000, coord="wgs84")
    assert (c.latitude, c.longitude) == pytest.approx(REFERENCE[0][1], abs=1e-9)
    c = service.centre(31.2304, 121.4737)
    assert (c.latitude, c.longitude, c.radius_m) == (31.2304, 121.4737, geo.RADIUS_DEFAULT_M)


@pytest.mark.parametrize(
    ("lat", "lng", "coord", "field"),
    [
        (91.0, 121.0, "gcj02", "lat"),
        (-90.5, 121.0, "gcj02", "lat"),
        (31.0, 180.5, "gcj02", "lng"),
        (float("nan"), 121.0, "gcj02", "lat"),
        (31.0, float("inf"), "wgs84", "lng"),
        (31.0, 121.0, "bd09", "coord"),
    ],
)
def test_bad_coordinates_are_refused(lat: float, lng: float, coord: str, field: str) -> None:
    with pytest.raises(errors.BadCoordinates) as exc:
        service.centre(lat, lng, coord=coord)
    assert (exc.value.code, exc.value.status) == ("bad_coordinates", 422)
    assert exc.value.extra["field"] == field


@pytest.mark.parametrize("radius", [0, 99.9, 20_000.1, -5, float("nan"), float("inf")])
def test_a_radius_out_of_range_is_refused(radius: float) -> None:
    with pytest.raises(errors.RadiusOutOfRange) as exc:
        service.centre(31.0, 121.0, radius_m=radius)
    assert (exc.value.code, exc.value.status) == ("radius_out_of_range", 422)
