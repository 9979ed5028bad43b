"""附近 on both backends: the indexed query equals a brute-force distance filter (random
points, points just inside and just outside the radius, across geohash cell borders), the
geohash follows a moved point, and the API shows each caller only what they may see.

Near the poles and across the 180° meridian are out of scope: no test places points there.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy.orm import Session

from tests.conftest import Api, rows
from tests.fulfilment.conftest import World, auth
from tuangou.accounts import service as accounts
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.geo import rules as geo
from tuangou.geo import service as geo_service

CENTRE = (31.2304, 121.4737)  # 人民广场, GCJ-02


def _leader(session: Session) -> int:
    op = accounts.create_user(
        session, phone="13500000001", password=None, nickname="运营", role="operator"
    )
    uid = accounts.create_user(session, phone="13500000002", password=None, nickname="王团长").id
    application = communities.apply(
        session,
        uid,
        communities.PickupPointInput("起点", "起点 1 楼", CENTRE[0], CENTRE[1], "9:00-21:00"),
    )
    communities.approve_application(session, application.id, operator_id=op.id)
    return uid


def _add(session: Session, uid: int, n: int, lat: float, lng: float) -> None:
    communities.add_pickup_point(
        session, uid, communities.PickupPointInput(f"点{n}", f"路 {n} 号", lat, lng, "")
    )


def _brute(centre: geo_service.Centre) -> list[int]:
    found = []
    for point_id, lat, lng, active in rows(
        "SELECT id, latitude, longitude, active FROM pickup_points"
    ):
        d = geo.distance_m(centre.latitude, centre.longitude, lat, lng)
        if active and d <= centre.radius_m:
            found.append((d, point_id))
    return [point_id for _, point_id in sorted(found)]


def _near(centre: geo_service.Centre) -> list[int]:
    with unit_of_work(readonly=True) as session:
        return [pid for pid, _ in communities.points_near(session, centre, limit=10_000)]


def test_the_indexed_query_equals_a_brute_force_filter(db: str) -> None:
    rnd = random.Random(1616)
    # A border between two precision-5 cells (the 3 km query's) and a corner of four.
    border = geo.cell_of(geo.geohash(*CENTRE, 5))
    corner = (border.lat_hi, border.lng_hi)
    edges: dict[str, list[tuple[float, float]]] = {"inside": [], "outside": []}

    def work(session: Session) -> None:
        uid = _leader(session)
        n = 0
        for _ in range(150):  # scattered over the city, some far beyond any radius below
            n += 1
            there = geo.destination(*CENTRE, rnd.uniform(0, 12_000), rnd.uniform(0, 360))
            _add(session, uid, n, *there)
        for _ in range(60):  # on both sides of the cell border and around the corner
            n += 1
            _add(
                session,
                uid,
                n,
                corner[0] + rnd.uniform(-0.004, 0.004),
                corner[1] + rnd.uniform(-0.004, 0.004),
            )
        for bearing in range(0, 360, 30):  # half a metre inside and outside 2 km of the corner
            for side, distance in (("inside", 1999.5), ("outside", 2000.5)):
                n += 1
                there = geo.destination(*corner, distance, bearing)
                edges[side].append(there)
                _add(session, uid, n, *there)

    run_in_transaction(work)
    at_corner = geo_service.centre(*corner, radius_m=2000)
    found = _near(at_corner)
    assert found == _brute(at_corner)
    inside = set(_ids_at(edges["inside"]))
    outside = set(_ids_at(edges["outside"]))
    assert len(inside) == len(outside) == 12
    assert inside <= set(found)
    assert not outside & set(found)
    # More centres and radii, each against the brute force: cells of other precisions.
    for _ in range(12):
        lat, lng = geo.destination(*CENTRE, rnd.uniform(0, 8000), rnd.uniform(0, 360))
        centre = geo_service.centre(lat, lng, radius_m=rnd.choice([100, 450, 1500, 3000, 9000]))
        assert _near(centre) == _brute(centre)
    big = geo_service.centre(*CENTRE, radius_m=20_000)
    assert len(_near(big)) == len(_brute(big)) == 235


def _ids_at(points: list[tuple[float, float]]) -> list[int]:
    wanted = {(round(lat, 9), round(lng, 9)) for lat, lng in points}
    return [
        pid
        for pid, lat, lng in rows("SELECT id, latitude, longitude FROM pickup_points")
        if (round(lat, 9), round(lng, 9)) in wanted
    ]


def test_the_geohash_follows_the_point_and_inactive_points_are_not_near(db: str) -> None:
    def work(session: Session) -> int:
        uid = _leader(session)
        _add(session, uid, 1, *geo.destination(*CENTRE, 500, 90))
        return uid

    uid = run_in_transaction(work)
    (first, moved) = [pid for (pid,) in rows("SELECT id FROM pickup_points ORDER BY id")]
    stored = dict(rows("SELECT id, geohash FROM pickup_points"))
    assert stored[first] == geo.geohash(*CENTRE)
    centre = geo_service.centre(*CENTRE, radius_m=1000)
    assert _near(centre) == [first, moved]
    far = geo.destination(*CENTRE, 15_000, 180)
    run_in_transaction(
        lambda s: communities.update_pickup_point(s, uid, moved, latitude=far[0], longitude=far[1])
    )
    assert dict(rows("SELECT id, geohash FROM pickup_points"))[moved] == geo.geohash(*far)
    assert _near(centre) == [first]
    assert _near(geo_service.centre(*far, radius_m=1000)) == [moved]
    run_in_transaction(lambda s: communities.update_pickup_point(s, uid, first, active=False))
    assert _near(centre) == []


# ---------------------------------------------------------------- the API


def _problem(r: Any, code: str) -> None:
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code


def test_bad_input_is_refused_with_a_clear_error(api: Api) -> None:
    c = api.c
    _problem(c.get("/api/nearby", params={"lat": 95, "lng": 121}), "bad_coordinates")
    _problem(c.get("/api/nearby", params={"lat": 31, "lng": -181}), "bad_coordinates")
    _problem(c.get("/api/nearby", params={"lat": "nan", "lng": 121}), "bad_coordinates")
    _problem(
        c.get("/api/nearby", params={"lat": 31, "lng": 121, "coord": "bd09"}), "bad_coordinates"
    )
    _problem(
        c.get("/api/nearby", params={"lat": 31, "lng": 121, "radius": 50}), "radius_out_of_range"
    )
    _problem(
        c.get("/api/nearby", params={"lat": 31, "lng": 121, "radius": 25_000}),
        "radius_out_of_range",
    )
    r = c.get("/api/nearby", params={"lat": 31, "lng": 121})
    assert r.status_code == 200, r.text
    assert r.json()["points"] == []


def test_each_caller_sees_what_they_may(api: Api) -> None:
    w = World(api)
    apples = w.sku("烟台苹果")
    a = w.leader("王团长", "幸福里 3 栋便利店")  # at CENTRE
    wave = w.catalogue_wave([{"sku_id": apples, "price": 1000, "moq": 1, "stock": 5}])
    listing = w.adopt(a, wave["id"])["listing"]["id"]
    sold_out = w.catalogue_wave(
        [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 1}], title="售罄的团"
    )
    sold_out_listing = w.adopt(a, sold_out["id"])["listing"]["id"]
    member = w.member(a, "李阿姨")
    w.order(member, sold_out_listing, {sold_out["items"][0]["item_id"]: 1})
    outsider = w.signup("路人")
    # The wave's point, asked for in WGS-84 from 300 m away, as a browser would.
    near = geo.gcj02_to_wgs84(*geo.destination(*CENTRE, 300, 45))
    params = {"lat": near[0], "lng": near[1], "coord": "wgs84", "radius": 1000}

    def ask(who: dict[str, Any] | None) -> dict[str, Any]:
        r = api.c.get("/api/nearby", params=params, headers=auth(who) if who else {})
        assert r.status_code == 200, r.text
        return dict(r.json())

    seen = ask(member)
    assert (seen["latitude"], seen["longitude"]) != (near[0], near[1])  # converted
    (point,) = seen["points"]
    assert point["id"] == a["pickup_point_id"]
    assert abs(point["distance_m"] - 300) <= 1
    assert point["walking_minutes"] == 5  # 300 m × 1.3 at 80 m a minute
    assert point["opening_hours"] == "9:00-21:00"
    assert point["map_url"].startswith("geo:31.2304,121.4737")
    (community,) = point["communities"]
    assert community["member"] is True
    assert community["open_waves"] == 1  # the sold-out one is not orderable
    assert [x["listing_id"] for x in community["waves"]] == [listing]
    assert community["waves"][0]["title"] == wave["title"]
    for who in (outsider, None):
        (point,) = ask(who)["points"]
        (community,) = point["communities"]
        assert community["member"] is False
        assert community["open_waves"] == 1
        assert community["waves"] == []
        assert community["name"] == "王团长的小区"
        assert "团长" not in community["leader_name"] or "*" in community["leader_name"]
