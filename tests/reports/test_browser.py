"""The status page in a real headless Chromium (Debian's package, driven by Playwright).

Skipped when Chromium is missing on a workstation; fails on CI (env CI set), so CI can
never pass by silently skipping. Screenshots land in test-artifacts/ (ignored by git;
CI uploads the folder): the page on a desktop, a phone (light and dark), a filtered view
and a resource page.

The fixture's history ends 2026-11-06 (tests/report_fixture.py); the browser's clock is
set by Playwright where a test reads relative times.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from monitor.reports.html import write_site
from tests.report_fixture import build_context

pytestmark = pytest.mark.browser

# Debian's chromium first (what `make browser` installs); Google Chrome is what GitHub's
# Ubuntu runners ship, where the apt "chromium" is only a snap stub.
CANDIDATES = [
    os.environ.get("MONITOR_CHROMIUM", ""),
    "/usr/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
]
CHROMIUM = next((Path(c) for c in CANDIDATES if c and Path(c).exists()), Path("/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    write_site(build_context(root / "data"), root / "site")
    write_site(build_context(root / "data-en", locale="en"), root / "site" / "en")
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=str(root / "site"))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser test")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


# A moment after the fixture's last run (2026-11-06 03:00 UTC), for the relative times.
LATER = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}


class Watched:
    """A page in its own browser context that records console errors and page errors."""

    def __init__(self, browser: Any, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    opened: list[Watched] = []

    def open_(**options: Any) -> Watched:
        opened.append(Watched(browser, **options))
        return opened[-1]

    yield open_
    for watched in opened:
        watched.context.close()


def _visible_rows(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "tr[data-state]", "rows => rows.filter(r => r.offsetParent !== null).map(r => r.id)"
    )
    return ids


def _query(page: Any) -> str:
    query: str = page.evaluate("() => location.search")
    return query


def _fields(page: Any) -> tuple[str, str, str]:
    return (
        page.input_value("#f-state"),
        page.input_value("#f-kind"),
        page.input_value("#f-text"),
    )


def _shot(page: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)
    assert (ARTIFACTS / name).stat().st_size > 5_000


def test_filters_search_and_no_console_errors(open_page: Any, site_url: str) -> None:
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    page.goto(site_url)
    assert page.is_visible("#filters")
    assert len(_visible_rows(page)) == 14
    assert page.inner_text("#f-count") == "14 / 14 visíveis"

    page.select_option("#f-state", "down")
    assert _visible_rows(page) == ["r-video-private"]
    assert page.inner_text("#f-count") == "1 / 14 visíveis"
    assert not page.is_visible("#s-cursos")  # a section with no match hides

    page.select_option("#f-state", "")
    page.select_option("#f-kind", "github")
    assert sorted(_visible_rows(page)) == ["r-repo-moved", "r-repo-stars"]

    page.select_option("#f-kind", "")
    page.fill("#f-text", "course")
    assert sorted(_visible_rows(page)) == [
        "r-course-failing",
        "r-course-nodur",
        "r-course-ok",
        "r-repo-stars",
    ]
    page.fill("#f-text", "VIDEO")  # accents and case folded: finds "vídeo"
    assert sorted(_visible_rows(page)) == ["r-video-ok", "r-video-private"]
    page.fill("#f-text", "no such thing")
    assert _visible_rows(page) == []
    page.fill("#f-text", "")
    assert len(_visible_rows(page)) == 14

    # a row's link leads to that resource's own page, with its checks
    page.click('#r-video-private a[href="r/video-private.html"] >> nth=0')
    page.wait_for_url("**/r/video-private.html")
    assert page.is_visible("table.checks")
    page.go_back()
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, "status-page.png")
    assert w.problems == []


def test_filter_state_lives_in_the_url(open_page: Any, site_url: str) -> None:
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    # a linked view opens filtered
    page.goto(site_url + "?state=down")
    assert _fields(page) == ("down", "", "")
    assert _visible_rows(page) == ["r-video-private"]
    assert page.inner_text("#f-count") == "1 / 14 visíveis"
    page.goto(site_url + "?kind=github&q=LLM")
    assert _fields(page) == ("", "github", "LLM")
    assert _visible_rows(page) == ["r-repo-stars"]
    # a value the page does not offer is dropped, not applied as "match nothing"
    page.goto(site_url + "?state=nonsense")
    assert _fields(page) == ("", "", "")
    assert page.eval_on_selector("#f-state", "s => s.selectedIndex") == 0  # shows "all"
    assert len(_visible_rows(page)) == 14

    page.goto(site_url)
    page.select_option("#f-kind", "youtube")
    assert _query(page) == "?kind=youtube"
    page.locator("#f-text").press_sequentially("what")  # four keystrokes, one history entry
    assert _query(page) == "?kind=youtube&q=what"
    assert _visible_rows(page) == ["r-video-private"]
    _shot(page, "status-page-filtered.png", full_page=False)

    page.go_back()
    assert _query(page) == "?kind=youtube"
    assert _fields(page) == ("", "youtube", "")
    assert sorted(_visible_rows(page)) == ["r-video-ok", "r-video-private"]
    page.go_back()
    assert _query(page) == ""
    assert _fields(page) == ("", "", "")
    assert len(_visible_rows(page)) == 14
    page.go_forward()
    page.go_forward()
    assert _fields(page) == ("", "youtube", "what")
    assert _visible_rows(page) == ["r-video-private"]

    # to a resource's page and back: the filtered view comes back
    page.click('#r-video-private a[href="r/video-private.html"] >> nth=0')
    page.wait_for_url("**/r/video-private.html")
    page.go_back()
    assert _query(page) == "?kind=youtube&q=what"
    assert _fields(page) == ("", "youtube", "what")
    assert _visible_rows(page) == ["r-video-private"]
    page.reload()
    assert _fields(page) == ("", "youtube", "what")
    assert _visible_rows(page) == ["r-video-private"]
    assert w.problems == []


def _times(page: Any, selector: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")
    return texts


def test_times_are_absolute_in_html_and_relative_in_the_browser(
    open_page: Any, site_url: str
) -> None:
    # the HTML holds absolute UTC times; the built page never says "ago"
    w = open_page(java_script_enabled=False)
    w.page.goto(site_url)
    assert w.page.inner_text("header time") == "6 de nov. de 2026 03:00 UTC"
    assert _times(w.page, "#r-video-private time") == ["6 de nov. de 2026 03:00 UTC"]

    w = open_page()
    w.page.clock.set_fixed_time(LATER)
    w.page.goto(site_url)
    header = w.page.locator("header time")
    assert header.inner_text() == "há 33 horas"
    assert header.get_attribute("title") == "6 de nov. de 2026 03:00 UTC"
    assert _times(w.page, "#r-video-private time") == ["há 33 horas"]
    assert _times(w.page, "#r-video-ok time") == ["há 6 dias"]
    assert w.page.inner_text("footer time") == "6 de nov. de 2026 12:00 UTC (há 24 horas)"
    w.page.goto(site_url.replace("index.html", "r/video-private.html"))
    assert _times(w.page, "main p.muted time") == ["6 de nov. de 2026 03:00 UTC (há 33 horas)"]

    # the same HTML read two weeks later says so: nothing was frozen at build time
    later = open_page()
    later.page.clock.set_fixed_time(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    later.page.goto(site_url)
    assert later.page.inner_text("header time") == "há 14 dias"

    # a tab left open keeps counting
    kept = open_page()
    kept.page.clock.install(time=LATER)
    kept.page.goto(site_url)
    assert kept.page.inner_text("header time") == "há 33 horas"
    kept.page.clock.run_for("02:00:00")
    assert kept.page.inner_text("header time") == "há 35 horas"

    # in the page's language
    en = open_page()
    en.page.clock.set_fixed_time(LATER)
    en.page.goto(site_url.replace("index.html", "en/index.html"))
    assert en.page.inner_text("header time") == "33 hours ago"
    assert _times(en.page, "#r-video-ok time") == ["6 days ago"]
    assert w.problems == later.problems == kept.problems == en.problems == []


def _horizontal_overflow(page: Any) -> dict[str, Any]:
    """What sticks out sideways: the page itself, any scroller, any table row."""
    found: dict[str, Any] = page.evaluate(
        """() => {
        const page = [document.scrollingElement.scrollWidth, innerWidth];
        const scrollers = [...document.querySelectorAll('body *')]
          .filter(e => e.scrollWidth > e.clientWidth + 1 &&
                       ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
          .map(e => e.className || e.tagName);
        const rows = [...document.querySelectorAll('tbody tr')]
          .filter(r => r.offsetParent !== null && r.getBoundingClientRect().right > innerWidth)
          .map(r => r.id || r.className || 'tr');
        return {page, scrollers, rows};
    }"""
    )
    return found


def _assert_fits(page: Any) -> None:
    found = _horizontal_overflow(page)
    width, inner = found["page"]
    assert width <= inner, f"the page scrolls sideways: {width} > {inner}"
    assert found["scrollers"] == [], f"these scroll sideways: {found['scrollers']}"
    assert found["rows"] == [], f"these rows stick out: {found['rows']}"


@pytest.mark.parametrize("viewport", [PHONE, SMALL_PHONE], ids=["390px", "320px"])
def test_phone_rows_become_cards_without_sideways_scroll(
    open_page: Any, site_url: str, viewport: dict[str, int]
) -> None:
    w = open_page(viewport=viewport, is_mobile=True, has_touch=True)
    page = w.page
    page.goto(site_url)
    _assert_fits(page)
    # a row is a card: its cells stack, each named by its column
    assert page.eval_on_selector("#r-video-private", "r => getComputedStyle(r).display") == "block"
    # the header row is kept for screen readers, out of sight
    assert page.eval_on_selector("thead", "t => t.getBoundingClientRect().width") <= 1
    labels = page.eval_on_selector_all(
        "#r-video-private td",
        "tds => tds.map(td => getComputedStyle(td, '::before').content)",
    )
    assert labels == [
        '"Status"',
        '"Tipo"',
        '"Duração"',
        '"Estrelas"',
        '"Disponibilidade 7/30/90 d"',
        '"Tempo de resposta"',
    ]
    # filtering still hides cards
    page.select_option("#f-state", "down")
    assert _visible_rows(page) == ["r-video-private"]
    page.select_option("#f-state", "")

    # a 10,000-character scraped title without a space, and a long URL, wrap in place
    page.evaluate(
        """() => {
        document.querySelector('#r-video-ok .sub').textContent = '\\u202e' + 'x'.repeat(10000);
        document.querySelector('#r-repo-moved .url').textContent =
            'https://github.com/' + 'new-owner-'.repeat(40);
    }"""
    )
    _assert_fits(page)
    if viewport is PHONE:
        page.goto(site_url)
        _shot(page, "status-page-phone.png")
    for resource in ("video-private", "page-title"):
        page.goto(site_url.replace("index.html", f"r/{resource}.html"))
        _assert_fits(page)
        assert (
            page.eval_on_selector("table.checks tbody tr", "r => getComputedStyle(r).display")
            == "block"
        )
    if viewport is PHONE:
        _shot(page, "resource-page-phone.png")
        dark = open_page(viewport=viewport, is_mobile=True, color_scheme="dark")
        dark.page.goto(site_url)
        _shot(dark.page, "status-page-phone-dark.png", full_page=False)
        assert dark.problems == []
    assert w.problems == []


def test_complete_without_javascript(open_page: Any, site_url: str) -> None:
    w = open_page(java_script_enabled=False)
    page = w.page
    page.goto(site_url)
    assert not page.is_visible("#filters")
    assert len(_visible_rows(page)) == 14
    # every resource's page is reachable by a plain link, and shows its checks
    page.click('#r-video-private a[href="r/video-private.html"] >> nth=0')
    page.wait_for_url("**/r/video-private.html")
    assert page.is_visible("table.checks")
    assert page.inner_text("h1").endswith("What are LLMs?")
    # and back to all links, by a plain link too
    page.click('a[href="../index.html"]')
    page.wait_for_url("**/index.html")
    assert len(_visible_rows(page)) == 14

    phone = open_page(java_script_enabled=False, viewport=PHONE)
    phone.page.goto(site_url)
    _assert_fits(phone.page)
    phone.page.click('#r-video-private a[href="r/video-private.html"] >> nth=0')
    phone.page.wait_for_url("**/r/video-private.html")
    _assert_fits(phone.page)


SEVERE = ("serious", "critical")


@pytest.mark.parametrize(
    "options",
    [
        {"viewport": {"width": 1280, "height": 900}},
        {"viewport": PHONE, "is_mobile": True, "color_scheme": "dark"},
    ],
    ids=["desktop-light", "phone-dark"],
)
@pytest.mark.parametrize("path", ["index.html", "r/video-private.html", "r/page-title.html"])
def test_accessibility_no_serious_violations(
    open_page: Any, site_url: str, path: str, options: dict[str, Any]
) -> None:
    w = open_page(**options)
    w.page.goto(site_url.replace("index.html", path))
    results = Axe().run(w.page)  # axe-core from the wheel: no network
    severe = [v for v in results.response["violations"] if v["impact"] in SEVERE]
    assert severe == [], results.generate_report()
    assert results.response["testEngine"]["name"] == "axe-core"
    assert w.problems == []
