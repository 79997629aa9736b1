"""The status page in a real headless Chromium (Debian's package, driven by Playwright).

Skipped when Chromium is missing on a workstation; fails on CI (env CI set), so CI can
never pass by silently skipping. The screenshot lands in test-artifacts/status-page.png.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

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


def _visible_rows(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "tr[data-state]", "rows => rows.filter(r => r.offsetParent !== null).map(r => r.id)"
    )
    return ids


def test_filters_search_and_no_console_errors(browser: Any, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
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

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status-page.png"), full_page=True)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, color_scheme="dark")
    phone.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    phone.goto(site_url)
    phone.screenshot(path=str(ARTIFACTS / "status-page-phone-dark.png"), full_page=False)
    assert problems == []
    assert (ARTIFACTS / "status-page.png").stat().st_size > 10_000


def test_complete_without_javascript(browser: Any, site_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url)
    assert not page.is_visible("#filters")
    assert len(_visible_rows(page)) == 14
    # every resource's page is reachable by a plain link, and shows its checks
    page.click('#r-video-private a[href="r/video-private.html"] >> nth=0')
    page.wait_for_url("**/r/video-private.html")
    assert page.is_visible("table.checks")
    context.close()
