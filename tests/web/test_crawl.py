"""The whole web app, crawled on the demo's data as each kind of person sees it.

From each person's landing pages, every internal link a page shows is followed breadth-first
(up to a bound). Every page must answer without a server error, every link a page shows must
lead somewhere, and every HTML page must have the basics: a title, the page language, a CSRF
token in each form that posts, alt text on images, a label on each field. In Chinese, no
English message of our catalogs may show verbatim (it would be a string not translated where
it is rendered). Downloads must come with their content type.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.aftersales.conftest import png
from tests.web.pages import log_in
from tuangou import demo
from tuangou.web import i18n

PAGES_PER_ROLE = 250
ROLES = {
    "visitor": (None, ["/", "/login", "/signup", "/login/code"]),
    "member": (demo.MEMBERS[0][0], ["/", "/communities", "/orders", "/me", "/inbox"]),
    "leader": (demo.LEADERS[0][0], ["/leader", "/"]),
    "operator": (demo.OPERATOR_PHONE, ["/ops"]),
}
SKIPPED_PREFIXES = ("/api/", "/static/", "/logout", "/lang", "/docs", "/openapi")
DOWNLOADS = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".svg": "image/svg+xml",
    ".json": "application/json",  # 我的账本's proof bundle
    "/me/privacy/export": "application/zip",  # the member's data
}
# Fields a person never fills in by hand.
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
ATTRIBUTES_SHOWN = ("alt", "aria-label", "placeholder", "title")
_PLACEHOLDER = re.compile(r"%\(|%s|%d|\{")
_LETTERS = re.compile(r"[A-Za-z]")
# A status or reason code shown as stored ("pending", "moq_not_met") rather than in words.
_RAW_CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")


# ---------------------------------------------------------------- reading a page


@dataclass
class Page:
    """What the checks need of one HTML page."""

    links: list[str] = field(default_factory=list)
    title: str | None = None
    html_lang: str | None = None
    forms: list[dict[str, object]] = field(default_factory=list)
    images_without_alt: list[str] = field(default_factory=list)
    fields: list[dict[str, str]] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    bad_links: list[str] = field(default_factory=list)


class Reader(HTMLParser):
    """A forgiving reader of our pages (the templates close what they open)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._in_title = False
        self._title: list[str] = []
        self._hidden = 0  # depth inside <script>/<style>/<template>
        self._labels = 0  # depth inside <label>
        self._form: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        page = self.page
        if a.get("id"):
            page.ids.append(a["id"])
        for name in ATTRIBUTES_SHOWN:
            if a.get(name):
                page.texts.append(a[name])
        if tag == "html":
            page.html_lang = a.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag in ("script", "style", "template"):
            self._hidden += 1
        elif tag == "a":
            href = a.get("href", "")
            if href.lower().startswith("javascript:"):
                page.bad_links.append(href)
            elif href:
                page.links.append(href)
        elif tag == "img":
            if "alt" not in a:
                page.images_without_alt.append(a.get("src", "?"))
        elif tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "csrf": False,
            }
            page.forms.append(self._form)
        elif tag == "label":
            self._labels += 1
            if a.get("for"):
                page.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            token = kind == "hidden" and a.get("name") == "csrf_token" and a.get("value")
            if token and self._form is not None:
                self._form["csrf"] = True
            if kind in UNLABELLED_TYPES:
                if tag == "input" and kind in ("submit", "button") and a.get("value"):
                    page.texts.append(a["value"])
                return
            page.fields.append(
                {
                    "tag": tag,
                    "name": a.get("name", ""),
                    "id": a.get("id", ""),
                    "aria": a.get("aria-label", "") or a.get("aria-labelledby", ""),
                    "wrapped": "yes" if self._labels else "",
                }
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            self.page.title = " ".join("".join(self._title).split())
        elif tag in ("script", "style", "template"):
            self._hidden = max(0, self._hidden - 1)
        elif tag == "label":
            self._labels = max(0, self._labels - 1)
        elif tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._hidden:
            return
        text = " ".join(data.split())
        if text:
            self.page.texts.append(text)


def read(html: str) -> Page:
    reader = Reader()
    reader.feed(html)
    reader.close()
    return reader.page


# ---------------------------------------------------------------- checking a page


def english_sentences() -> list[str]:
    """Our catalogs' English messages of three words or more without placeholders: if one
    shows verbatim on a Chinese page, it was not translated where it was rendered."""
    found = {m for _, _, m in i18n.extract()}
    return sorted(
        (
            m
            for m in found
            if len(m.split()) >= 3 and not _PLACEHOLDER.search(m) and _LETTERS.search(m)
        ),
        key=len,
        reverse=True,
    )


def check_page(url: str, page: Page, chinese: bool, sentences: list[str]) -> list[str]:
    problems = []
    if not page.title:
        problems.append("no <title>")
    if not page.html_lang:
        problems.append("no <html lang>")
    elif chinese and page.html_lang != "zh-CN":
        problems.append(f"html lang {page.html_lang!r} on a Chinese page")
    for form in page.forms:
        if form["method"] == "post" and not form["csrf"]:
            problems.append(f"form posting to {form['action']!r} without csrf_token")
    for src in page.images_without_alt:
        problems.append(f"<img src={src!r}> without alt")
    for f in page.fields:
        if not (f["aria"] or f["wrapped"] or (f["id"] and f["id"] in page.label_for)):
            problems.append(f"<{f['tag']} name={f['name']!r} id={f['id']!r}> without a label")
    repeated = sorted({i for i in page.ids if page.ids.count(i) > 1})
    if repeated:
        problems.append(f"repeated ids {repeated}")
    for href in page.bad_links:
        problems.append(f"javascript link {href!r}")
    if chinese:
        for text in page.texts:
            if not _LETTERS.search(text):
                continue
            if _RAW_CODE.match(text):
                problems.append(f"a code shown untranslated on a Chinese page: {text!r}")
                continue
            for sentence in sentences:
                if sentence in text:
                    problems.append(f"English on a Chinese page: {sentence!r}")
                    break
    return [f"{url}: {p}" for p in problems]


# ---------------------------------------------------------------- the crawl


def internal(base: str, href: str) -> str | None:
    """The path and query a link leads to, if it is one of our pages to crawl."""
    target = urldefrag(urljoin(base, href))[0]
    parts = urlsplit(target)
    if parts.netloc not in ("", "testserver"):
        return None
    path = parts.path or "/"
    if not href.startswith(("/", "?", "http://testserver/")):
        return None
    if path.startswith(SKIPPED_PREFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(client: TestClient, start: list[str], chinese: bool, sentences: list[str]) -> list[str]:
    """Visit breadth-first from ``start``; the problems found, one line each."""
    problems: list[str] = []
    seen: dict[str, str] = {url: "(landing)" for url in start}
    queue = deque(start)
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        visited += 1
        reply = client.get(url)
        status = reply.status_code
        came_from = seen[url]
        if status >= 500:
            problems.append(f"{url}: {status} (linked from {came_from})")
            continue
        if status == 404:
            problems.append(f"{url}: 404 for a link shown on {came_from}")
            continue
        path = urlsplit(url).path
        suffix = next((s for s in DOWNLOADS if path.endswith(s)), None)
        kind = reply.headers.get("content-type", "")
        if suffix is not None:
            if status == 200 and not kind.startswith(DOWNLOADS[suffix]):
                problems.append(f"{url}: a {suffix} download served as {kind!r}")
            continue
        if not kind.startswith("text/html"):
            if not kind.startswith("image/"):
                problems.append(f"{url}: unexpected content type {kind!r}")
            continue
        page = read(reply.text)
        here = str(reply.url)
        problems.extend(check_page(url, page, chinese, sentences))
        for href in page.links:
            target = internal(here, href)
            if target is not None and target not in seen:
                seen[target] = url
                queue.append(target)
    assert visited > len(start), f"the crawl from {start} went nowhere"
    return problems


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (CSRF token, one-time key), as a browser sends them."""
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))


def fill_the_queues(client: TestClient) -> None:
    """Through the pages, give the operator's queues something to show: a leader application
    and an after-sale case with a photo (the demo's queues are empty)."""
    log_in(client, demo.MEMBERS[2][0], demo.PASSWORD)
    apply = {"name": "2栋自提点", "address": "幸福里 2 栋", "latitude": "30.2"}
    apply["longitude"] = "120.1"
    body = {**hidden_fields(client.get("/me/apply").text), **apply}
    reply = client.post("/me/apply", data=body, follow_redirects=False)
    assert reply.status_code == 303, reply.text[:300]
    log_in(client, ROLES["member"][0] or "", demo.PASSWORD)
    orders = re.findall(r'href="/orders/(\d+)"', client.get("/orders").text)
    path = next(
        f"/orders/{o}/aftersale"
        for o in orders
        if f'href="/orders/{o}/aftersale"' in client.get(f"/orders/{o}").text
    )
    body = {
        **hidden_fields(client.get(path).text),
        "kind": "damaged",
        "description": "两个梨摔坏了",
        "line_0": "1",
    }
    photo = ("photos", ("p.png", png(), "image/png"))
    reply = client.post(path, data=body, files=[photo], follow_redirects=False)
    assert reply.status_code == 303, reply.text[:300]
    client.cookies.clear()


def crawl_as(client: TestClient, role: str, lang: str, sentences: list[str]) -> list[str]:
    phone, start = ROLES[role]
    client.cookies.clear()
    if phone is not None:
        log_in(client, phone, demo.PASSWORD)
    client.cookies.set("lang", lang)
    found = crawl(client, start, lang == "zh-CN", sentences)
    return [f"[{role} {lang}] {p}" for p in found]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_each_person_can_reach_is_sound(
    client: TestClient, db_url: str, lang: str
) -> None:
    demo.load()
    fill_the_queues(client)
    sentences = english_sentences()
    assert "Not picked up in time" in sentences  # the catalogs were read
    problems: list[str] = []
    for role in ROLES:
        problems.extend(crawl_as(client, role, lang, sentences))
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_checks_see_what_they_are_meant_to_see() -> None:
    """The reader and the checks themselves, on a page made to break every rule."""
    broken = read(
        '<html><head></head><body><form method="post" action="/x"><input name="q">'
        '<select id="s" name="s"></select><button>Go</button></form>'
        '<img src="/a.png"><a href="javascript:void(0)">x</a><p id="d"></p><p id="d">'
        "Not picked up in time</p><td>pending</td><td>moq_not_met</td></body></html>"
    )
    found = check_page("/broken", broken, True, ["Not picked up in time"])
    text = "\n".join(found)
    for expected in (
        "no <title>",
        "no <html lang>",
        "without csrf_token",
        "without alt",
        "name='q'",
        "name='s'",
        "repeated ids ['d']",
        "javascript link",
        "English on a Chinese page",
        "untranslated on a Chinese page: 'pending'",
        "untranslated on a Chinese page: 'moq_not_met'",
    ):
        assert expected in text, (expected, found)
    sound = read(
        '<html lang="zh-CN"><head><title>页</title></head><body>'
        '<form method="post"><input type="hidden" name="csrf_token" value="t">'
        '<label for="q">查</label><input id="q" name="q"><label>数<input name="n"></label>'
        '<input name="c" aria-label="码"></form><img src="/a.png" alt=""><p>未按时提货</p>'
        "</body></html>"
    )
    assert check_page("/sound", sound, True, ["Not picked up in time"]) == []
    assert internal("http://testserver/ops", "/ops/orders?status=paid#x") == (
        "/ops/orders?status=paid"
    )
    assert internal("http://testserver/ops", "https://elsewhere.example/") is None
    assert internal("http://testserver/ops", "http://testserver/join/abc") == "/join/abc"
    assert internal("http://testserver/ops", "/static/app.css") is None


def test_the_dashboard_charts_name_days_the_same_way_in_both_languages(
    client: TestClient, db_url: str
) -> None:
    """The x axis of the day charts carries a few day ticks in the page's language ("12月5日",
    "Dec 5"), a week apart, never one label per day."""
    demo.load()
    log_in(client, demo.OPERATOR_PHONE, demo.PASSWORD)
    for lang, pattern in (("zh-CN", r"\d{1,2}月\d{1,2}日"), ("en", r"[A-Z][a-z]{2} \d{1,2}")):
        client.cookies.set("lang", lang)
        page = client.get("/ops").text
        for chart in ("gmv", "rates"):
            found = re.search(rf'data-chart="{chart}">(<svg.*?</svg>)', page, re.S)
            assert found, chart
            ticks = re.findall(r'<text data-tick="([^"]+)"[^>]*>([^<]+)</text>', found.group(1))
            assert 4 <= len(ticks) <= 8, ticks
            assert all(re.fullmatch(pattern, label) for _, label in ticks), ticks
            days = [date.fromisoformat(d) for d, _ in ticks]
            assert {(b - a).days for a, b in itertools.pairwise(days)} == {7}, days


def test_the_operator_sees_the_photos_of_an_after_sale_case(
    client: TestClient, db_url: str
) -> None:
    demo.load()
    fill_the_queues(client)
    log_in(client, demo.OPERATOR_PHONE, demo.PASSWORD)
    page = client.get("/ops/aftersales").text
    thumb = r'<img class="thumb" src="(/ops/aftersales/\d+/photos/1)" alt="([^"]+)"'
    found = re.search(thumb, page)
    assert found and "两个梨摔坏了" in page, page[-2000:]
    photo = client.get(found.group(1))
    assert photo.status_code == 200 and photo.content.startswith(b"\xff\xd8\xff")  # cleaned: JPEG
    assert client.get(found.group(1)[:-1] + "2").status_code == 404  # only one was sent
    log_in(client, demo.MEMBERS[1][0], demo.PASSWORD)  # another member: not theirs
    assert client.get(found.group(1), follow_redirects=False).status_code == 403
