"""附近 over HTTP, on both backends: the form alone at first; a typed point (GCJ-02) lists
the pickup points nearest first with distance, walking time, hours, map link and the plot;
a community's member sees its waves, anyone else their number and the way to join; a
location from the browser (WGS-84) is converted; bad input is shown on the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.fulfilment.conftest import World
from tests.web.pages import alerts, log_in, log_out
from tuangou.geo import rules as geo

CENTRE = (31.2304, 121.4737)  # the World's leaders' point, GCJ-02


def test_nearby_lists_points_with_what_each_caller_may_see(api: Api, client: TestClient) -> None:
    w = World(api)
    apples = w.sku("烟台苹果")
    a = w.leader("王团长", "幸福里 3 栋便利店")
    wave = w.catalogue_wave([{"sku_id": apples, "price": 1000, "moq": 1, "stock": 5}])
    listing = w.adopt(a, wave["id"])["listing"]["id"]
    member = w.member(a, "李阿姨")

    page = client.get("/nearby")
    assert page.status_code == 200
    assert 'id="locate"' in page.text and "nearby.js" in page.text
    assert "nearby-list" not in page.text

    # 600 m south-west of the point, typed by hand (GCJ-02), by someone not logged in.
    lat, lng = geo.destination(*CENTRE, 600, 225)
    page = client.get("/nearby", params={"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "radius": 1000})
    assert page.status_code == 200, alerts(page.text)
    assert "幸福里 3 栋便利店" in page.text
    assert re.search(r"<strong>600 m</strong>", page.text)
    assert "geo:31.2304,121.4737" in page.text
    assert "<svg" in page.text and 'href="#point-1"' in page.text
    assert "王团长的小区" in page.text
    assert f'href="/w/{listing}"' not in page.text  # not a member: the number only
    assert "请向这个自提点的团长索取社群邀请链接" in page.text  # how to join

    log_in(client, member["phone"])
    page = client.get("/nearby", params={"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "radius": 1000})
    assert f'href="/w/{listing}"' in page.text
    assert wave["title"] in page.text

    # The browser's location: WGS-84, converted on the server (read as GCJ-02, the same
    # numbers are about 480 m away in Shanghai).
    wgs = geo.gcj02_to_wgs84(*CENTRE)
    page = client.get(
        "/nearby",
        params={"lat": f"{wgs[0]:.6f}", "lng": f"{wgs[1]:.6f}", "radius": 100, "coord": "wgs84"},
    )
    assert page.status_code == 200
    assert re.search(r"<strong>[0-9] m</strong>", page.text), "the point is where the member is"
    page = client.get(
        "/nearby", params={"lat": f"{wgs[0]:.6f}", "lng": f"{wgs[1]:.6f}", "radius": 100}
    )
    assert page.status_code == 200
    assert "幸福里 3 栋便利店" not in page.text  # read as GCJ-02, the numbers are elsewhere
    log_out(client)


def test_bad_input_is_shown_on_the_form(client: TestClient) -> None:
    page = client.get("/nearby", params={"lat": "abc", "lng": "121", "radius": "3000"})
    assert page.status_code == 422
    assert alerts(page.text)
    page = client.get("/nearby", params={"lat": "95", "lng": "121", "radius": "3000"})
    assert page.status_code == 422
    assert any("纬度" in a for a in alerts(page.text))
    page = client.get("/nearby", params={"lat": "31", "lng": "121", "radius": "50"})
    assert page.status_code == 422
    assert any("半径" in a for a in alerts(page.text))
    page = client.get(
        "/nearby", params={"lat": "31", "lng": "121", "radius": "3000", "coord": "bd09"}
    )
    assert page.status_code == 422
    assert alerts(page.text)


def test_the_demo_points_are_near_each_other() -> None:
    from tuangou import demo

    first = demo.LEADER_POINTS[0]
    assert len(demo.LEADER_POINTS) == len(demo.LEADERS) >= 3
    for point in demo.LEADER_POINTS[1:]:
        # 附近 around the first, at its default 3 km, shows them all.
        assert 100 < geo.distance_m(*first, *point) < geo.RADIUS_DEFAULT_M
