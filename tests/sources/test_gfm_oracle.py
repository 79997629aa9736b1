"""Differential test: what we extract from Markdown is what GitHub renders as a link.

The oracle is cmark-gfm itself (`cmarkgfm`, the binding GitHub's renderer is built on), with
its GFM extensions (autolink, table, strikethrough, tagfilter) and raw HTML passed through as
GitHub does before sanitising. Every `<a href>` of its HTML must be one of our links, in the
same order, and nothing more: on every Markdown fixture and on generated documents.

Deliberate differences, each excluded from the comparison with its reason:
- `mailto:` links (email autolinks, `<a href="mailto:…">`): found by both, never checked by us,
  so extraction does not compare them (they are reported as skipped later).
- Link reference definitions and links in raw HTML *blocks* are not generated: HTML blocks are
  read by an HTML parser on both sides, so they only add noise to what this test is about.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from monitor.sources.extract import extract_markdown
from tests.conftest import FIXTURES, REPO

# RFC 3986 reserved and unreserved characters: both sides are compared percent-decoded and
# re-encoded the same way (cmark percent-encodes what it must, we keep what was written).
_SAFE = "-_.!~*'();/?:@&=+$,%#[]"


def canonical(url: str) -> str:
    return quote(unquote(url), safe=_SAFE)


def github_links(markdown: str) -> list[str]:
    """The hrefs GitHub renders, in document order."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    tree = LexborHTMLParser(f"<html><body>{rendered}</body></html>")
    hrefs = [str(node.attributes.get("href") or "") for node in tree.css("a[href]")]
    return [canonical(h) for h in hrefs if not h.lower().startswith("mailto:")]


def our_links(markdown: str) -> list[str]:
    return [
        canonical(link.url)
        for link in extract_markdown(markdown)
        if not link.url.lower().startswith("mailto:")
    ]


MARKDOWN_FILES = sorted(
    {*FIXTURES.rglob("*.md"), *(REPO / "tests" / "golden").glob("*.md"), REPO / "README.md"}
)


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_markdown_fixture_matches_github(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert our_links(text) == github_links(text)


def test_the_notebook_table_loses_no_link() -> None:
    """The mlabonne/llm-course case: Colab links as inline HTML in table cells, links in list
    items, www. autolinks, emphasis around a bare URL, a destination with spaces."""
    text = (FIXTURES / "markdown" / "notebooks_table.md").read_text(encoding="utf-8")
    links = our_links(text)
    assert len(links) == len(github_links(text)) == 15
    assert sum("colab.research.google.com" in u for u in links) == 3
    assert "http://www.mlabonne.github.io/blog" in links
    assert "https://huggingface.co/mlabonne" in links  # without the closing underscore
    assert "docs/LLM%20course%20slides.pdf" in links
    assert "https://example.org/path_(with_parens)" in links  # the unbalanced ")" dropped


# -- generated documents --------------------------------------------------------------------

HOSTS = ["example.org", "a.b.co", "x-y.io", "sub_domain.ex.com", "ex.c_m", "localhost", "ção.br"]
PATHS = ["", "/", "/a", "/a/b.html", "/p_(q)", "/p)", "/r?x=1&y=2", "/s#frag", "/t.", "/u*"]
TRAILS = ["", ".", ",", ")", "_", "*", "?", "!", ":", "'", '"', "&amp;", "&gt;", ";", ">", "~"]


@st.composite
def url(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "www.", "xhttp://"]))
    return scheme + draw(st.sampled_from(HOSTS)) + draw(st.sampled_from(PATHS))


@st.composite
def inline(draw: st.DrawFn) -> str:
    u = draw(url())
    word = draw(st.sampled_from(["word", "link", "ação", "x"]))
    form = draw(
        st.sampled_from(
            [
                "{u}{t}",
                "_{u}{t}_",
                "*{u}{t}*",
                "**{u}**",
                "~~{u}~~",
                "({u}{t})",
                "[{w}]({u})",
                "[{w}](<{u} b>)",
                "[{w} {u}]({u})",
                "![{w}]({u})",
                "[![{w}]({u})]({u})",
                "<{u}>",
                '<a href="{u}">{w}</a>',
                "<a href='{u}'>{w} {u}</a>",
                "`{u}`",
                "[{w} {u}",
                "{w}]{u}",
                "\\[{u}",
                "{w}@{w}.org",
                "{w}{u}",
            ]
        )
    )
    trail = draw(st.sampled_from(TRAILS))
    return form.format(u=u, t=trail, w=word)


@st.composite
def document(draw: st.DrawFn) -> str:
    blocks = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        parts = draw(st.lists(inline() | st.sampled_from(["text", "and", " ", "\n"]), max_size=6))
        line = " ".join(parts).strip() or "text"
        kind = draw(st.sampled_from(["p", "h", "li", "table", "quote"]))
        if kind == "h":
            blocks.append("## " + line.replace("\n", " "))
        elif kind == "li":
            blocks.append("- " + line.replace("\n", " ") + "\n- " + draw(inline()))
        elif kind == "table":
            cell = line.replace("\n", " ").replace("|", "\\|")
            blocks.append(f"| a | b |\n| --- | --- |\n| {cell} | {draw(inline())} |")
        elif kind == "quote":
            blocks.append("> " + line.replace("\n", " "))
        else:
            blocks.append(line)
    return "\n\n".join(blocks) + "\n"


@settings(
    max_examples=1000,
    derandomize=True,  # a fixed seed: the same 1,000 documents on every run
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(document())
def test_generated_documents_match_github(markdown: str) -> None:
    assert our_links(markdown) == github_links(markdown), markdown
