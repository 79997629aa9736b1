"""Link extraction from Markdown, HTML and plain text, with source line and section.

The importer builds the catalog from these links, and the checks of an arbitrary
file (`monitor check FILE`) use them too, so every link keeps where it was written:
its 1-based line and the nearest heading above it. Order is document order and
duplicates are kept; callers dedupe.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.token import Token
from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.sources.autolink import use_gfm_autolinks


@dataclass(frozen=True)
class Link:
    url: str
    label: str  # the link text, plain (inline markup stripped)
    line: int  # 1-based source line of the link
    section: str | None  # plain text of the nearest heading above, None if none
    # Every heading above, outermost first: "Other" under "Web" is not "Other" under "CLI".
    headings: tuple[str, ...] = field(default=(), compare=False)
    # The item's own words after the link, up to the next link ("- [X](u) - does Y": "does
    # Y"), and its link-less paragraphs: a table row keeps them (`monitor init --mode table`).
    description: str = field(default="", compare=False)


MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

# A link text that is only an aside, e.g. "(blog post)" or "(pdf)": alone it says nothing,
# so the label borrows the plain text that opens the paragraph (roadmap's Datacamp line).
_ASIDE = re.compile(r"^\(.*\)$", re.DOTALL)
# Separators left between that leading text and the first link ("Foo: [(pdf)](x)").
_LEAD_TRIM = " \t:;,-–—|"


_NO_FUZZY = {"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False}


def _new_markdown() -> MarkdownIt:
    """CommonMark with GitHub's tables, strikethrough and autolinks (cmark-gfm's rules,
    `monitor.sources.autolink`): what GitHub renders as a link is what we extract."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    use_gfm_autolinks(md)
    # Keep destinations as written: markdown-it would percent-encode non-ASCII paths and
    # punycode hosts, and a relative file "docs/ação.pdf" must stay the file's real name.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


_MD = _new_markdown()
_TEXT_LINKIFY = LinkifyIt(options=_NO_FUZZY)


# Line ends as CommonMark counts them (str.splitlines would also split on \f, \x1c...).
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _plain(tokens: Sequence[Token]) -> str:
    """Plain text of inline tokens: markup dropped, images by their alt text."""
    out: list[str] = []
    for tok in tokens:
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.type == "image":
            out.append(_plain(tok.children or []))
    return _collapse("".join(out))


