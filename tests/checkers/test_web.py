"""The web checker against real loopback servers, plus its pure judgement on shaped fetches."""

from __future__ import annotations

import codecs
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.checkers.base import CheckContext
from monitor.checkers.web import WebChecker, trivial_differences, verdict_for
from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Hop, Kind, Resource, Verdict
from monitor.net.engine import Failure, FetchResult, HttpEngine
from tests.conftest import LoopbackServer, Reply, Seen

PAGE = b"""<!doctype html>
<html lang="pt-BR"><head>
<meta charset="utf-8">
<title>Curso de Python | Escola</title>
<meta property="og:title" content="Curso de Python">
<meta name="description" content="  Aprenda   Python do zero. ">
<link rel="canonical" href="/cursos/python">
</head><body><h1 id="top">Curso de Python</h1>
<h2 id="install">Instalar</h2><a name="legacy"></a>
<div id="user-content-setup">Setup</div>
<svg><title>icon</title></svg>
</body></html>"""


def page(title: str, h1: str = "", extra: str = "") -> bytes:
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return f"<html><head><title>{title}</title></head><body>{heading}{extra}</body></html>".encode()


def resource(url: str, accept: tuple[int, ...] = ()) -> Resource:
    return Resource(id="r", url=url, kind=Kind.WEB, section="s", label="R", accept=accept)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server(shared_server: LoopbackServer) -> LoopbackServer:
    """One server for the module (stopping one costs 0.5 s), emptied before each test."""
    shared_server.routes.clear()
    shared_server.requests.clear()
    return shared_server


@pytest.fixture
async def engine() -> AsyncIterator[HttpEngine]:
    settings = EngineSettings(allow_private=True, retries=0, read_timeout_s=0.5)
    async with HttpEngine(settings) as http:
        yield http


async def check(
    engine: HttpEngine, url: str, *, accept: tuple[int, ...] = (), want_metadata: bool = True
) -> CheckResult:
    ctx = CheckContext(http=engine, want_metadata=want_metadata)
    return await WebChecker().check(resource(url, accept), ctx)


def redirect(to: str, status: int = 301) -> Reply:
    return Reply(status, b"", {"Location": to})


# ------------------------------------------------------------------------------ ok, metadata


