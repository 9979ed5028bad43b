"""Photos: the type comes from the bytes, EXIF (GPS) never reaches the storage, a photo is
attached once, and only whoever may see its owner sees it (API and pages)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import Api
from tuangou.core.db import run_in_transaction
from tuangou.photos import errors, rules
from tuangou.photos import service as photos

GPS_IFD = 0x8825


def jpeg_with_gps(width: int = 2000, height: int = 1000, orientation: int | None = None) -> bytes:
    """A phone-like JPEG: GPS coordinates, a camera model, optionally an orientation tag."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[0x0110] = "Phone X"  # Model
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 9.0)})
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(alpha: bool = False) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (40, 30), (10, 20, 30, 128) if alpha else 0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def webp_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 128, 0)).save(out, format="WEBP")
    return out.getvalue()


# ---------------------------------------------------------------- rules (no database)


def test_the_source_carries_gps_and_the_cleaned_photo_carries_nothing() -> None:
    source = jpeg_with_gps()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the test's premise
    cleaned = rules.clean(source)
    for rendition in (cleaned.display, cleaned.thumb):
        image = Image.open(io.BytesIO(rendition.data))
        assert len(image.getexif()) == 0
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"Phone X" not in rendition.data and b"Exif" not in rendition.data
    assert (cleaned.display.width, cleaned.display.height) == (1280, 640)
    assert max(cleaned.thumb.width, cleaned.thumb.height) == rules.THUMB_EDGE
    assert cleaned.source_type == "image/jpeg"


def test_a_rotated_phone_photo_is_stored_upright() -> None:
    # Orientation 6: the camera held sideways; the pixels are 2000×1000, the picture 1000×2000.
    cleaned = rules.clean(jpeg_with_gps(orientation=6))
    assert cleaned.display.height > cleaned.display.width


def test_the_type_comes_from_the_bytes() -> None:
    assert rules.sniff(png_bytes()) == "image/png"
    assert rules.clean(webp_bytes()).display.content_type == "image/jpeg"
    assert rules.clean(png_bytes(alpha=True)).display.content_type == "image/png"
    for bad in (
        b"",
        b"#!/bin/sh\nrm -rf /\n",
        b"GIF89a" + b"\0" * 100,
        b"\xff\xd8\xff" + b"x" * 50,
    ):
        with pytest.raises(rules.PhotoRuleViolation):
            rules.clean(bad)


def test_size_and_pixel_limits() -> None:
    with pytest.raises(rules.PhotoRuleViolation, match="10 MB"):
        rules.clean(b"\xff\xd8\xff" + b"\0" * rules.MAX_BYTES)
    # A decompression bomb: a small PNG that claims 50 megapixels.
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG")
    assert len(out.getvalue()) < rules.MAX_BYTES
    with pytest.raises(rules.PhotoRuleViolation, match="pixels"):
        rules.clean(out.getvalue())


# ---------------------------------------------------------------- service and HTTP


pytestmark = pytest.mark.usefixtures("photo_dir")


def _upload(api: Api, who: dict[str, str], data: bytes, kind: str = "image/jpeg") -> Any:
    headers = {"Authorization": who["Authorization"], "Content-Type": kind}
    return api.c.post("/api/photos", content=data, headers=headers)


def test_upload_stores_only_clean_files(client: Any, photo_dir: Path) -> None:
    api = Api(client)
    member = api.signup("晒单")
    r = _upload(api, member, jpeg_with_gps(), kind="application/octet-stream")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["url"] == f"/photos/{body['id']}" and (body["width"], body["height"]) == (1280, 640)
    stored = [p.read_bytes() for p in photo_dir.rglob("*") if p.is_file()]
    assert len(stored) == 2  # the display size and the thumbnail, nothing else
    for data in stored:
        assert b"Phone X" not in data and len(Image.open(io.BytesIO(data)).getexif()) == 0

    r = _upload(api, member, b"<?php system($_GET['c']); ?>", kind="image/jpeg")
    assert r.status_code == 422 and r.json()["code"] == "photo_refused"
    assert len([p for p in photo_dir.rglob("*") if p.is_file()]) == 2