def _describe(text: str) -> str:
    """The words of an item around its links, without the separators and brackets that
    only parted them from the links ("- [X](u) - fast. ([Demo](d))": "fast.")."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip(_LEAD_TRIM)
        text = text.removeprefix(")").removesuffix("(")
    return text if any(c.isalnum() for c in text) else ""


def _is_link(tok: Token) -> bool:
    return tok.type == "link_open" or _html_href(tok) is not None


def _newlines(tok: Token) -> int:
    """Source lines a child token spans beyond its first.

    markdown-it keeps no source offsets for inline tokens; breaks, raw inline HTML and
    link titles are what carry newlines. (A code span wrapped over two lines loses its
    newline in the token, so a link after it on the same paragraph may read one line
    early; the line is clamped to the paragraph either way.)
    """
    if tok.type in ("softbreak", "hardbreak"):
        return 1
    if tok.type == "html_inline":
        return tok.content.count("\n")
    if tok.type in ("link_open", "image"):
        title = tok.attrGet("title")
        return str(title).count("\n") if title else 0
    return 0


def _destination(url: str) -> str:
    """A link destination as GitHub renders it: `[x](<a b.pdf>)` points at `a%20b.pdf`."""
    return _WHITESPACE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


_WHITESPACE = re.compile(r"\s+")
# An inline HTML start tag <a ...> with an href, and the end tag </a>.
_A_END = re.compile(r"</a\s*>", re.IGNORECASE)


def _html_href(tok: Token) -> str | None:
    """The href of an inline HTML `<a href>` start tag (GitHub renders it as a link)."""
    if tok.type != "html_inline":
        return None
    content = tok.content.strip()
    start = _A_START.match(content)
    rest = _TAG_REST.match(content, start.end()) if start is not None else None
    if rest is None or rest.end() != len(content):
        return None
    h = _HREF.search(content)
    if h is None:
        return None
    return html.unescape(next(g for g in h.groups() if g is not None)).strip()


# An item's description stops growing past this: 20,000 nested notes under one link would
# otherwise copy the growing text 20,000 times (the importer keeps at most this much).
DESCRIPTION_LIMIT = 5000
# Between an item's main link text and a secondary link's own ("Nextcloud — Source Code").
ITEM_JOIN = " — "


def _inline_links(
    inline: Token,
    section: str | None,
    headings: tuple[str, ...] = (),
    item: list[str | None] | None = None,
) -> Iterator[Link]:
    """Links of one inline token. `item` is the enclosing list item's main link text, a
    one-slot list filled by the item's first link: a list item is one resource with
    secondary links (Demo, Source Code), so those borrow its name for their labels."""
    children = inline.children or []
    start, end = inline.map if inline.map else (0, 1)
    starts = [i for i, t in enumerate(children) if _is_link(t)]
    first_link = starts[0] if starts else None
    lead = _plain(children[:first_link]).strip(_LEAD_TRIM) if first_link else ""
    offset = 0
    i = 0
    while i < len(children):
        tok = children[i]
        href = _html_href(tok)
        if tok.type != "link_open" and href is None:
            offset += _newlines(tok)
            i += 1
            continue
        line = min(start + offset, max(end - 1, start)) + 1
        offset += _newlines(tok)
        j = i + 1
        if href is None:
            depth = 1
            while j < len(children) and depth:
                depth += {"link_open": 1, "link_close": -1}.get(children[j].type, 0)
                j += 1
            inner = children[i + 1 : j - 1]
            for t in inner:
                offset += _newlines(t)
            url = str(tok.attrGet("href") or "")
            after = j
        else:
            # <a href="...">label</a>: the label runs to the end tag. What lies inside is read
            # on (GitHub renders a link inside it as a link of its own), so j stays at i + 1.
            while j < len(children) and not (
                children[j].type == "html_inline" and _A_END.fullmatch(children[j].content.strip())
            ):
                j += 1
            inner = children[i + 1 : j]
            after = j + 1
            j = i + 1
            url = href
        url = _destination(url)
        label = _plain(inner) or url
        aside = bool(lead and _ASIDE.match(label))
        if aside:
            label = f"{lead} {label}"  # already names the item
        if item is not None:
            if item[0] is None:
                item[0] = label
            elif not aside and item[0].casefold() not in label.casefold():
                label = f"{item[0]}{ITEM_JOIN}{label}"
        following = starts[bisect_left(starts, after)] if starts[-1] >= after else len(children)
        description = _describe(_plain(children[after:following]))
        if i == first_link and lead and not aside:
            description = f"{lead}{ITEM_JOIN}{description}" if description else lead
        yield Link(url, label, line, section, headings, description)
        i = j


def extract_markdown(text: str) -> list[Link]:
    """Links of a Markdown document (CommonMark + tables + bare URLs with a scheme).

    Images' sources and anything in code spans or code blocks are not links. Raw HTML
    blocks are read with `extract_html`, so an awesome list's `<a href>` counts too.
    """
    tokens = _MD.parse(text)
    links: list[Link] = []
    section: str | None = None
    path: list[tuple[int, str]] = []  # (level, text) of the headings in force
    items: list[list[str | None]] = []  # the open list items, innermost last
    owners: list[int | None] = []  # index in `links` of each open item's first link
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            section = _plain(tokens[i + 1].children or []) or None
            level = int(tok.tag[1:])
            path = [(lv, t) for lv, t in path if lv < level]
            if section:
                path.append((level, section))
        elif tok.type == "list_item_open":
            items.append([None])
            owners.append(None)
        elif tok.type == "list_item_close" and items:
            items.pop()
            owners.pop()
        elif tok.type == "inline":
            headings = tuple(t for _, t in path)
            found = list(_inline_links(tok, section, headings, items[-1] if items else None))
            owner = next((o for o in reversed(owners) if o is not None), None)
            if found and owners and owners[-1] is None:
                owners[-1] = len(links)  # the item's main link (the others are secondary)
            if (
                not found
                and owner is not None
                and len(links[owner].description) < DESCRIPTION_LIMIT
                and (words := _describe(_plain(tok.children or [])))
            ):
                # A paragraph (or a nested item) of an item without a link of its own: the
                # item's words, kept with the item's main link.
                kept = links[owner].description
                links[owner] = replace(links[owner], description=f"{kept} {words}".strip())
            links.extend(found)
        elif tok.type == "html_block" and tok.map:
            before = section
            found, section = _html_links(tok.content, tok.map[0], section)
            headings = tuple(t for _, t in path)
            links.extend(replace(link, headings=headings) for link in found)
            if section != before and section:  # an HTML heading: its level is not known
                path = [*path[:-1], (path[-1][0] if path else 2, section)]
    return links


# A start tag <a ...>, attribute values may hold ">" inside quotes. Found in linear time by
# `_a_tags`: one regex over the whole text backtracked through every quote pairing, and
# 20,000 unclosed `<a href="x"` tags took 44 s (issue 16).
_A_START = re.compile(r"<a(?=[\s/>])", re.IGNORECASE)
# The rest of a start tag: possessive, so a tag body is read once and never re-paired.
_TAG_REST = re.compile(r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")
_HREF = re.compile(r"""\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
# Regions where "<a" is not markup; blanked (newlines kept) before scanning for tags.
_NOT_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|textarea|title)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _a_tags(text: str) -> Iterator[re.Match[str]]:
    """Every `<a ...>` start tag, in order, in time linear in `text`.

    Tags do not overlap: the next is looked for after the end of this one. A tag still open
    at the end of the text holds the rest of it (as in an HTML parser), so no later `<a`
    is a tag: scanning stops instead of trying each of them to the end again.
    """
    pos = 0
    while (start := _A_START.search(text, pos)) is not None:
        rest = _TAG_REST.match(text, start.end())
        if rest is None:
            return
        yield rest
        pos = rest.end()