async def test_ok_page_is_scraped(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/cursos/python"] = Reply(200, PAGE)
    result = await check(engine, server.url("/cursos/python"))
    assert result.verdict is Verdict.OK
    assert result.status == 200 and result.checker == "web"
    assert result.note is None and result.error is None
    assert result.meta.title == "Curso de Python"  # og:title preferred, without the site name
    assert result.meta.description == "Aprenda Python do zero."
    assert result.meta.canonical_url == server.url("/cursos/python")
    assert result.meta.language == "pt-BR"
    assert result.meta.content_type == "text/html"
    assert result.elapsed_ms is not None


async def test_title_falls_back_to_title_tag_and_language_to_header(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    body = b"<html><head><title>\n  Plain \t title </title>"
    body += b'<meta property="og:description" content="From OG"></head></html>'
    server.routes["/p"] = Reply(200, body, {"Content-Language": "en-GB, pt"})
    result = await check(engine, server.url("/p"))
    assert result.meta.title == "Plain title"
    assert result.meta.description == "From OG"
    assert result.meta.language == "en-GB"


async def test_no_metadata_in_adhoc_mode(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/p"] = Reply(200, PAGE)
    result = await check(engine, server.url("/p"), want_metadata=False)
    assert result.verdict is Verdict.OK
    assert result.meta.to_dict() == {}


async def test_accepted_status_is_ok(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/members"] = Reply(403, b"")
    result = await check(engine, server.url("/members"), accept=(403,))
    assert result.verdict is Verdict.OK
    assert result.note == "HTTP 403 accepted by the catalog"


# ------------------------------------------------------------------------------ broken


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_statuses_are_broken(
    server: LoopbackServer, engine: HttpEngine, status: int
) -> None:
    server.routes["/gone"] = Reply(status, b"")
    result = await check(engine, server.url("/gone"))
    assert result.verdict is Verdict.BROKEN
    assert result.error == f"HTTP {status}"
    assert not result.network_failure


@pytest.mark.parametrize(
    ("title", "h1"),
    [
        ("Page not found | Example", ""),
        ("404", ""),
        ("Example", "This page doesn't exist"),
        ("Página não encontrada – Escola", ""),
        ("Escola Online", "Erro 404 - Página não existe"),
        ("Página no encontrada", ""),
        ("Page not found | Docs", "Oops!"),
    ],
)
async def test_soft_404_pages_are_broken(
    server: LoopbackServer, engine: HttpEngine, title: str, h1: str
) -> None:
    server.routes["/cursos/antigo"] = Reply(200, page(title, h1))
    result = await check(engine, server.url("/cursos/antigo"))
    assert result.verdict is Verdict.BROKEN
    assert result.error is not None and result.error.startswith("soft-404")


@pytest.mark.parametrize(
    ("path", "title", "h1"),
    [
        ("/blog/tips", "404 tips for designers", ""),
        ("/blog/erros", "Erro 404 - Como resolver", "Erro 404: o que é e como resolver de vez"),
        ("/docs/Web/HTTP/Status/404", "404 Not Found - HTTP | MDN", "404 Not Found"),
        ("/blog/http", "How to fix HTTP 404 errors", ""),
    ],
)
async def test_pages_about_404_are_not_soft_404(
    server: LoopbackServer, engine: HttpEngine, path: str, title: str, h1: str
) -> None:
    server.routes[path] = Reply(200, page(title, h1))
    result = await check(engine, server.url(path))
    assert result.verdict is Verdict.OK


async def test_deep_url_redirected_to_root_is_broken(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/courses/ml-101"] = redirect("/", 302)
    server.routes["/"] = Reply(200, page("Welcome to Example"))
    result = await check(engine, server.url("/courses/ml-101"))
    assert result.verdict is Verdict.BROKEN
    assert result.error is not None and "home page" in result.error
    assert result.redirects == (Hop(server.url("/courses/ml-101"), 302),)


async def test_deep_url_redirected_to_language_home_is_broken(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/blog/2019/post"] = redirect("/pt-br/", 301)
    server.routes["/pt-br/"] = Reply(200, page("Início"))
    result = await check(engine, server.url("/blog/2019/post"))
    assert result.verdict is Verdict.BROKEN


async def test_bare_login_page_is_broken_but_login_wall_is_ok(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/course/old"] = redirect("/login", 302)
    server.routes["/course/mine"] = redirect("/login?next=/course/mine", 302)
    server.routes["/login"] = Reply(200, page("Sign in"))
    gone = await check(engine, server.url("/course/old"))
    wall = await check(engine, server.url("/course/mine"))
    assert gone.verdict is Verdict.BROKEN
    assert wall.verdict is Verdict.OK
    assert wall.note is not None and wall.note.startswith("login wall")
    assert wall.moved_to is None


# ------------------------------------------------------------------------------ redirects


async def test_permanent_redirect_to_working_url_is_moved(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/old-name"] = redirect("/new-name", 301)
    server.routes["/new-name"] = Reply(200, page("New"))
    result = await check(engine, server.url("/old-name"))
    assert result.verdict is Verdict.MOVED
    assert result.moved_to == server.url("/new-name")
    assert result.final_url == server.url("/new-name")


async def test_moved_to_stops_at_the_first_temporary_hop(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/a"] = redirect("/b", 308)
    server.routes["/b"] = redirect("/b/session?id=42", 302)
    server.routes["/b/session"] = Reply(200, page("B"))
    result = await check(engine, server.url("/a"))
    assert result.verdict is Verdict.MOVED
    assert result.moved_to == server.url("/b")
    assert result.note == f"then redirects temporarily to {server.url('/b/session?id=42')}"


async def test_permanent_redirect_to_a_broken_url_is_broken(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/old"] = redirect("/missing", 301)
    result = await check(engine, server.url("/old"))
    assert result.verdict is Verdict.BROKEN
    assert result.moved_to is None


async def test_trailing_slash_redirect_is_ok_with_note(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/docs"] = redirect("/docs/", 301)
    server.routes["/docs/"] = Reply(200, page("Docs"))
    result = await check(engine, server.url("/docs"))
    assert result.verdict is Verdict.OK
    assert result.note == "adds a trailing slash"
    assert result.moved_to is None


def test_host_case_default_port_and_www_are_cosmetic() -> None:
    assert trivial_differences("http://EXAMPLE.com:80/a", "http://example.com/a") == [
        "normalises the host"
    ]
    assert trivial_differences("https://www.example.com/a/", "https://example.com/a") == [
        "drops www",
        "drops the trailing slash",
    ]
    assert trivial_differences("http://example.com/a", "https://example.com:8443/a") is None
    assert trivial_differences("https://example.com/a", "http://example.com/a") is None
    assert trivial_differences("https://example.com/a?x=1", "https://example.com/a") is None
    assert trivial_differences("https://example.com/a", "https://example.com/b") is None
    assert trivial_differences("https://example.com/a", "https://example.org/a") is None


async def test_temporary_redirect_is_ok_with_note(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/latest"] = redirect("/v2/guide", 302)
    server.routes["/v2/guide"] = Reply(200, page("Guide"))
    result = await check(engine, server.url("/latest"))
    assert result.verdict is Verdict.OK
    assert result.note == f"temporary redirect (302) to {server.url('/v2/guide')}"


def test_https_upgrade_alone_is_ok_with_note() -> None:
    fetch = FetchResult(
        url="http://example.com/guide",
        final_url="https://www.example.com/guide/",
        method="GET",
        status=200,
        redirects=(
            Hop("http://example.com/guide", 301),
            Hop("https://example.com/guide", 301),
            Hop("https://www.example.com/guide", 301),
        ),
    )
    judged = verdict_for(fetch, resource("http://example.com/guide"))
    assert judged.verdict is Verdict.OK
    assert judged.note == "redirects to https; adds www; adds a trailing slash"
    assert judged.moved_to is None


def test_https_then_a_real_move_is_moved() -> None:
    fetch = FetchResult(
        url="http://old.org/x",
        final_url="https://new.org/x",
        method="GET",
        status=200,
        redirects=(Hop("http://old.org/x", 301), Hop("https://old.org/x", 308)),
    )
    judged = verdict_for(fetch, resource("http://old.org/x"))
    assert judged.verdict is Verdict.MOVED
    assert judged.moved_to == "https://new.org/x"


def test_shortener_to_another_sites_home_is_not_soft_404() -> None:
    fetch = FetchResult(
        url="https://sho.rt/abc",
        final_url="https://example.com/",
        method="GET",
        status=200,
        redirects=(Hop("https://sho.rt/abc", 301),),
    )
    assert verdict_for(fetch, resource("https://sho.rt/abc")).verdict is Verdict.MOVED


async def test_redirect_loop_is_error_and_says_so(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/loop1"] = redirect("/loop2", 302)
    server.routes["/loop2"] = redirect("/loop1", 302)
    result = await check(engine, server.url("/loop1"))
    assert result.verdict is Verdict.ERROR
    assert result.error is not None and result.error.startswith("redirect loop")


# ------------------------------------------------------------------------------ blocked


@pytest.mark.parametrize("status", [401, 403, 429, 999])
async def test_refusals_are_blocked(
    server: LoopbackServer, engine: HttpEngine, status: int
) -> None:
    server.routes["/in"] = Reply(status, b"")
    result = await check(engine, server.url("/in"))
    assert result.verdict is Verdict.BLOCKED
    assert result.error is not None and str(status) in result.error


async def test_cloudflare_challenge_header_is_blocked(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/cf"] = Reply(
        403, page("Just a moment..."), {"cf-mitigated": "challenge", "Server": "cloudflare"}
    )
    result = await check(engine, server.url("/cf"))
    assert result.verdict is Verdict.BLOCKED
    assert result.error == "Cloudflare challenge (HTTP 403)"
    assert result.meta.title is None  # the challenge's title is not the resource's


async def test_just_a_moment_page_is_blocked_not_error(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/cf"] = Reply(503, page("Just a moment..."), {"cf-ray": "8c1f2e3d4b5a6978-GRU"})
    result = await check(engine, server.url("/cf"))
    assert result.verdict is Verdict.BLOCKED


async def test_captcha_answering_200_is_blocked(server: LoopbackServer, engine: HttpEngine) -> None:
    body = page("example.com", extra='<script src="https://ct.captcha-delivery.com/c.js"></script>')
    server.routes["/dd"] = Reply(200, body)
    result = await check(engine, server.url("/dd"))
    assert result.verdict is Verdict.BLOCKED
    assert result.error == "DataDome captcha (HTTP 200)"


async def test_normal_page_behind_cloudflare_is_ok(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/p"] = Reply(200, page("Docs"), {"cf-ray": "8c1f-GRU", "Server": "cloudflare"})
    result = await check(engine, server.url("/p"))
    assert result.verdict is Verdict.OK


# ------------------------------------------------------------------------------ error, skipped


async def test_server_error_is_error(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/boom"] = Reply(500, b"")
    result = await check(engine, server.url("/boom"))
    assert result.verdict is Verdict.ERROR
    assert result.error == "HTTP 500"


async def test_timeout_is_error(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/slow"] = Reply(200, b"late", delay_s=1.5)
    result = await check(engine, server.url("/slow"))
    assert result.verdict is Verdict.ERROR
    assert not result.network_failure


async def test_refused_connection_is_error_and_network_failure(engine: HttpEngine) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await check(engine, f"http://127.0.0.1:{port}/")
    assert result.verdict is Verdict.ERROR
    assert result.network_failure


def failed(failure: Failure, error: str = "boom") -> FetchResult:
    return FetchResult(url="https://x.org/", final_url="https://x.org/", method="GET",
                       failure=failure, error=error)  # fmt: skip


def test_nxdomain_is_broken_with_network_failure() -> None:
    judged = verdict_for(
        failed(Failure.DNS, "DNS lookup failed: [Errno -2] Name or service not known"),
        resource("https://x.org/"),
    )
    assert judged.verdict is Verdict.BROKEN
    assert judged.network_failure


def test_resolver_hiccup_is_error_not_broken() -> None:
    judged = verdict_for(
        failed(Failure.DNS, "DNS lookup failed: [Errno -3] Temporary failure in name resolution"),
        resource("https://x.org/"),
    )
    assert judged.verdict is Verdict.ERROR
    assert judged.network_failure


def test_private_address_is_skipped_with_reason() -> None:
    judged = verdict_for(failed(Failure.PRIVATE), resource("http://10.0.0.1/"))
    assert judged.verdict is Verdict.SKIPPED
    assert judged.note == "refused: private address (use --allow-private)"


@pytest.mark.parametrize(
    "failure", [Failure.TIMEOUT, Failure.RESET, Failure.DEADLINE, Failure.PROTOCOL]
)
def test_transient_failures_are_errors(failure: Failure) -> None:
    judged = verdict_for(failed(failure), resource("https://x.org/"))
    assert judged.verdict is Verdict.ERROR
    assert not judged.network_failure


def test_too_many_redirects_is_error() -> None:
    judged = verdict_for(failed(Failure.TOO_MANY_REDIRECTS), resource("https://x.org/"))
    assert judged.verdict is Verdict.ERROR
    assert judged.error == "too many redirects: boom"


async def test_truncated_page_is_ok_with_note(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/big"] = Reply(200, b"<html><title>Big</title>" + b"a" * 2_100_000)
    result = await check(engine, server.url("/big"))
    assert result.verdict is Verdict.OK
    assert result.note == "body cut at 2000000 bytes"
    assert result.meta.title == "Big"


# ------------------------------------------------------------------------------ charsets


async def test_latin1_declared_in_header(server: LoopbackServer, engine: HttpEngine) -> None:
    body = "<title>Página não encontrada</title>".encode("latin-1")
    server.routes["/l"] = Reply(200, body, {"Content-Type": "text/html; charset=ISO-8859-1"})
    result = await check(engine, server.url("/l"))
    assert result.verdict is Verdict.BROKEN  # only readable once decoded as declared


async def test_latin1_declared_in_meta(server: LoopbackServer, engine: HttpEngine) -> None:
    body = '<meta charset="windows-1252"><title>Ação “rápida”</title>'.encode("cp1252")
    server.routes["/m"] = Reply(200, body, {"Content-Type": "text/html"})
    result = await check(engine, server.url("/m"))
    assert result.meta.title == "Ação “rápida”"


async def test_latin1_declared_in_http_equiv(server: LoopbackServer, engine: HttpEngine) -> None:
    body = b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    body += "<title>Informação</title>".encode("latin-1")
    server.routes["/m"] = Reply(200, body, {"Content-Type": "text/html"})
    result = await check(engine, server.url("/m"))
    assert result.meta.title == "Informação"


async def test_bogus_charset_falls_back(server: LoopbackServer, engine: HttpEngine) -> None:
    body = "<title>Ação</title>".encode()
    server.routes["/b"] = Reply(200, body, {"Content-Type": "text/html; charset=klingon-8"})
    server.routes["/c"] = Reply(200, body, {"Content-Type": "text/html; charset=base64"})
    for path in ("/b", "/c"):
        result = await check(engine, server.url(path))
        assert result.verdict is Verdict.OK
        assert result.meta.title == "Ação"


async def test_bom_wins_over_declarations(server: LoopbackServer, engine: HttpEngine) -> None:
    body = codecs.BOM_UTF8 + "<title>Ação</title>".encode()
    server.routes["/bom"] = Reply(200, body, {"Content-Type": "text/html; charset=iso-8859-1"})
    server.routes["/u16"] = Reply(200, "<title>Ação</title>".encode("utf-16"))  # BOM included
    for path in ("/bom", "/u16"):
        result = await check(engine, server.url(path))
        assert result.meta.title == "Ação"


# ------------------------------------------------------------------------------ fragments


@pytest.mark.parametrize(
    ("fragment", "note"),
    [
        ("#install", None),
        ("#legacy", None),  # <a name>
        ("#setup", None),  # GitHub: id="user-content-setup"
        ("#Setup", None),  # GitHub resolves case-insensitively
        ("#top", None),
        ("#:~:text=Python", None),  # text fragment
        ("#/route/42", None),  # SPA route
        ("#!/route", None),
        ("#install:~:text=x", None),
    ],
)
async def test_fragments(
    server: LoopbackServer, engine: HttpEngine, fragment: str, note: str | None
) -> None:
    server.routes["/doc"] = Reply(200, PAGE)
    result = await check(engine, server.url("/doc" + fragment))
    assert result.verdict is Verdict.OK
    assert result.note == note


# A server-rendered docs page (Sphinx-like: ids on sections, ¶ links inside headings).
SPHINX = b"""<html><head><title>Install - Docs</title></head><body>
<section id="installation"><h1>Installation<a class="headerlink" href="#installation">\xc2\xb6</a>
</h1><section id="from-pypi"><h2>From PyPI</h2></section></section></body></html>"""
# A Jekyll page whose heading ids come from anchor.js at load time: no id in the HTML.
JEKYLL_JS = b"""<html><head><title>Guide</title><script src="/anchor.min.js"></script></head>
<body><nav id="menu">Menu</nav><h2>Getting started</h2><p>Text.</p>
<script>anchors.add('h2')</script></body></html>"""
# A React app shell: an empty mount point, everything built by the bundle.
APP_SHELL = b"""<!doctype html><html><head><title>Docs</title></head><body>
<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
<script src="/static/js/main.js"></script></body></html>"""


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (PAGE, "#missing"),  # heading ids on the page
        (SPHINX, "#from-conda"),  # a different server-rendered page: section ids
    ],
)
async def test_missing_anchor_on_a_server_rendered_page_is_broken(
    server: LoopbackServer, engine: HttpEngine, body: bytes, fragment: str
) -> None:
    server.routes["/doc"] = Reply(200, body)
    result = await check(engine, server.url("/doc" + fragment))
    assert result.verdict is Verdict.BROKEN
    assert result.error == f"missing anchor {fragment}"
    assert result.status == 200


@pytest.mark.parametrize("body", [JEKYLL_JS, APP_SHELL])
async def test_missing_anchor_on_a_javascript_page_is_ok_with_a_note(
    server: LoopbackServer, engine: HttpEngine, body: bytes
) -> None:
    server.routes["/guide"] = Reply(200, body)
    result = await check(engine, server.url("/guide#getting-started"))
    assert result.verdict is Verdict.OK
    assert result.note == (
        "fragment #getting-started not found; the page has no ids in its HTML "
        "(its anchors may be built by JavaScript)"
    )


async def test_an_app_shell_with_a_stray_heading_id_is_still_javascript(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    body = APP_SHELL.replace(b'<div id="root"></div>', b'<div id="root"><h1 id="x">Hi</h1></div>')
    server.routes["/app"] = Reply(200, body)
    result = await check(engine, server.url("/app#pricing"))
    assert result.verdict is Verdict.OK


async def test_missing_anchor_after_a_redirect_elsewhere_is_a_note(
    server: LoopbackServer, engine: HttpEngine
) -> None:
    server.routes["/old"] = redirect(server.url("/doc"), 302)
    server.routes["/doc"] = Reply(200, PAGE)
    result = await check(engine, server.url("/old#missing"))
    assert result.verdict is Verdict.OK
    assert "fragment #missing not found on the page redirected to" in (result.note or "")


async def test_truncated_page_missing_anchor_is_a_note(
    server: LoopbackServer, engine: HttpEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.checkers import web

    body = PAGE.replace(b"</body>", b"<p>" + b"x" * 3000 + b"</p></body>")
    server.routes["/long"] = Reply(200, body)
    monkeypatch.setattr(web, "HTML_MAX_BYTES", 1024)
    result = await check(engine, server.url("/long#nowhere"))
    assert result.verdict is Verdict.OK
    assert "fragment #nowhere not found in the part of the page we read" in (result.note or "")


# ------------------------------------------------------------------------------ files


async def test_pdf_is_checked_with_head(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/paper.pdf"] = Reply(200, b"%PDF-1.7 " + b"0" * 5000,
                                        {"Content-Type": "application/pdf"})  # fmt: skip
    result = await check(engine, server.url("/paper.pdf#page=2"))
    assert [r.method for r in server.requests] == ["HEAD"]
    assert result.verdict is Verdict.OK
    assert result.note is None  # no fragment check on a PDF
    assert result.meta.content_type == "application/pdf"
    assert result.meta.size_bytes == 5009
    assert result.meta.title is None


async def test_file_url_answering_html_is_read(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/data/model.zip"] = Reply(200, page("Page not found"))
    result = await check(engine, server.url("/data/model.zip"))
    assert [r.method for r in server.requests] == ["HEAD", "GET"]
    assert result.verdict is Verdict.BROKEN


async def test_html_page_is_fetched_with_get(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/guide.html"] = Reply(200, PAGE)
    await check(engine, server.url("/guide.html"))
    assert [r.method for r in server.requests] == ["GET"]


# ------------------------------------------------------------------ HEAD is not a verdict


def head_then_get(head: int, get: int, body: bytes = b"%PDF-1.7 data") -> Callable[[Seen], Reply]:
    def reply(seen: Seen) -> Reply:
        if seen.method == "HEAD":
            return Reply(head, b"", {"Content-Type": "application/pdf"})
        return Reply(get, body, {"Content-Type": "application/pdf"})

    return reply


@pytest.mark.parametrize(
    ("path", "head", "note"),
    [
        # a generated download: the HEAD route is not wired, GET is
        ("/export/report.pdf", 404, "HEAD answered HTTP 404, GET HTTP 200"),
        # a different input of the same kind: HEAD crashes (500), GET streams the archive
        ("/dl/data.zip", 500, "HEAD answered HTTP 500, GET HTTP 200"),
    ],
)
async def test_failing_head_is_confirmed_by_get(
    server: LoopbackServer, engine: HttpEngine, path: str, head: int, note: str
) -> None:
    server.routes[path] = head_then_get(head, 200)
    result = await check(engine, server.url(path))
    assert [r.method for r in server.requests] == ["HEAD", "GET"]
    assert (result.verdict, result.status, result.note) == (Verdict.OK, 200, note)


async def test_get_confirms_a_missing_file(server: LoopbackServer, engine: HttpEngine) -> None:
    server.routes["/gone.pdf"] = head_then_get(404, 404)
    result = await check(engine, server.url("/gone.pdf"))
    assert [r.method for r in server.requests] == ["HEAD", "GET"]
    assert (result.verdict, result.error, result.note) == (Verdict.BROKEN, "HTTP 404", None)


async def test_the_second_opinion_confirms_with_get_too(server: LoopbackServer) -> None:
    from monitor.run.pipeline import run_checks

    server.routes["/gone.zip"] = head_then_get(404, 404)
    settings_ = EngineSettings(allow_private=True, retries=0, recheck_interval_ms=0)
    async with HttpEngine(settings_) as http:
        outcome = await run_checks([resource(server.url("/gone.zip"))], CheckContext(http=http))
    assert [r.method for r in server.requests] == ["HEAD", "GET", "HEAD", "GET"]
    assert outcome.results[0].verdict is Verdict.BROKEN


class StreamingServer:
    """Answers HEAD with 404 and GET with an endless-looking 200 body, counting what it sent
    before the client hung up: the confirming GET must be read up to its cap and closed."""

    TOTAL = 200 * 1024 * 1024

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.methods: list[str] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                request = conn.recv(65536).decode("latin-1")
                method = request.split(" ", 1)[0]
                self.methods.append(method)
                head = "HTTP/1.1 404 Not Found" if method == "HEAD" else "HTTP/1.1 200 OK"
                conn.sendall(
                    f"{head}\r\nContent-Type: application/zip\r\n"
                    f"Content-Length: {self.TOTAL}\r\nConnection: close\r\n\r\n".encode()
                )
                if method != "GET":
                    continue
                chunk = b"\0" * 65536
                try:
                    while self.sent < self.TOTAL:
                        conn.sendall(chunk)
                        self.sent += len(chunk)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


async def test_confirming_get_is_capped_and_closed_early(engine: HttpEngine) -> None:
    srv = StreamingServer()
    try:
        result = await check(engine, f"http://127.0.0.1:{srv.port}/big/model.zip")
        srv.thread.join(timeout=5)
    finally:
        srv.close()
    assert srv.methods == ["HEAD", "GET"]
    assert result.verdict is Verdict.OK
    assert result.note == "HEAD answered HTTP 404, GET HTTP 200"
    # the client read 64 KiB and hung up; what the server pushed is socket buffers, not 200 MB
    assert srv.sent < 32 * 1024 * 1024


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=2000)
    | st.text(max_size=300).map(lambda t: f"<title>{t}</title><h1>{t}</h1>".encode()),
    status=st.integers(min_value=100, max_value=999),
    redirects=st.lists(st.sampled_from([301, 302, 303, 307, 308]), max_size=3),
    final=st.sampled_from(
        ["https://x.org/", "https://x.org/a/b/", "http://[bad", "https://y.io/z"]
    ),
)
def test_judgement_never_raises(body: bytes, status: int, redirects: list[int], final: str) -> None:
    hops = tuple(Hop(f"https://x.org/h{i}", s) for i, s in enumerate(redirects))
    fetch = FetchResult(url="https://x.org/a/b#frag", final_url=final, method="GET",
                        status=status, headers=httpx.Headers({"content-type": "text/html"}),
                        body=body, redirects=hops)  # fmt: skip
    judged = verdict_for(fetch, resource("https://x.org/a/b#frag"))
    assert judged.verdict in Verdict
