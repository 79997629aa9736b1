"""site/feed.xml: an Atom feed with one entry per state change of the stored history."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings

from monitor.config.catalog import Catalog
from monitor.domain.models import Run, Verdict
from monitor.domain.state import FLAKY_TRANSITIONS, FLAKY_WINDOW
from monitor.reports import feed as feed_module
from monitor.reports.context import ReportContext, load_context
from monitor.reports.context import build_context as build
from monitor.reports.feed import render_feed
from monitor.reports.html import render_html, render_resource
from monitor.store import queries
from monitor.store.database import Store
from tests.report_fixture import NOW, _result, assert_golden, fill_store, make_catalog
from tests.reports.hostile import (
    HOSTILE,
    MARKER,
    SCRIPT,
    forbidden_in,
    hostile_text,
    one_check_snapshot,
)

ATOM = "{http://www.w3.org/2005/Atom}"
# The fixture's history, counted by hand from tests/report_fixture.PLAN (usable runs 1-4, 6):
# one first state per checked resource (13), plus video-private failing+down, course-failing
# failing, repo-moved moved, page-blocked blocked, page-flaky failing+ok+flaky and
# page-recovered failing+down+recovered.
KNOWN_CHANGES = 13 + 2 + 1 + 1 + 1 + 3 + 3


@pytest.fixture(scope="module")
def catalog_en(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return make_catalog(tmp_path_factory.mktemp("feed-en"), "en")


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, Path]:
    folder = tmp_path_factory.mktemp("feed")
    catalog = make_catalog(folder)
    with Store.open(folder / "history.sqlite") as store:
        fill_store(store, catalog)
    return catalog, folder / "history.sqlite"


def context_at(stored: tuple[Catalog, Path], now: datetime) -> ReportContext:
    catalog, db = stored
    with Store.open(db) as store:
        snap = store.snapshot(now, down_after=catalog.settings.down_after)
    return load_context(catalog, snap, now)


def parsed(xml: str) -> Any:
    doc = feedparser.parse(xml)
    assert not doc.bozo, doc.bozo_exception
    return doc


def test_golden_feed(stored: tuple[Catalog, Path]) -> None:
    assert_golden("feed.xml", render_feed(context_at(stored, NOW)))


def test_one_entry_per_state_change_of_the_store(db_url: str, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL: the feed holds exactly the state changes the store's query
    answers for a known history written through the store."""
    catalog = make_catalog(tmp_path)
    with Store.open(db_url) as store:
        fill_store(store, catalog)
        snap = store.snapshot(NOW, down_after=catalog.settings.down_after)
        with store.engine.connect() as conn:
            changes = queries.transitions(
                conn,
                down_after=catalog.settings.down_after,
                flaky_window=FLAKY_WINDOW,
                flaky_transitions=FLAKY_TRANSITIONS,
            )
    doc = parsed(render_feed(load_context(catalog, snap, NOW)))
    expected = Counter(
        (f"r/{c.resource_id}.html", c.state, c.checked_at) for cs in changes.values() for c in cs
    )
    got = Counter((e.link, e.tags[0].term, datetime.fromisoformat(e.updated)) for e in doc.entries)
    assert sum(expected.values()) == KNOWN_CHANGES
    assert got == expected
    assert len({e.id for e in doc.entries}) == len(doc.entries)  # unique ids


def test_entries_say_what_changed_newest_first(stored: tuple[Catalog, Path]) -> None:
    doc = parsed(render_feed(context_at(stored, NOW)))
    assert doc.feed.title == "Estado dos links"
    assert doc.feed.updated == "2026-11-06T03:00:05+00:00"  # the newest change, not `now`
    assert doc.feed.language == "pt-BR"
    titles = [e.title for e in doc.entries]
    assert titles[:3] == [
        "What are LLMs?: falhou → fora do ar",
        "Course B: ok → falhou",
        "Recovered page: fora do ar → recuperado",
    ]
    assert "Skipped page: não verificado → ignorado" in titles
    updated = [e.updated for e in doc.entries]
    assert updated == sorted(updated, reverse=True)
    (down,) = [e for e in doc.entries if e.title.endswith("→ fora do ar") and "LLMs" in e.title]
    assert down.summary == "Veredito: quebrado · video is private"