def _tag_lines(source: str) -> list[tuple[str, int]]:
    """(href, 0-based line) of every <a href> start tag, in source order."""
    cleaned = _NOT_MARKUP.sub(_blank, source)
    found: list[tuple[str, int]] = []
    line, pos = 0, 0
    for m in _a_tags(cleaned):
        h = _HREF.search(cleaned, m.pos - 2, m.end())
        if h is None:
            continue
        line += cleaned.count("\n", pos, m.pos)
        pos = m.pos
        raw = next(g for g in h.groups() if g is not None)
        found.append((html.unescape(raw).strip(), line))
    return found


def _node_label(node: LexborNode) -> str:
    text = _collapse(node.text(deep=True, separator=" "))
    if text:
        return text
    for img in node.css("img[alt]"):
        alt = _collapse(str(img.attributes.get("alt") or ""))
        if alt:
            return alt
    return _collapse(str(node.attributes.get("title") or ""))


def _html_links(source: str, first_line: int, section: str | None) -> tuple[list[Link], str | None]:
    """Links of an HTML fragment whose first line is `first_line` (0-based) of a document,
    and the section in force after it (an HTML heading in a Markdown file counts too).

    selectolax builds the tree (labels, headings, document order); it keeps no source
    positions, so lines come from a scan of the start tags matched to nodes by href.
    The HTML parser clones an <a> that wraps blocks, so a node without a tag of its own
    takes the line of the last tag matched.
    """
    source = _NEWLINE.sub("\n", source)
    tags = _tag_lines(source)
    cursor, last_line = 0, 0
    links: list[Link] = []
    tree = LexborHTMLParser(source)
    for node in tree.css("h1, h2, h3, h4, h5, h6, a[href]"):
        if node.tag != "a":
            section = _collapse(node.text(deep=True, separator=" ")) or section
            continue
        href = str(node.attributes.get("href") or "").strip()
        for k in range(cursor, len(tags)):
            if tags[k][0] == href:
                last_line, cursor = tags[k][1], k + 1
                break
        links.append(Link(href, _node_label(node) or href, first_line + last_line + 1, section))
    return links, section


