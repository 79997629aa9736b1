"""Reading an HTML page: its charset, and what it says about itself (title, description,
canonical URL, language, main heading, anchors).

Shared by the web checker and any checker that scrapes a page. Pages are untrusted input:
nothing here raises on any bytes, and every scraped text is cleaned and capped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from monitor.checkers import quirks

# Scraped text is shown in tables: cap what we keep.
MAX_TEXT = 500
FULL_TITLE = 100_000
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BOM = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# ------------------------------------------------------------------------------ decoding


def media_type(headers: httpx.Headers) -> str | None:
    value = headers.get("content-type")
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def _header_charset(headers: httpx.Headers) -> str | None:
    for param in headers.get("content-type", "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _codec(label: str | None, *, from_meta: bool = False) -> str | None:
    """A Python codec for an HTML charset label, or None when the label is unusable."""
    if not label:
        return None
    label = label.strip().lower()
    if label in quirks.REFUSED_CHARSETS:
        return None
    if from_meta and quirks.META_UTF16.match(label):
        return "utf-8"
    label = quirks.CHARSET_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
        b"<".decode(name)  # rejects non-text codecs such as "base64" or "zlib"
    except (LookupError, ValueError, TypeError, UnicodeError):
        return None
    return name


def decode_html(body: bytes, headers: httpx.Headers) -> tuple[str, str]:
    """Decode a page the way browsers do: BOM, then HTTP charset, then <meta>, then UTF-8.

    The Encoding Standard puts the BOM first (it cannot lie); a wrong or unknown declared
    charset falls through to the next source, and undecodable bytes become U+FFFD.
    """
    for bom, name in _BOM:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    candidates = [_codec(_header_charset(headers))]
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(_codec(match.group(1).decode("ascii", "replace"), from_meta=True))
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return body.decode(candidate, errors="replace"), candidate
        except (LookupError, ValueError, TypeError, UnicodeError):
            continue
    return body.decode("utf-8", errors="replace"), "utf-8"


# ------------------------------------------------------------------------------ scraping


@dataclass(frozen=True)
class Page:
    """What the HTML said about itself. Every text field is cleaned and capped."""

    title: str | None = None
    og_title: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    h1: str | None = None
    anchors: frozenset[str] = field(default_factory=frozenset)
    charset: str = "utf-8"
    # The page's own anchors are in its HTML: a heading carries an id (or holds an element
    # with one), an <a name> marks a place, or the page links to its own ids (a table of
    # contents, Sphinx's ¶ links to section ids). Then a missing #fragment is really missing.
    # False on pages that build their content, or their heading ids, in JavaScript.
    server_anchors: bool = False
    # The title uncut (up to FULL_TITLE characters), for judging only: a 10,000-character
    # title must not push its "| 404 Not Found" past the cut (issue 16).
    full_title: str | None = None


def clean_text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = " ".join(_CONTROL.sub(" ", value).split())
    return text[:limit].rstrip() or None  # a cut can end on a space


def is_html(headers: httpx.Headers, body: bytes) -> bool:
    kind = media_type(headers)
    if kind is not None:
        return kind in quirks.HTML_CONTENT_TYPES
    # No Content-Type at all: sniff like a browser would.
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<title"))


def parse_page(body: bytes, headers: httpx.Headers, base_url: str, *, anchors: bool = True) -> Page:
    """Scrape title, description, canonical URL, language, first h1 and anchors. Never raises
    on any input: a page we cannot read is simply a page without metadata.

    `anchors=False` (a URL without a #fragment) skips the anchor work, a third of the parse.
    """
    text, charset = decode_html(body, headers)
    try:
        tree = LexborHTMLParser(text.replace("\x00", "\ufffd"))
    except Exception:  # selectolax raises plain exceptions on input it cannot take
        return Page(charset=charset)
    metas: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("http-equiv")
        content = attrs.get("content")
        if key and content is not None:
            metas.setdefault(key.strip().lower(), content)
    base = base_url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = _absolute(base_url, base_node.attributes.get("href")) or base_url
    canonical = None
    for node in tree.css("link[rel][href]"):
        rels = (node.attributes.get("rel") or "").lower().split()
        if "canonical" in rels:
            canonical = _absolute(base, node.attributes.get("href"))
            break
    html = tree.css_first("html")
    language = None
    if html is not None:
        language = html.attributes.get("lang") or html.attributes.get("xml:lang")
    language = language or metas.get("content-language") or headers.get("content-language")
    if language:
        language = language.split(",")[0]
    title_node = tree.css_first("head title") or tree.css_first("title")
    h1_node = tree.css_first("h1")
    ids: set[str] = set()
    server_anchors = False
    if anchors:
        ids = {v for n in tree.css("[id]") if (v := n.attributes.get("id"))}
        named = {v for n in tree.css("a[name]") if (v := n.attributes.get("name"))}
        ids |= named
        server_anchors = bool(
            named or _heading_ids(tree) or _self_links(tree, ids)
        ) and not _app_shell(tree)
    return Page(
        title=clean_text(title_node.text() if title_node is not None else None),
        full_title=clean_text(title_node.text() if title_node is not None else None, FULL_TITLE),
        og_title=clean_text(metas.get("og:title")),
        description=clean_text(metas.get("description") or metas.get("og:description"), 1000),
        canonical_url=canonical,
        language=clean_text(language, 35),
        h1=clean_text(h1_node.text() if h1_node is not None else None),
        anchors=frozenset(ids),
        charset=charset,
        server_anchors=server_anchors,
    )


_HEADINGS = "h1[id], h2[id], h3[id], h4[id], h5[id], h6[id]"
_IN_HEADINGS = ", ".join(f"h{i} [id], h{i} a[name]" for i in range(1, 7))


def _heading_ids(tree: LexborHTMLParser) -> bool:
    return tree.css_first(_HEADINGS) is not None or tree.css_first(_IN_HEADINGS) is not None


def _self_links(tree: LexborHTMLParser, anchors: set[str]) -> bool:
    """The page links to its own ids (a table of contents, Sphinx's ¶ links on sections)."""
    for node in tree.css('a[href^="#"]'):
        target = (node.attributes.get("href") or "#")[1:]
        if target and target in anchors:
            return True
    return False


def _app_shell(tree: LexborHTMLParser) -> bool:
    """A single-page app's shell: an empty mount point (<div id="root">) and scripts that
    fill it. Whatever ids it shows now are not the ones the browser will show."""
    body = tree.body
    if body is None or tree.css_first("script") is None:
        return False
    mounts = [n for n in tree.css("[id]") if n.attributes.get("id") in quirks.APP_SHELL_IDS]
    return any(len((n.text(deep=True) or "").strip()) < quirks.APP_SHELL_MAX_TEXT for n in mounts)


def _absolute(base: str, href: str | None) -> str | None:
    """`href` made absolute, if it is a well-formed http(s) URL ("http://[x" is not)."""
    try:
        url = urljoin(base, (href or "").strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on an out-of-range port)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None
