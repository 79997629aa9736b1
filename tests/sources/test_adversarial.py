"""Extraction and import stay linear on adversarial input (issue 16).

Bounds are generous (a loaded 2-core CI machine): what they catch is quadratic growth, which
took minutes on these inputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import load_catalog
from monitor.sources.extract import extract_html, extract_links, extract_markdown


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@pytest.mark.parametrize(
    ("name", "text", "read"),
    [
        ("20,000 unclosed <a href> tags as HTML", '<a href="x"\n' * 20_000, extract_html),
        ("the same, sniffed", '<a href="x"\n' * 20_000, lambda t: extract_links(t, "x.txt")),
        ("the same in Markdown", '<a href="x"\n' * 20_000, extract_markdown),
        ("40,000 '<a ' starts", "<a " * 40_000, lambda t: extract_links(t, "x")),
        ("a line of 40,000 '['", "[" * 40_000, lambda t: extract_links(t, "x")),
        ("10,000 '<http://'", "<http://" * 10_000, lambda t: extract_links(t, "x")),
    ],
)
def test_extraction_is_linear(name: str, text: str, read: Callable[[str], object]) -> None:
    took = seconds(lambda: read(text))
    assert took < 10, f"{name}: {took:.1f} s"


def test_unclosed_tag_hides_nothing_before_it() -> None:
    html = '<a href="https://a.example/">a</a>\n<a href="https://b.example/"\n' * 2
    assert [link.url for link in extract_html(html)][:1] == ["https://a.example/"]


def test_a_huge_heading_imports_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    roadmap = tmp_path / "R.md"
    heading = '"\\' * 100_000  # 200 KB of quotes and backslashes: all escapes in TOML
    # " b" after the heading: a label ending in "\\" escapes its "]", and then GitHub renders no
    # link at all (cmark-gfm, the extraction's oracle), so there would be nothing to import
    roadmap.write_text(f"# {heading}\n\n[a {heading} b](https://x.example/)\n", encoding="utf-8")
    took = seconds(
        lambda: CliRunner().invoke(app, ["import", str(roadmap), "--catalog", "resources.toml"])
    )
    catalog = load_catalog(tmp_path / "resources.toml")
    assert len(catalog.sections[0].title) < 400 and len(catalog.resources[0].label) < 400
    assert took < 30, f"{took:.1f} s"