def extract_html(text: str) -> list[Link]:
    """Links (`<a href>`) of an HTML document; section = nearest preceding h1-h6."""
    return _html_links(text, 0, None)[0]


_LIST_ENTRY = re.compile(
    r"""^(?:https?://\S+           # an absolute URL
        |[\w.~%+-]+(?:/[\w.~%+@-]*)+  # a relative path with a slash
        |[\w~%+-][\w.~%+-]*\.[A-Za-z0-9]{1,8})$  # or a file name with an extension
    """,
    re.VERBOSE,
)


def extract_text(text: str) -> list[Link]:
    """URLs of plain text: a list of one URL (or relative path) per line, `#` comments
    and blank lines ignored, and bare http(s) URLs anywhere in prose."""
    links: list[Link] = []
    for number, raw in enumerate(_NEWLINE.split(text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _LIST_ENTRY.match(line) and not line.startswith(("http://", "https://")):
            links.append(Link(line, line, number, None))
            continue
        for m in _TEXT_LINKIFY.match(line) or []:
            if m.schema.lower() in ("http:", "https:"):
                links.append(Link(m.url, m.url, number, None))
    return links


_HTML_SNIFF = re.compile(r"^\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.I)
# Each alternative's scan stops at the next "[" or "<": every start reads its own stretch of
# text, so the search is linear (a line of 20,000 "[" took 8 s when a scan ran to its end).
_MD_LINK_SNIFF = re.compile(
    r"\[[^\[\]\n]*\]\(\s*<?[^)\s>]+|^ {0,3}\[[^\[\]\n]+\]:[ \t]*\S|<https?://[^<>\s]+>",
    re.MULTILINE,
)


def extract_links(text: str, path: str | None = None) -> list[Link]:
    """Links of a document, read as Markdown, HTML or plain text by suffix, else sniffed."""
    suffix = PurePath(path).suffix.lower() if path else ""
    if suffix in MARKDOWN_SUFFIXES:
        return extract_markdown(text)
    if suffix in HTML_SUFFIXES:
        return extract_html(text)
    if _HTML_SNIFF.match(text):
        return extract_html(text)
    if _MD_LINK_SNIFF.search(text):
        return extract_markdown(text)
    if any(_HREF.search(text, m.pos - 2, m.end()) for m in _a_tags(text)):
        return extract_html(text)
    return extract_text(text)


# -- anchors ---------------------------------------------------------------------------------

_ID_ATTR = re.compile(r"""\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)


def github_heading_id(text: str) -> str:
    """The id GitHub gives a heading (github-slugger): lower case, every character that is
    not a letter, mark, digit, "_", "-" or space removed, spaces made "-". "## 📝 Notebooks"
    is "-notebooks"; repeats are numbered by `markdown_anchors`."""
    kept = []
    for char in text.strip().lower():
        category = unicodedata.category(char)
        if char in " -_" or category[0] in "LMN" or category == "Pc":
            kept.append("-" if char == " " else char)
    return "".join(kept)


def _heading_text(tokens: Sequence[Token]) -> str:
    """A heading's text as a browser shows it: markup dropped, images contribute nothing."""
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline"))


def markdown_anchors(text: str) -> frozenset[str]:
    """The anchors of a Markdown file as GitHub renders it: each heading's id (a repeated
    one gets "-1", "-2"...), and the ids and names of its raw HTML."""
    tokens = _MD.parse(text)
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            slug = github_heading_id(_heading_text(tokens[i + 1].children or []))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(f"{slug}-{count}" if count else slug)
        elif tok.type in ("html_block", "inline"):
            sources = (
                [tok.content]
                if tok.type == "html_block"
                else [c.content for c in tok.children or [] if c.type == "html_inline"]
            )
            for source in sources:
                for m in _ID_ATTR.finditer(source):
                    anchors.add(next(g for g in m.groups() if g is not None))
    return frozenset(anchors)