def test_ids_are_stable_and_the_feed_unchanged_without_new_data(
    stored: tuple[Catalog, Path],
) -> None:
    first = render_feed(context_at(stored, NOW))
    later = render_feed(context_at(stored, NOW + timedelta(days=2)))
    assert later == first  # a rebuild without a new change rewrites no byte

    catalog, db = stored
    copy = db.parent / "more.sqlite"
    copy.write_bytes(db.read_bytes())
    with Store.open(copy) as store:
        # a seventh night: Course B fails a second time in a row, so it is down
        at = datetime.fromisoformat("2026-11-07T03:00:00+00:00")
        (course,) = [r for r in catalog.resources if r.id == "course-failing"]
        store.record_run(
            Run(id=None, started_at=at, finished_at=at + timedelta(seconds=40)),
            [_result(course.id, course.url, Verdict.ERROR, 7, at)],
            [course],
        )
        snap = store.snapshot(NOW + timedelta(days=2))
    more = parsed(render_feed(load_context(catalog, snap, NOW + timedelta(days=2))))
    old = {e.id: e.title for e in parsed(first).entries}
    new = {e.id: e.title for e in more.entries}
    assert old.items() <= new.items()  # every old entry keeps its id (and says the same)
    assert len(new) == len(old) + 1
    (added,) = set(new) - set(old)
    assert new[added] == "Course B: falhou → fora do ar"


def test_bounded_to_the_last_30_days(stored: tuple[Catalog, Path]) -> None:
    # On 2026-12-03 12:00 the window starts 2026-11-03 12:00: the changes of the 4th
    # (video-private failing, page-flaky flaky) and the 6th (3) remain.
    doc = parsed(render_feed(context_at(stored, datetime.fromisoformat("2026-12-03T12:00+00:00"))))
    assert sorted(e.title for e in doc.entries) == sorted(
        [
            "What are LLMs?: ok → falhou",
            "Flaky page: ok → instável",
            "What are LLMs?: falhou → fora do ar",
            "Course B: ok → falhou",
            "Recovered page: fora do ar → recuperado",
        ]
    )


def test_bounded_to_the_newest_entries(
    stored: tuple[Catalog, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "FEED_MAX", 4)
    doc = parsed(render_feed(context_at(stored, NOW)))
    assert [e.updated[:10] for e in doc.entries] == ["2026-11-06"] * 3 + ["2026-11-04"]


def test_page_and_resource_pages_announce_the_feed(stored: tuple[Catalog, Path]) -> None:
    ctx = context_at(stored, NOW)
    page = render_html(ctx)
    assert '<link rel="alternate" type="application/atom+xml" href="feed.xml"' in page
    resource = render_resource(ctx, ctx.rows[0])
    assert '<link rel="alternate" type="application/atom+xml" href="../feed.xml"' in resource


def _hostile_feed(catalog: Catalog, title: str, error: str) -> str:
    snap = one_check_snapshot("page-title", "https://title.example.com/", title, error)
    return render_feed(build(catalog, snap, NOW))


def test_hostile_scraped_text_is_escaped_and_bounded(catalog_en: Catalog) -> None:
    xml = _hostile_feed(catalog_en, HOSTILE, HOSTILE)
    root = ET.fromstring(xml.encode("utf-8"))  # well-formed XML
    (entry,) = root.iter(f"{ATOM}entry")
    summary = entry.findtext(f"{ATOM}summary") or ""
    assert summary.startswith("Verdict: broken · </script><script>alert(1)</script>")
    assert len(summary) <= 300 + len("Verdict: broken · ") and summary.endswith("…")
    assert not forbidden_in(summary)
    assert "<script>" not in xml and MARKER not in xml  # escaped in the file's text
    assert SCRIPT.replace("<", "&lt;").replace(">", "&gt;") in xml


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(error=hostile_text)
def test_any_scraped_text_gives_a_well_formed_feed(catalog_en: Catalog, error: str) -> None:
    xml = _hostile_feed(catalog_en, "title", error)
    root = ET.fromstring(xml.encode("utf-8"))
    doc = parsed(xml)
    assert len(doc.entries) == 1
    summary = root.find(f"{ATOM}entry/{ATOM}summary")
    assert summary is not None and not forbidden_in(summary.text or "")
    assert len(summary.text or "") <= 300 + len("Verdict: broken · ")
