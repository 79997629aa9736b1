"""Image sources of a document: `![alt](src)`, `<img src>` in Markdown and HTML.

A broken screenshot or badge is a broken link a reader sees, so `monitor check` checks
images too (`--no-images` skips them), as lychee does. They are kept apart from
`extract_links`: the catalog and the README markers are about links, not images.
Images inside code spans and code blocks are not images.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import PurePath

from markdown_it import MarkdownIt
from markdown_it.token import Token

from monitor.sources.extract import HTML_SUFFIXES, MARKDOWN_SUFFIXES, Link

# <img ...> with a src attribute; attribute values may hold ">" inside quotes.
_IMG_TAG = re.compile(r"""<img(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_SRC = re.compile(r"""\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_ALT = re.compile(r"""\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_NOT_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|textarea|title)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_NEWLINE = re.compile(r"\r\n|\r|\n")


@cache
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


def _attr(pattern: re.Pattern[str], tag: str) -> str | None:
    m = pattern.search(tag)
    if m is None:
        return None
    return html.unescape(next(g for g in m.groups() if g is not None)).strip()


def html_images(source: str, first_line: int = 0) -> list[Link]:
    """`<img src>` tags of an HTML fragment whose first line is `first_line` (0-based)."""
    source = _NEWLINE.sub("\n", source)
    cleaned = _NOT_MARKUP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)
    found: list[Link] = []
    for m in _IMG_TAG.finditer(cleaned):
        src = _attr(_SRC, m.group(0))
        if not src:
            continue
        line = first_line + cleaned.count("\n", 0, m.start()) + 1
        label = _attr(_ALT, m.group(0)) or src
        found.append(Link(src, label, line, None))
    return found


def _plain(tokens: Sequence[Token]) -> str:
    return " ".join("".join(t.content for t in tokens if t.type == "text").split())


def _inline_images(inline: Token) -> Iterator[Link]:
    start, end = inline.map if inline.map else (0, 1)
    offset = 0

    def walk(children: Sequence[Token]) -> Iterator[Link]:
        nonlocal offset
        for tok in children:
            line = min(start + offset, max(end - 1, start)) + 1
            if tok.type == "image":
                src = str(tok.attrGet("src") or "")
                if src:
                    yield Link(src, _plain(tok.children or []) or src, line, None)
            elif tok.type == "html_inline":
                yield from html_images(tok.content, line - 1)
                offset += tok.content.count("\n")
            elif tok.type in ("softbreak", "hardbreak"):
                offset += 1

    yield from walk(inline.children or [])


def markdown_images(text: str) -> list[Link]:
    if "![" not in text and "<img" not in text.lower():
        return []  # no image syntax at all: spare the second full parse (issue 11's profile)
    found: list[Link] = []
    for tok in _md().parse(text):
        if tok.type == "inline":
            found.extend(_inline_images(tok))
        elif tok.type == "html_block" and tok.map:
            found.extend(html_images(tok.content, tok.map[0]))
    return found


def extract_images(text: str, path: str | None = None) -> list[Link]:
    """Image sources of a document, read as Markdown or HTML like `extract_links` reads it
    (plain URL lists have none)."""
    suffix = PurePath(path).suffix.lower() if path else ""
    if suffix in HTML_SUFFIXES:
        return html_images(text)
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_images(text)
    # Sniffed: a Markdown reading also finds the <img> tags of HTML blocks.
    return markdown_images(text) if "![" in text or "<img" in text.lower() else []
