from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.context import ReportContext
from monitor.reports.context import build_context as build
from monitor.reports.html import render_html, write_site
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
        if tag == "link":
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
    assert len([t for t, _ in parsed.tags if t == "caption"]) == 13  # one per detail table


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
    assert page.count('<details class="detail"') == 14
    assert "<noscript>" in page


def test_detail_section_has_history_timeline_and_network_down_run(page: str) -> None:
    detail = page.split('id="h-video-private"')[1].split("</details>")[0]
    assert detail.count("<tr") == 7  # header + 6 checks
    assert 'class="netdown"' in detail and "DNS failure" in detail
    timeline = detail.split('class="timeline"')[1].split("</ol>")[0]
    assert re.findall(r'class="tag s-(\w+)"', timeline) == ["down", "failing", "ok"]


def test_uptime_duration_stars_sparkline(page: str) -> None:
    row = page.split('id="r-repo-stars"')[1].split("</tr>")[0]
    assert "★ 41,2k" in row
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', row) == [("u", "100%")] * 3
    assert '<svg class="spark"' in row and 'role="img"' in row and "<polyline points=" in row
    course = page.split('id="r-course-failing"')[1].split("</tr>")[0]
    assert ">1:30<" in course
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', course) == [("warn", "80%")] * 3
    recovered = page.split('id="r-page-recovered"')[1].split("</tr>")[0]
    assert re.findall(r'<span class="(\w+)">(\d+%)</span>', recovered) == [("bad", "40%")] * 3
    assert "Total: <strong>2:30</strong> (2 de 3 com duração conhecida)" in page


def test_last_run_and_network(page: str, tmp_path: Path) -> None:
    assert "2026-11-06 03:00 UTC" in page and "rede utilizável" in page
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
    assert {p.name for p in write_site(ctx, out)} == {"index.html", "badge.svg"}
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
