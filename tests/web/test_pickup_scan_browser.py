"""The leader scans a member's QR with the phone's camera, in a real browser: Chromium's fake
camera plays a y4m video made here of a pickup code's QR. Chromium on Linux has no
BarcodeDetector, so this walks the fallback: frames drawn on a canvas, posted as JPEGs to the
server, decoded there, then the counter's green result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from playwright.sync_api import Browser, Playwright, expect

from tests.web.browser import CHROMIUM, Site, check_page, log_in, phone_context
from tests.web.test_leader_pages import LEADER, leader_ids, waiting_codes

WIDTH, HEIGHT = 640, 480


def qr_video(code: str, path: Path, frames: int = 20) -> Path:
    """A y4m video (4:2:0) whose every frame shows ``code``'s QR on a grey background."""
    qr = segno.make(code, error="m")
    matrix = [list(row) for row in qr.matrix]
    border, size = 4, len(matrix)
    scale = (HEIGHT - 80) // (size + 2 * border)
    side = scale * (size + 2 * border)
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray([150]) * (WIDTH * HEIGHT)
    for y in range(side):
        my = y // scale - border
        for x in range(side):
            mx = x // scale - border
            dark = 0 <= my < size and 0 <= mx < size and matrix[my][mx]
            luma[(top + y) * WIDTH + left + x] = 20 if dark else 235
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def camera_browser(
    playwright: Playwright, site: Site, tmp_path: Path
) -> Iterator[tuple[Browser, str]]:
    """A second chromium of this process's Playwright, whose camera plays a QR of a code."""
    point = leader_ids(LEADER)["point"]
    code, _ = waiting_codes(point)[0]
    video = qr_video(code, tmp_path / "qr.y4m")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield browser, code
    browser.close()


def test_the_leader_scans_a_qr_with_the_camera(
    camera_browser: tuple[Browser, str], site: Site
) -> None:
    from tests.web.pages import scalar

    browser, code = camera_browser
    point = leader_ids(LEADER)["point"]
    context = phone_context(browser, site)
    context.grant_permissions(["camera"])
    errors: list[str] = []
    page = context.new_page()
    # Every failed request.
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        log_in(page, LEADER)
        page.goto(f"/leader/pickup?point={point}")
        page.get_by_role("button", name="扫码核销").click()
        shown = page.locator("#pickup-result")
        expect(shown).to_be_visible(timeout=30_000)
        assert shown.get_attribute("data-result") == "ok", shown.inner_text()
        assert f"提货码 {code}" in " ".join(shown.inner_text().split())
        assert scalar("SELECT verified_how FROM pickups WHERE code = :c", c=code) == "scan"
        check_page(page, "leader-pickup-scanned")  # the page's accessibility basics, a shot
        assert errors == []
    finally:
        context.close()
