"""附近 (``/nearby``): pickup points and their open waves around a point, nearest first.

The point is the browser's location ("use my location": WGS-84, converted on the server)
or one typed in GCJ-02 (as Chinese map apps give it). Anyone may look, as in the API
(``GET /api/nearby``): a community's name, its leader's masked name, its member count and how
many of its waves are open at the point; the waves themselves to its members. A small SVG
plot shows the points around the centre (drawn here: nothing is fetched from elsewhere).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuangou.communities import service as communities
from tuangou.core.config import get_settings
from tuangou.core.db import read
from tuangou.core.errors import DomainError
from tuangou.fulfilment import rules as fulfilment_rules
from tuangou.geo import service as geo
from tuangou.web import session
from tuangou.web.forms import FormState
from tuangou.web.templating import render

router = APIRouter()

RADII = (500, 1000, 3000, 5000, 10000, 20000)
PLOT = 300  # the SVG's side, in its own units


def distance_text(metres: float) -> str:
    """850 m; 1.2 km (kilometres with one decimal from 1 km on)."""
    return f"{round(metres)} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def plot(centre: geo.Centre, found: list[communities.NearbyPoint]) -> list[dict[str, Any]]:
    """Each point's place in the plot: metres east and north of the centre, scaled so the
    radius reaches the plot's edge (an equirectangular view, true enough at 20 km)."""
    half = PLOT / 2
    scale = (half - 8) / centre.radius_m
    dots = []
    for n, near in enumerate(found, start=1):
        north = geo.distance_m(centre.latitude, 0.0, near.point.latitude, 0.0)
        north = math.copysign(north, near.point.latitude - centre.latitude)
        east = (
            math.radians(near.point.longitude - centre.longitude)
            * 6_371_008.8
            * math.cos(math.radians(centre.latitude))
        )
        dots.append(
            {"n": n, "x": round(half + east * scale, 1), "y": round(half - north * scale, 1)}
        )
    return dots


def _default_centre() -> tuple[str, str]:
    """The operator's map centre (``TUANGOU_MAP_CENTER``) to start from, if set."""
    centre = get_settings().map_center
    if not centre:
        return "", ""
    lat, _, lng = centre.partition(",")
    return lat.strip(), lng.strip()


@router.get("/nearby")
def nearby_page(request: Request) -> Response:
    who = session.current(request)
    params = request.query_params
    lat_default, lng_default = _default_centre()
    form = FormState(
        values={
            "lat": params.get("lat", lat_default),
            "lng": params.get("lng", lng_default),
            "radius": params.get("radius", str(geo.RADIUS_DEFAULT_M)),
            "coord": params.get("coord", geo.GCJ02),
        }
    )
    context: dict[str, Any] = {
        "form": form,
        "radii": RADII,
        "asked": "lat" in params or "lng" in params,
        "found": None,
        "plot_size": PLOT,
    }
    if not context["asked"]:
        return render(request, "member/nearby/nearby.html", context)
    numbers: dict[str, float] = {}
    for name in ("lat", "lng", "radius"):
        try:
            numbers[name] = float(form.text(name))
        except ValueError:
            form.add(request, name, "Enter a number, like 30.27")
    if not form.ok:
        return render(request, "member/nearby/nearby.html", context, status_code=422)
    try:
        centre = geo.centre(
            numbers["lat"], numbers["lng"], radius_m=numbers["radius"], coord=form.text("coord")
        )
    except DomainError as exc:
        form.refuse(request, exc)
        if "coord" in form.errors:
            form.errors["_form"] = form.errors.pop("coord")
        return render(request, "member/nearby/nearby.html", context, status_code=422)
    found = read(
        lambda db: communities.nearby(
            db,
            centre,
            user_id=who.user_id if who is not None else None,
            operator=who is not None and who.role == "operator",
        )
    )
    context.update(
        found=[
            {
                "near": near,
                "distance": distance_text(near.distance_m),
                "map_url": fulfilment_rules.map_link(
                    near.point.latitude, near.point.longitude, near.point.name
                ),
            }
            for near in found.points
        ],
        centre=centre,
        dots=plot(centre, found.points),
        radius_text=distance_text(centre.radius_m),
    )
    return render(request, "member/nearby/nearby.html", context)
