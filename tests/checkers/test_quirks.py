"""The quirks tables: every phrase, wall and path pattern matches what it claims, and no more."""

from __future__ import annotations

import codecs
import re

import httpx
import pytest

from monitor.checkers import quirks
from monitor.checkers.web import (
    bot_wall,
    normalise_phrase,
    says_not_found,
    soft_404_redirect,
    wants_head,
)
from monitor.net.engine import FetchResult

NOT_FOUND = [
    "404",
    "Error 404",
    "404 Not Found",
    "404 - Page Not Found",
    "Page not found | Example",
    "Not Found",
    "Page Not Found — Docs",
    "404 | MySite",
    "Not Found - nginx",
    "This page doesn't exist",
    "404: This page could not be found.",
    "Sorry, this page isn't available.",
    "Oops! That page can’t be found. – Blog",
    "The page you were looking for doesn't exist.",
    "410 Gone",
    "Página não encontrada",
    "PÁGINA NÃO ENCONTRADA!",
    "Pagina nao encontrada",
    "Página não existe",
    "Esta página não existe",
    "Página inexistente",
    "Erro 404",
    "Erro 404 - Página não encontrada – Meu Site",
    "Conteúdo não encontrado",
    "Página no encontrada",
    "La página no existe",
    "No se encontró la página",
]

NOT_A_404 = [
    "404 tips for designers",
    "How to fix HTTP 404 errors",
    "404 Error Page Design Examples",
    "Erro 404: o que é e como resolver",
    "Not found: a memoir of getting lost in Lisbon",
    "The Not Found Society annual report",
    "Lost and Found",
    "Found",
    "Page",
    "Página inicial",
    "Python docs",
    "",
]


@pytest.mark.parametrize("title", NOT_FOUND)
def test_not_found_phrases(title: str) -> None:
    assert says_not_found(title)


@pytest.mark.parametrize("title", NOT_A_404)
def test_titles_that_only_mention_404(title: str) -> None:
    assert not says_not_found(title)


def test_every_soft_404_pattern_is_documented_and_used() -> None:
    for pattern, comment in quirks.SOFT_404_PATTERNS:
        assert comment.strip()
        compiled = re.compile(pattern)
        assert any(compiled.fullmatch(s) for t in NOT_FOUND for s in _segments(t)), comment


def _segments(title: str) -> list[str]:
    normal = normalise_phrase(title)
    return [normal, *(s.strip(" .!?…") for s in quirks.TITLE_SEPARATORS.split(normal))]


def _fetch(status: int, headers: dict[str, str], body: bytes = b"") -> FetchResult:
    return FetchResult(url="https://x.org/", final_url="https://x.org/", method="GET",
                       status=status, headers=httpx.Headers(headers), body=body)  # fmt: skip


@pytest.mark.parametrize(
    ("status", "headers", "title", "body", "expected"),
    [
        (403, {"cf-mitigated": "challenge"}, None, b"", "Cloudflare challenge"),
        (503, {"cf-ray": "1-GRU"}, "Just a moment...", b"", "Cloudflare challenge"),
        (403, {"cf-ray": "1-GRU"}, "Attention Required! | Cloudflare", b"", "Cloudflare block"),
        (403, {"cf-ray": "1"}, "Access denied", b'<div id="cf-error-details">', "Cloudflare block"),
        (403, {}, None, b"geo.captcha-delivery.com/captcha", "DataDome captcha"),
        (403, {"x-datadome": "protected"}, None, b"", "DataDome"),
        (403, {}, "Access Denied", b"https://errors.edgesuite.net/18.1", "Akamai"),
        (403, {"Server": "AkamaiGHost"}, "Access Denied", b"", "Akamai"),
        (403, {}, None, b'<div id="px-captcha">', "PerimeterX"),
        (403, {}, "Access to this page has been denied.", b"", "PerimeterX"),
        (403, {"x-sucuri-block": "1"}, None, b"", "Sucuri firewall"),
        (200, {}, "Sucuri WebSite Firewall - Access Denied", b"", "Sucuri firewall"),
        (200, {}, None, b"/_Incapsula_Resource?x", "Imperva Incapsula"),
        (202, {"x-amzn-waf-action": "challenge"}, None, b"", "AWS WAF"),
        (200, {}, "DDoS-Guard", b"", "DDoS-Guard"),
    ],
)
def test_bot_walls(
    status: int, headers: dict[str, str], title: str | None, body: bytes, expected: str
) -> None:
    assert bot_wall(_fetch(status, headers, body), title) == expected


