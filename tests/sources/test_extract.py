"""Link extraction: every syntax, its line and its section, on a generated document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.sources.extract import (
    Link,
    extract_html,
    extract_links,
    extract_markdown,
    extract_text,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "roadmap.md"  # copy of shared/seed
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass
class Doc:
    """A Markdown document written line by line with the links each line must yield."""

    lines: list[str] = field(default_factory=list)
    expected: list[tuple[str, int, str | None]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    section: str | None = None

    def add(self, text: str, *urls: str) -> None:
        self.lines.append(text)
        self.expected.extend((url, len(self.lines), self.section) for url in urls)

    def heading(self, text: str, title: str, setext: str | None = None) -> None:
        self.section = title
        self.add(text)
        if setext:
            self.add(setext)
        self.add("")

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def build_document(sections: int = 24) -> Doc:
    """Sections at heading levels 1-6 (ATX and setext), each holding every link syntax."""
    doc = Doc()
    for i in range(sections):
        u = f"https://example.org/{i}"
        level = i % 6 + 1
        if i % 8 == 1:
            doc.heading(f"Setext *title* {i}", f"Setext title {i}", "=" * 10)
        elif i % 8 == 2:
            doc.heading(f"Setext `code` {i}", f"Setext code {i}", "-" * 3)
        elif i % 8 == 5:
            doc.heading(f"{'#' * level} Closed **{i}** ###", f"Closed {i}")
        else:
            doc.heading(f"{'#' * level} Section {i} 🧰", f"Section {i} 🧰")
        # inline links, one with a title and one with markup in its text
        doc.add(f"Intro [plain {i}]({u}/inline) and [**bold** _it_ `c`]({u}/markup 'T').", *[
            f"{u}/inline", f"{u}/markup"])  # fmt: skip
        doc.labels[f"{u}/markup"] = "bold it c"
        # a paragraph over four lines: soft break, hard breaks (spaces and backslash)
        doc.add("A paragraph that goes on")
        doc.add(f"to a second line [soft {i}]({u}/soft)  ", f"{u}/soft")
        doc.add(f"then a hard break <{u}/auto>\\", f"{u}/auto")
        doc.add(f"and a bare URL {u}/bare, after a backslash break.", f"{u}/bare")
        doc.add("")
        # reference-style links: full, collapsed, shortcut; the line is the use's
        doc.add(f"See [the ref][ref-{i}], [ref-{i}b][] and [ref-{i}c].", *[
            f"{u}/ref", f"{u}/ref-b", f"{u}/ref-c"])  # fmt: skip
        doc.labels[f"{u}/ref"] = "the ref"
        doc.add("")
        # a table with links in cells
        doc.add("| name | link |")
        doc.add("| --- | :-: |")
        doc.add(f"| [cell {i}]({u}/cell1) | <{u}/cell2> |", f"{u}/cell1", f"{u}/cell2")
        doc.add(f"| text | [rel {i}](docs/file-{i}.pdf) and {u}/cell3 |", *[
            f"docs/file-{i}.pdf", f"{u}/cell3"])  # fmt: skip
        doc.add("")
        # nested lists, bullet and ordered, with lazy continuation lines
        doc.add(f"- top [l1 {i}]({u}/l1)", f"{u}/l1")
        doc.add(f"  - nested [l2 {i}]({u}/l2)", f"{u}/l2")
        doc.add(f"    1. deeper [l3 {i}]({u}/l3)", f"{u}/l3")
        doc.add(f"       continued [l3b]({u}/l3b)", f"{u}/l3b")
        doc.add(f"- Leading text [(blog post)]({u}/aside) and [(pdf)](aside-{i}.pdf)", *[
            f"{u}/aside", f"aside-{i}.pdf"])  # fmt: skip
        doc.labels[f"{u}/aside"] = "Leading text (blog post)"
        doc.labels[f"aside-{i}.pdf"] = "Leading text (pdf)"
        doc.add("")
        # a quote, an image (not a link) and a badge (a link around an image)
        doc.add(f"> quoted [q {i}](<{u}/quote>)", f"{u}/quote")
        doc.add("")
        doc.add(f"![an image]({u}/img.png) [![badge {i}]({u}/b.svg)]({u}/badge)", f"{u}/badge")
        doc.labels[f"{u}/badge"] = f"badge {i}"
        doc.add("")
        # code spans and code blocks hold no links
        doc.add(f"Code: `[no]({u}/code-span)` and `` <{u}/code2> `` are text.")
        doc.add("")
        doc.add("```markdown")
        doc.add(f"[no]({u}/fenced) {u}/fenced-bare")
        doc.add("```")
        doc.add("")
        doc.add(f"    [no]({u}/indented)")
        doc.add("")
        # raw HTML block
        doc.add(f'<p align="center"><a href="{u}/html">html {i}</a></p>', f"{u}/html")
        doc.add("")
        # definitions last: they are not links themselves
        doc.add(f'[ref-{i}]: {u}/ref "Title"')
        doc.add(f"[ref-{i}b]: <{u}/ref-b>")
        doc.add(f"[ref-{i}c]: {u}/ref-c")
        doc.add("")
    return doc


@pytest.fixture(scope="module")
def generated() -> tuple[Doc, list[Link]]:
    doc = build_document()
    return doc, extract_markdown(doc.text)


def test_generated_document_has_hundreds_of_links(generated: tuple[Doc, list[Link]]) -> None:
    doc, _ = generated
    assert len(doc.expected) >= 400


def test_every_link_with_its_line_and_section(generated: tuple[Doc, list[Link]]) -> None:
    doc, links = generated
    assert [(link.url, link.line, link.section) for link in links] == doc.expected


def test_labels_are_plain_text(generated: tuple[Doc, list[Link]]) -> None:
    doc, links = generated
    by_url = {link.url: link.label for link in links}
    for url, label in doc.labels.items():
        assert by_url[url] == label, url
    assert by_url["https://example.org/0/auto"] == "https://example.org/0/auto"


def test_seed_roadmap_links() -> None:
    links = extract_markdown(SEED.read_text(encoding="utf-8"))
    assert len(links) == 16
    assert links[0] == Link(
        "https://www.youtube.com/watch?v=qYNweeDHiyU",
        "AI, Machine Learning, Deep Learning and Generative AI Explained",
        12,
        "Aprendizado de Máquina vs Modelos Generativos",
    )
    assert links[3].section == "Cursos (6 horas)"
    assert links[-2:] == [
        Link(
            "https://www.datacamp.com/cheat-sheet/spacy-cheat-sheet-advanced-nlp-in-python",
            "Datacamp Spacy Cheatsheet (blog post)",
            30,
            "Resources 🧰",
        ),
        Link("spacy_cheatsheet.pdf", "Datacamp Spacy Cheatsheet (pdf)", 30, "Resources 🧰"),
    ]


def test_readme_tables_hold_the_same_links_as_the_seed() -> None:
    seed = extract_markdown(SEED.read_text(encoding="utf-8"))
    readme = extract_markdown(README.read_text(encoding="utf-8"))
    in_tables = [link for link in readme if link.url in {s.url for s in seed}]
    assert [(link.url, link.label, link.section) for link in in_tables] == [
        (s.url, s.label, s.section) for s in seed
    ]


def test_aside_label_needs_leading_text() -> None:
    links = extract_markdown("[(pdf)](a.pdf) and [(b)](b.pdf)\n\nText: [(c)](c.pdf)\n")
    assert [link.label for link in links] == ["(pdf)", "(b)", "Text (c)"]


def test_destinations_are_kept_as_written() -> None:
    links = extract_markdown("[a](docs/ação.pdf) [b](https://exemplo.com.br/ç?q=1&r=%20)\n")
    assert [link.url for link in links] == ["docs/ação.pdf", "https://exemplo.com.br/ç?q=1&r=%20"]


def test_file_names_are_not_fuzzy_links_but_www_is_a_link() -> None:
    # GitHub links "www." (cmark-gfm's autolink extension), never a bare file name
    links = extract_markdown("Edit README.md or config.py, see www.example.com.\n")
    assert [link.url for link in links] == ["http://www.example.com"]


def test_link_after_a_multiline_title_keeps_its_line() -> None:
    text = 'x [a](http://a.com "a\ntitle") y\nz [b](http://b.com)\n'
    assert [link.line for link in extract_markdown(text)] == [1, 3]


def test_html_links_lines_and_sections() -> None:
    text = (
        "<!doctype html>\n<html><body>\n"
        "<h1>Top <small>level</small></h1>\n"
        '<p><a href="https://a.com/?x=1&amp;y=2">A <b>b</b></a></p>\n'
        '<!-- <a href="https://commented.com">no</a> -->\n'
        "<script>var s = '<a href=\"https://script.com\">';</script>\n"
        "<h2>Second</h2>\n"
        "<a\n  href='rel.pdf'><img alt=\"pdf icon\"></a>\n"
        '<a href="https://c.com" title="t"></a> <a name="anchor-only">x</a>\n'
        "</body></html>\n"
    )
    assert extract_html(text) == [
        Link("https://a.com/?x=1&y=2", "A b", 4, "Top level"),
        Link("rel.pdf", "pdf icon", 8, "Second"),
        Link("https://c.com", "t", 10, "Second"),
    ]


def test_html_clone_of_a_wrapping_anchor_keeps_the_tag_line() -> None:
    links = extract_html('<p>\n<a href="x.html">one<p>two</a>\n<a href="y.html">y</a>')
    assert [(link.url, link.line) for link in links] == [
        ("x.html", 2),
        ("x.html", 2),
        ("y.html", 3),
    ]


def test_html_block_in_markdown_sets_the_section() -> None:
    text = '# A\n\n<h2 align="center">Centered</h2>\n\n[x](http://x.com)\n'
    assert extract_markdown(text) == [Link("http://x.com", "x", 5, "Centered")]


def test_text_lists_and_prose() -> None:
    text = (
        "# a comment https://not-this.com\n"
        "https://one.com/a\n"
        "\n"
        "docs/guide.pdf\n"
        "Read https://two.com/wiki/Foo_(bar). Then ftp://no.com and https://three.com, ok\n"
        "Hello.\n"
    )
    assert [(link.url, link.line) for link in extract_text(text)] == [
        ("https://one.com/a", 2),
        ("docs/guide.pdf", 4),
        ("https://two.com/wiki/Foo_(bar)", 5),
        ("https://three.com", 5),
    ]


@pytest.mark.parametrize(
    ("path", "text", "url"),
    [
        ("list.md", "<https://md.com>", "https://md.com"),
        ("page.HTML", '<a href="https://h.com">h</a>', "https://h.com"),
        (None, "<!DOCTYPE html><a href='https://sniff.com'>s</a>", "https://sniff.com"),
        (None, "intro\n[x](https://md-sniff.com)\n", "https://md-sniff.com"),
        ("notes.txt", "[x]: https://ref.com\n[x]\n", "https://ref.com"),
        (None, '<p><a href="https://frag.com">f</a></p>', "https://frag.com"),
        ("urls.txt", "# list\nhttps://t.com\n", "https://t.com"),
    ],
)
def test_extract_links_picks_the_reader(path: str | None, text: str, url: str) -> None:
    assert [link.url for link in extract_links(text, path)] == [url]


def _line_count(text: str) -> int:
    return len(re.split(r"\r\n|\r|\n", text))


# Text shaped like documents: markup characters, URLs, tags and line ends are frequent.
_pieces = st.sampled_from(
    ["[", "]", "(", ")", "<", ">", "`", "*", "#", "|", "-", "!", "\n", "\r", "\r\n", " ",
     "  \n", "\\", ":", "https://", "a.com", "/p", '"', "'", "<a href=", "</a>", "<h2>",
     "---", "```", "    ", "> ", "1. ", "&amp;", "x", "é", "🧰", "\x00", "\x0c", "\u2028"]
)  # fmt: skip
documents = st.one_of(st.text(), st.lists(_pieces, max_size=80).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from([None, "a.md", "a.html", "a.txt"]))
def test_extraction_never_raises_and_lines_are_in_the_document(text: str, path: str | None) -> None:
    lines = _line_count(text)
    for extract in (extract_markdown, extract_html, extract_text):
        for link in extract(text):
            assert 1 <= link.line <= lines, (extract.__name__, link)
    for link in extract_links(text, path):
        assert 1 <= link.line <= lines


def test_github_heading_ids_and_repeats() -> None:
    from monitor.sources.extract import github_heading_id, markdown_anchors

    assert github_heading_id("📝 Notebooks") == "-notebooks"
    assert github_heading_id("Set-up & run `make test`!") == "set-up--run-make-test"
    assert github_heading_id("Ação e Reação") == "ação-e-reação"
    text = "# Intro\n\n## Intro\n\n### Intro\n\n<div id=\"custom\"></div>\n\nA <a name='x'></a> b\n"
    assert markdown_anchors(text) == {"intro", "intro-1", "intro-2", "custom", "x"}


def test_an_items_words_beside_its_links_are_its_description() -> None:
    """What `monitor init --mode table` keeps of an item: the words after each link up to
    the next one, and the item's link-less paragraphs and nested items (bounded)."""
    from monitor.sources.extract import DESCRIPTION_LIMIT

    text = (
        "- [Boa](https://a.example/) - Funciona *muito* bem. ([Demo](https://d.example/))\n"
        "  - nota `aninhada`\n"
        "- Lead: [site](https://b.example/) — nice\n"
        "- [X](https://x.example/).\n"
    )
    got = [(link.label, link.description) for link in extract_markdown(text)]
    assert got == [
        ("Boa", "Funciona muito bem. nota aninhada"),
        ("Boa — Demo", ""),
        ("site", "Lead — nice"),
        ("X", ""),
    ]
    many = "- [A](https://a.example/)\n" + "  - a note of some words\n" * 2000
    assert len(extract_markdown(many)[0].description) < DESCRIPTION_LIMIT + 30
