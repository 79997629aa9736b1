from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.badge import GREEN, GREY, RED, YELLOW, badge_colour, render_badge
from monitor.reports.context import build_context as build
from tests.report_fixture import NOW, assert_golden, build_context, make_catalog


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