@pytest.mark.parametrize(
    ("status", "headers", "title"),
    [
        (200, {"cf-ray": "1-GRU", "Server": "cloudflare"}, "Docs"),  # a normal Cloudflare site
        (200, {}, "Just a moment..."),  # the title alone, without Cloudflare
        (200, {"x-datadome": "protected"}, "Shop"),  # DataDome lets this one through
        (200, {"cf-mitigated": "none"}, "Docs"),
        (200, {"Server": "AkamaiGHost"}, "Home"),
    ],
)
def test_pages_behind_walls_that_let_us_in(
    status: int, headers: dict[str, str], title: str
) -> None:
    assert bot_wall(_fetch(status, headers), title) is None


def test_every_bot_wall_has_a_condition() -> None:
    for wall in quirks.BOT_WALLS:
        assert wall.name
        assert wall.header or wall.title or wall.body, wall
        if wall.title:
            re.compile(wall.title)


@pytest.mark.parametrize("path", ["/", "", "/index.html", "/en/", "/pt-br/", "/pt_BR", "/home"])
def test_home_paths(path: str) -> None:
    assert quirks.HOME_PATH.fullmatch(path)


@pytest.mark.parametrize("path", ["/go", "/ai", "/docs/", "/en/docs", "/homework"])
def test_not_home_paths(path: str) -> None:
    assert not quirks.HOME_PATH.fullmatch(path)


@pytest.mark.parametrize(
    ("original", "final", "gone"),
    [
        ("https://ex.com/a/b", "https://ex.com/", True),
        ("https://ex.com/a/b", "https://www.ex.com/en/", True),
        ("https://docs.ex.com/a", "https://ex.com/", True),  # same site, other host
        ("https://ex.com/a", "https://ex.com/404.html", True),
        ("https://ex.com/a", "https://ex.com/pagina-nao-encontrada", True),
        ("https://ex.com/a", "https://ex.com/login", True),
        ("https://ex.com/a", "https://ex.com/login?next=/a", False),  # a login wall
        ("https://ex.com/a", "https://ex.com/users/sign_in?return_to=%2Fa", False),
        ("https://ex.com/", "https://ex.com/en/", False),  # not deep
        ("https://ex.com/index.html", "https://ex.com/", False),
        ("https://sho.rt/abc", "https://ex.com/", False),  # another site: a shortener
        ("https://ex.co.uk/a", "https://other.co.uk/", False),
        ("https://ex.com/a", "https://ex.com/?s=a", False),
        ("https://ex.com/a", "https://ex.com/errors/guide", False),
    ],
)
def test_soft_404_redirects(original: str, final: str, gone: bool) -> None:
    assert (soft_404_redirect(original, final) is not None) is gone


@pytest.mark.parametrize(
    ("url", "head"),
    [
        ("https://x.org/paper.pdf", True),
        ("https://x.org/PAPER.PDF?download=1", True),
        ("https://x.org/src.tar.gz", True),
        ("https://x.org/clip.mp4#t=10", True),
        ("https://x.org/photo.jpg", True),
        ("https://x.org/guide.html", False),
        ("https://x.org/pdf", False),
        ("https://x.org/", False),
        ("https://x.org/a.pdf/view", False),
    ],
)
def test_files_use_head(url: str, head: bool) -> None:
    assert wants_head(url) is head


def test_extension_table_is_well_formed() -> None:
    for ext in quirks.NON_HTML_EXTENSIONS:
        assert ext.startswith(".") and ext == ext.lower()
    assert len(set(quirks.NON_HTML_EXTENSIONS)) == len(quirks.NON_HTML_EXTENSIONS)


def test_charset_aliases_name_real_codecs() -> None:
    for label, name in quirks.CHARSET_ALIASES.items():
        assert label == label.lower()
        codecs.lookup(name)


def test_github_prefix_is_a_prefix() -> None:
    assert all(p.endswith("-") for p in quirks.ANCHOR_ID_PREFIXES)


@pytest.mark.parametrize(
    ("fragment", "ignored"),
    [(":~:text=a", True), ("/route", True), ("!/route", True), ("install", False)],
)
def test_ignored_fragments(fragment: str, ignored: bool) -> None:
    assert bool(quirks.IGNORED_FRAGMENT.match(fragment)) is ignored