def test_an_unattached_photo_is_its_uploaders_alone(client: Any) -> None:
    api = Api(client)
    owner, other = api.signup("甲"), api.signup("乙")
    photo_id = _upload(api, owner, png_bytes()).json()["id"]
    mine = client.get(f"/api/photos/{photo_id}", headers={"Authorization": owner["Authorization"]})
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
    assert mine.headers["cache-control"].startswith("private")
    thumb = client.get(
        f"/api/photos/{photo_id}?size=thumb", headers={"Authorization": owner["Authorization"]}
    )
    assert thumb.status_code == 200
    for headers in ({"Authorization": other["Authorization"]}, {}):
        r = client.get(f"/api/photos/{photo_id}", headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "photo_unavailable"


def test_attach_is_once_and_only_ones_own(client: Any) -> None:
    api = Api(client)
    owner, other = api.signup("甲"), api.signup("乙")
    ids = [_upload(api, owner, png_bytes()).json()["id"] for _ in range(3)]
    uid, other_id = int(owner["user_id"]), int(other["user_id"])

    def attach(user_id: int, photo_ids: list[str], owner_id: int, max_count: int = 9) -> None:
        run_in_transaction(
            lambda s: photos.attach(
                s,
                user_id=user_id,
                photo_ids=photo_ids,
                owner_kind="test",
                owner_id=owner_id,
                max_count=max_count,
            )
        )

    for user_id, photo_ids, max_count in (
        (other_id, ids[:1], 9),  # another's photo
        (uid, [ids[0], ids[0]], 9),  # repeated
        (uid, ids, 2),  # over the limit
        (uid, [ids[0], "0" * 32], 9),  # one unknown: the first is not attached either
    ):
        with pytest.raises(errors.PhotosNotAttachable):
            attach(user_id, photo_ids, 1, max_count)
    attach(uid, ids[:2], 7)
    with pytest.raises(errors.PhotosNotAttachable):
        attach(uid, ids[1:], 8)  # the second is already attached to 7
    found = run_in_transaction(lambda s: photos.photos_of(s, "test", [7, 8]))
    assert [p.id for p in found[7]] == ids[:2] and found[8] == []


def test_an_attached_photo_follows_its_owners_visibility(client: Any) -> None:
    api = Api(client)
    owner, friend, stranger = api.signup("甲"), api.signup("乙"), api.signup("丙")
    photo_id = _upload(api, owner, png_bytes()).json()["id"]
    friend_id = int(friend["user_id"])
    run_in_transaction(
        lambda s: photos.attach(
            s,
            user_id=int(owner["user_id"]),
            photo_ids=[photo_id],
            owner_kind="test",
            owner_id=1,
            max_count=9,
        )
    )
    url = f"/api/photos/{photo_id}"
    assert client.get(url, headers={"Authorization": friend["Authorization"]}).status_code == 404
    photos.register_visibility("test", lambda session, viewer, owner_id: viewer == friend_id)
    try:
        assert (
            client.get(url, headers={"Authorization": friend["Authorization"]}).status_code == 200
        )
        r = client.get(url, headers={"Authorization": stranger["Authorization"]})
        assert r.status_code == 404
        op = api.operator()
        assert client.get(url, headers=op).status_code == 200
        photos.register_visibility("test", lambda session, viewer, owner_id: True)
        public = client.get(url)
        assert public.status_code == 200 and public.headers["cache-control"].startswith("public")
    finally:
        photos.register_visibility("test", lambda session, viewer, owner_id: False)


def test_the_page_route_uses_the_browser_session(client: Any) -> None:
    from tests.web.pages import log_in, log_out

    api = Api(client)
    phone = api.phone()
    r = client.post(
        "/api/auth/signup", json={"phone": phone, "password": "secret123", "nickname": "甲"}
    )
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    photo_id = _upload(api, token, png_bytes()).json()["id"]
    assert client.get(f"/photos/{photo_id}").status_code == 404  # nobody logged in
    log_in(client, phone)
    page = client.get(f"/photos/{photo_id}")
    assert page.status_code == 200 and page.headers["content-type"] == "image/jpeg"
    thumb = client.get(f"/photos/{photo_id}/thumb")
    assert thumb.status_code == 200 and len(thumb.content) < len(page.content) + 1
    log_out(client)
    assert client.get(f"/photos/{photo_id}/thumb").status_code == 404
