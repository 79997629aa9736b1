from __future__ import annotations

import dataclasses
import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.badge import (
    GREEN,
    GREY,
    LABEL_LIMIT,
    RED,
    YELLOW,
    badge_colour,
    render_badge,
    render_resource_badge,
    render_resource_endpoint,
)
from monitor.reports.context import ReportContext, Row
from monitor.reports.context import build_context as build
from monitor.reports.html import write_site
from tests.report_fixture import NOW, assert_golden, build_context, make_catalog
from tests.reports.hostile import HOSTILE, MARKER, forbidden_in, hostile_text


def test_golden_badge(tmp_path: Path) -> None:
    svg = render_badge(build_context(tmp_path))
    assert_golden("badge.svg", svg)
    root = ET.fromstring(svg)
    assert root.get("aria-label") == "links: 8/13"
    assert "8/13" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_badge_before_any_check_says_so(tmp_path: Path) -> None:
    svg = render_badge(build(make_catalog(tmp_path, "en"), HistorySnapshot(), NOW))
    assert 'aria-label="links: not checked yet"' in svg and GREY in svg


def test_badge_colour() -> None:
    assert badge_colour(10, 10, True) == GREEN
    assert badge_colour(8, 10, True) == YELLOW
    assert badge_colour(7, 10, True) == RED
    assert badge_colour(0, 0, True) == GREY
    assert badge_colour(5, 5, False) == GREY


# Per-resource badges: site/badges/<id>.svg and the shields.io endpoint JSON beside it.

SVG = "{http://www.w3.org/2000/svg}"
# https://shields.io/badges/endpoint-badge: the fields we write and what the docs require.
SHIELDS_ENDPOINT = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string", "pattern": "^[0-9a-f]{6}$"},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("badges"))


def _row(ctx: ReportContext, rid: str) -> Row:
    (row,) = [r for r in ctx.rows if r.resource.id == rid]
    return row


def svg_texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_golden_resource_badges(ctx: ReportContext) -> None:
    row = _row(ctx, "video-private")
    assert_golden("badges-video-private.svg", render_resource_badge(row))
    assert_golden("badges-video-private.json", render_resource_endpoint(row))


@pytest.mark.parametrize(
    ("rid", "message", "colour"),
    [
        ("video-ok", "ok", GREEN),
        ("page-recovered", "recuperado", GREEN),
        ("repo-moved", "mudou de endereço", YELLOW),
        ("page-flaky", "instável", YELLOW),
        ("course-failing", "falhou", YELLOW),
        ("video-private", "fora do ar", RED),
        ("page-blocked", "bloqueado", GREY),
        ("page-skipped", "ignorado", GREY),
        ("page-new", "não verificado", GREY),
    ],
)
def test_a_resource_badge_says_its_state(
    ctx: ReportContext, rid: str, message: str, colour: str
) -> None:
    row = _row(ctx, rid)
    svg = render_resource_badge(row)
    assert svg_texts(svg) == [row.resource.label, message]
    assert f'fill="{colour}"' in svg
    endpoint = json.loads(render_resource_endpoint(row))
    jsonschema.validate(endpoint, SHIELDS_ENDPOINT)
    assert endpoint["label"] == row.resource.label and endpoint["message"] == message
    assert endpoint["color"] == colour.removeprefix("#")


def test_site_writes_a_badge_per_resource_linked_from_its_page(
    ctx: ReportContext, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    write_site(ctx, out)
    for row in ctx.rows:
        rid = row.resource.id
        assert (out / "badges" / f"{rid}.svg").read_text() == render_resource_badge(row)
        json.loads((out / "badges" / f"{rid}.json").read_text())
        page = (out / row.page).read_text()
        assert f'<img src="../badges/{rid}.svg"' in page
        assert f'href="../badges/{rid}.json"' in page
    # a resource gone from the catalog loses its badges
    fewer = dataclasses.replace(ctx, rows=ctx.rows[1:])
    removed = {p.relative_to(out).as_posix() for p in write_site(fewer, out)}
    gone = ctx.rows[0].resource.id
    assert {f"badges/{gone}.svg", f"badges/{gone}.json", f"r/{gone}.html"} <= removed
    assert not (out / "badges" / f"{gone}.svg").exists()


def _hostile_row(tmp_path: Path, label: str) -> Row:
    """A resource whose label came from someone else's list, past the catalog's own checks."""
    catalog = make_catalog(tmp_path, "en")
    first = dataclasses.replace(catalog.resources[0], label=label)
    catalog = dataclasses.replace(catalog, resources=(first, *catalog.resources[1:]))
    return build(catalog, HistorySnapshot(), NOW).rows[0]


def test_hostile_label_is_escaped_and_bounded(tmp_path: Path) -> None:
    row = _hostile_row(tmp_path, HOSTILE)
    svg = render_resource_badge(row)
    label, message = svg_texts(svg)  # well-formed SVG, two texts
    assert label.startswith("</script><script>alert(1)") and label.endswith("…")
    assert len(label) <= LABEL_LIMIT and not forbidden_in(svg)
    assert "<script>" not in svg and MARKER not in svg
    assert message == "not checked yet"
    raw = render_resource_endpoint(row)
    endpoint = json.loads(raw)
    assert endpoint["label"] == label
    assert "<" not in raw and not forbidden_in(endpoint["label"])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label=hostile_text.filter(lambda s: s.strip()))
def test_any_label_gives_a_well_formed_badge(label: str) -> None:
    row = _hostile_row(Path(tempfile.mkdtemp(prefix="monitor-badge-")), label)
    texts = svg_texts(render_resource_badge(row))
    assert len(texts) == 2 and len(texts[0]) <= LABEL_LIMIT and not forbidden_in(texts[0])
    endpoint = json.loads(render_resource_endpoint(row))
    jsonschema.validate(endpoint, SHIELDS_ENDPOINT)
