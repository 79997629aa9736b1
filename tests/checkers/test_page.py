"""Reading pages: charsets as browsers decode them, metadata, and no crash on any bytes."""

from __future__ import annotations

import codecs

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.checkers.page import decode_html, is_html, parse_page

BASE = "https://example.com/docs/guide"


def headers(content_type: str | None = None) -> httpx.Headers:
    return httpx.Headers({"content-type": content_type} if content_type else {})


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<title>Ação</title>".encode("latin-1"), "text/html; charset=ISO-8859-1", "cp1252"),
        ("<title>Ação</title>".encode(), "text/html; charset=UTF-8", "utf-8"),
        ("<title>Ação</title>".encode(), 'text/html; charset="utf-8"', "utf-8"),
        (b'<meta charset="windows-1252"><title>x</title>', "text/html", "cp1252"),
        (b"<meta http-equiv=Content-Type content='text/html;charset=koi8-r'>", None, "koi8-r"),
        (b'<meta charset="utf-16">', None, "utf-8"),  # a meta cannot declare UTF-16
        (b'<meta charset="utf-7">', None, "utf-8"),  # refused
        (b"<title>x</title>", "text/html; charset=klingon", "utf-8"),
        (b"<title>x</title>", "text/html; charset=base64", "utf-8"),  # not a text codec
        (b"<title>x</title>", "text/html; charset=", "utf-8"),
        (b'<meta charset="latin1"><title>x</title>', "text/html; charset=nonsense", "cp1252"),
        (codecs.BOM_UTF8 + b"<title>x</title>", "text/html; charset=latin-1", "utf-8-sig"),
        ("<title>x</title>".encode("utf-16"), None, "utf-16"),
    ],
)
def test_charset_sources_in_browser_order(
    body: bytes, content_type: str | None, expected: str
) -> None:
    _, charset = decode_html(body, headers(content_type))
    assert charset == expected


def test_windows_1252_quotes_survive_a_latin1_label() -> None:
    body = "<title>“Ação”</title>".encode("cp1252")
    page = parse_page(body, headers("text/html; charset=iso-8859-1"), BASE)
    assert page.title == "“Ação”"


def test_undecodable_bytes_become_replacement_characters() -> None:
    text, charset = decode_html(b"<title>\xfa\xff ok</title>", headers())
    assert charset == "utf-8"
    assert text == "<title>\ufffd\ufffd ok</title>"


def test_metadata_and_anchors() -> None:
    body = b"""<html xml:lang="es"><head>
    <base href="/root/">
    <title>  A   title\x07 </title>
    <meta name="og:title" content="">
    <meta NAME="Description" content="desc">
    <link rel="alternate canonical" href="page?x=1">
    </head><body><svg><title>icon</title></svg>
    <h1>Main <em>heading</em></h1><h1>second</h1>
    <p id="a">x</p><a name="b"></a><a name="">empty</a></body></html>"""
    page = parse_page(body, headers("text/html"), BASE)
    assert page.title == "A title"
    assert page.og_title is None  # empty content is no title
    assert page.description == "desc"
    assert page.canonical_url == "https://example.com/root/page?x=1"
    assert page.language == "es"
    assert page.h1 == "Main heading"
    assert page.anchors == frozenset({"a", "b"})


@pytest.mark.parametrize(
    "href", ["http://[oops/x", "javascript:alert(1)", "mailto:a@b.c", "http://h:99999/"]
)
def test_bad_canonical_urls_are_dropped(href: str) -> None:
    body = f'<link rel="canonical" href="{href}"><base href="http://[bad">'.encode()
    assert parse_page(body, headers("text/html"), BASE).canonical_url is None


def test_scraped_text_is_capped() -> None:
    body = b"<title>" + b"word " * 1000 + b"</title>"
    title = parse_page(body, headers(), BASE).title
    assert title is not None and 495 <= len(title) <= 500  # cut at 500, then trailing space


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=utf-8", b"", True),
        ("application/xhtml+xml", b"", True),
        ("application/pdf", b"<html>", False),
        ("TEXT/HTML", b"", True),
        (None, b"\xef\xbb\xbf  <!DOCTYPE html><html>", True),
        (None, b"%PDF-1.7", False),
    ],
)
def test_only_html_is_parsed(content_type: str | None, body: bytes, expected: bool) -> None:
    assert is_html(headers(content_type), body) is expected


TAGS = st.sampled_from(
    [
        "<title>",
        "</title>",
        "<h1>",
        "<meta charset=",
        '<meta http-equiv="content-type" content="text/html; charset=',
        '<link rel=canonical href="',
        '<base href="',
        "<a name=",
        "<p id=",
        "<html lang=",
        "<svg><title>",
        "<!--",
        "<script>",
        "\x00",
        "\ufeff",
        '">',
        "http://[",
        "utf-16",
        "latin1",
    ]
)
HTMLISH = st.lists(st.one_of(TAGS, st.text(max_size=20)), max_size=30).map(
    lambda parts: "".join(parts)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=3000),
        HTMLISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
        HTMLISH.map(lambda t: t.encode("utf-16", "surrogatepass")),
    ),
    content_type=st.one_of(
        st.none(),
        st.sampled_from(["text/html; charset=", "text/html;charset=utf-16", "text/html; x"]),
        st.text(max_size=30),
    ),
)
def test_scraper_never_raises(body: bytes, content_type: str | None) -> None:
    hdrs = headers()
    if content_type:
        hdrs = httpx.Headers({"content-type": content_type.encode("utf-8", "replace")})
    page = parse_page(body, hdrs, BASE)
    for text in (page.title, page.og_title, page.h1, page.language):
        assert text is None or (text == text.strip() and "\x00" not in text)


def test_clean_text_cut_never_ends_on_a_space() -> None:
    # found by hypothesis: a 35-character cut of "<34 chars> b" ended with a space
    from monitor.checkers.page import clean_text

    assert clean_text("a" * 34 + " b", 35) == "a" * 34


def test_anchor_work_is_skipped_when_no_fragment_needs_it() -> None:
    body = b'<html><head><title>Guide</title></head><body><h2 id="setup">Setup</h2></body></html>'
    full = parse_page(body, headers("text/html"), BASE)
    lean = parse_page(body, headers("text/html"), BASE, anchors=False)
    assert full.anchors == {"setup"} and full.server_anchors
    assert lean.anchors == frozenset() and not lean.server_anchors
    assert lean.title == full.title == "Guide"
