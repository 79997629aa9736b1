from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.context import ReportContext
from monitor.reports.context import build_context as build
from monitor.reports.html import render_html, render_resource, write_site
from tests.report_fixture import EVIL_TITLE, NOW, assert_golden, build_context, make_catalog


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def page(ctx: ReportContext) -> str:
    return render_html(ctx)


class Collect(HTMLParser):
    """Tags, attributes and text of a page, to assert on structure rather than on bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(page: str) -> Collect:
    c = Collect()
    c.feed(page)
    return c


def test_golden_html(page: str) -> None:
    assert_golden("index.html", page)


def test_scraped_title_renders_as_text(page: str) -> None:
    assert EVIL_TITLE not in page
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = parse(page)
    # exactly one script element: ours, inline
    assert [t for t, _ in parsed.tags if t == "script"] == ["script"]
    assert not any("alert(1)" in s for s in parsed.scripts)
    assert not any(
        (a.get("href") or "").startswith("javascript:") for t, a in parsed.tags if t == "a"
    )


def test_self_contained_no_external_resources(page: str) -> None:
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        if tag == "link" and attrs.get("rel") == "alternate":
            # announced, never loaded: the feed and status.json, beside the page
            assert attrs.get("href") in ("feed.xml", "status.json"), attrs
        elif tag == "link":
            assert attrs.get("href") == "data:,"
    assert "@import" not in page and "url(http" not in page and "@font-face" not in page


def test_lang_from_catalog_locale_and_table_semantics(page: str, tmp_path: Path) -> None:
    assert page.startswith('<!doctype html>\n<html lang="pt-BR">')
    en = render_html(build_context(tmp_path, "en"))
    assert '<html lang="en">' in en and "Link status" in en
    parsed = parse(page)
    col_headers = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "col"]
    row_headers = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "row"]
    assert len(row_headers) == 14  # every resource's label is its row's header
    assert len(col_headers) >= 7 * 3
    assert not [t for t, _ in parsed.tags if t == "caption"]  # check tables: resource pages


def test_status_has_icon_colour_and_text(page: str) -> None:
    # the down resource: class (colour), a glyph hidden from screen readers, and words
    assert re.search(
        r'<span class="pill s-down"><span class="g" aria-hidden="true">✕</span> fora do ar</span>',
        page,
    )


def test_problems_first_and_rows_carry_filter_data(page: str, ctx: ReportContext) -> None:
    problems = page.split('id="problems-h"')[1].split("</section>")[0]
    order = [problems.index(x) for x in ("What are LLMs", "Flaky", "Blocked", "Course B", "Moved")]
    assert order == sorted(order)
    assert "https://github.com/new-owner/repo" in problems
    resources = page.split('id="sh-resources"')[1].split("</section>")[0]
    states = re.findall(r'<tr id="r-[^"]+" data-state="(\w+)"', resources)
    assert states == [
        "flaky",
        "blocked",
        "moved",
        "recovered",
        "ok",
        "ok",
        "ok",
        "skipped",
        "unknown",
    ]
    assert 'data-kind="github"' in resources
    assert 'data-search="page with a new title &lt;/td&gt;' in resources


def test_complete_without_javascript(page: str) -> None:
    # the filter form is hidden until the script shows it; every row is in the HTML
    assert re.search(r'<form class="filters" id="filters" role="search" hidden>', page)
    assert page.count('<tr id="r-') == 14
    # every row links to its own page, a plain link: no JavaScript needed to reach it
    assert len(set(re.findall(r'<a href="(r/[a-z0-9-]+\.html)">', page))) == 14
    assert "<details" not in page  # nothing collapsed: the history lives on those pages
    assert "<noscript>" in page


def test_resource_page_has_history_timeline_and_network_down_run(ctx: ReportContext) -> None:
    (row,) = [r for r in ctx.rows if r.resource.id == "video-private"]
    detail = render_resource(ctx, row)
    assert '<a href="../index.html">' in detail
    assert detail.count("<tr") == 7  # header + 6 checks
    assert 'class="netdown"' in detail and "DNS failure" in detail
    timeline = detail.split('class="timeline"')[1].split("</ol>")[0]
    assert re.findall(r'class="tag s-(\w+)"', timeline) == ["down", "failing", "ok"]


def test_uptime_duration_stars_sparkline(page: str) -> None:
    row = page.split('id="r-repo-stars"')[1].split("</tr>")[0]
    assert "★ 41,2\u00a0mil" in row
    # six days of history: the 7-day figure, not a 30- or 90-day one built on the same days
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', row) == [("u", "100%")]
    assert row.count('<span class="u">—</span>') == 2 and "6 dias de dados" in row
    assert '<svg class="spark"' in row and 'role="img"' in row and "<polyline points=" in row
    course = page.split('id="r-course-failing"')[1].split("</tr>")[0]
    assert ">1 h 30 min<" in course
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', course) == [("warn", "80%")]
    recovered = page.split('id="r-page-recovered"')[1].split("</tr>")[0]
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', recovered) == [("bad", "40%")]
    assert "Total: <strong>2 h 30 min</strong> (2 de 3 com duração conhecida)" in page


def test_last_run_and_network(page: str, tmp_path: Path) -> None:
    assert "6 de nov. de 2026 03:00 UTC" in page and "rede utilizável" in page
    empty = render_html(build(make_catalog(tmp_path), HistorySnapshot(), NOW))
    assert "Nenhuma verificação ainda" in empty


def test_network_down_last_run_is_announced(tmp_path: Path) -> None:
    from datetime import timedelta

    from monitor.domain.models import Run
    from monitor.reports.context import load_context
    from monitor.store.database import Store

    catalog = make_catalog(tmp_path)
    with Store.open(tmp_path / "h.sqlite") as store:
        store.record_run(
            Run(id=None, started_at=NOW - timedelta(hours=1), network_ok=False), [], []
        )
        page = render_html(load_context(catalog, store.snapshot(NOW), NOW))
    assert "rede inutilizável: esta execução não mudou nenhum estado" in page


def test_write_site_writes_page_and_badge_once(ctx: ReportContext, tmp_path: Path) -> None:
    out = tmp_path / "site"
    pages = {f"r/{r.resource.id}.html" for r in ctx.rows}
    written = {p.relative_to(out).as_posix() for p in write_site(ctx, out)}
    badges = {f"badges/{r.resource.id}.{ext}" for r in ctx.rows for ext in ("svg", "json")}
    assert written == {"index.html", "badge.svg", "status.json", "feed.xml", *pages, *badges}
    assert write_site(ctx, out) == []  # unchanged: nothing rewritten
    assert (out / "index.html").stat().st_mode & 0o777 == 0o644


def test_a_moved_to_url_is_linked_only_when_safe(ctx: ReportContext) -> None:
    import dataclasses

    moved = next(r for r in ctx.rows if r.moved_to)
    evil = dataclasses.replace(moved, moved_to="javascript:alert(1)", moved_to_href=None)
    rows = tuple(evil if r is moved else r for r in ctx.rows)
    page = render_html(dataclasses.replace(ctx, rows=rows, problems=(evil,)))
    assert 'href="javascript:' not in page
    assert '<span class="url">javascript:alert(1)</span>' in page


def test_golden_resource_page(ctx: ReportContext) -> None:
    """One resource's own page (site/r/<id>.html): the down video, with a network-down run."""
    (row,) = [r for r in ctx.rows if r.resource.id == "video-private"]
    assert_golden("r-video-private.html", render_resource(ctx, row))


def test_file_links_point_at_the_repository_on_the_page(tmp_path: Path) -> None:
    """A relative file link is dead once the site is published: on the page it goes to the
    repository (settings.repository_url, or the caller's default), in the README it stays."""
    with_repo = build_context(tmp_path / "a", repository_url="https://github.com/o/roadmap")
    (row,) = [r for r in with_repo.rows if r.resource.kind.value == "file"]
    assert row.href == f"https://github.com/o/roadmap/blob/HEAD/{row.resource.url}"
    assert row.url == row.resource.url  # the README's link, relative to the README
    page = render_html(with_repo)
    assert f'<a href="{row.href}">' in page
    assert '<a href="https://github.com/o/roadmap">o roadmap</a>' in page
    without = build_context(tmp_path / "b")
    (row,) = [r for r in without.rows if r.resource.kind.value == "file"]
    assert row.href is None and f'href="{row.resource.url}"' not in render_html(without)


def test_hostile_title_is_escaped_and_bounded_on_the_resource_page(ctx: ReportContext) -> None:
    (row,) = [r for r in ctx.rows if r.resource.id == "page-title"]
    page = render_resource(ctx, row)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
