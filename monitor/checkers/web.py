"""The web checker: any http(s) page. The fallback for every kind without its own checker.

The judgement is pure: `verdict_for` takes a `FetchResult` and returns a `Judgement`, so every
verdict rule (docs/architecture.md) is unit-testable without a network. `WebChecker.check`
only chooses how to fetch (HEAD for files, GET for pages) and assembles the `CheckResult`.
Reading the page is `monitor.checkers.page`; per-site knowledge (soft-404 phrases, bot
walls, file extensions) lives in `monitor.checkers.quirks`.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from monitor.checkers import quirks
from monitor.checkers.base import CheckContext
from monitor.checkers.page import Page, is_html, media_type, parse_page
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import REDIRECT_STATUSES, Failure, FetchResult

# Enough for the <head>, the main heading and the ids of any sane page.
HTML_MAX_BYTES = 2_000_000
# The GET that confirms a failing HEAD: enough to see a soft-404 page's <title>, no download.
CONFIRM_MAX_BYTES = 64 * 1024
PERMANENT = frozenset({301, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
_SOFT_404 = tuple(re.compile(pattern) for pattern, _ in quirks.SOFT_404_PATTERNS)


def _split(url: str) -> SplitResult:
    """`urlsplit` that never raises: a malformed URL ("http://[x") splits as an empty one."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


# ------------------------------------------------------------------------------ soft-404


def normalise_phrase(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("’", "'").split()).strip(" .!?…")


def says_not_found(text: str | None) -> bool:
    """True when the text *is* a not-found phrase (whole title or one of its segments)."""
    if not text:
        return False
    normal = normalise_phrase(text)
    segments = [normal, *(s.strip(" .!?…") for s in quirks.TITLE_SEPARATORS.split(normal))]
    return any(p.fullmatch(s) for p in _SOFT_404 for s in segments if s)


def soft_404_reason(page: Page, url: str) -> str | None:
    """Why this 200 page is really a not-found page, or None.

    The h1 is the strongest evidence. A title alone is vetoed by a real headline that says
    something else (an article "Erro 404 - como resolver" has a long h1 of its own), and by a
    catalog URL whose path is about errors (MDN's "404 Not Found" page is a real page).
    """
    if quirks.ABOUT_ERRORS_PATH.search(_split(url).path.lower()):
        return None
    if says_not_found(page.h1):
        return f"soft-404: the page heading says {page.h1!r}"
    if says_not_found(page.full_title or page.title):
        if page.h1 and len(page.h1.split()) >= 5:
            return None
        return f"soft-404: the page title says {page.title!r}"
    return None


# ------------------------------------------------------------------------------ bot walls


def bot_wall(fetch: FetchResult, title: str | None) -> str | None:
    """The name of the bot wall that answered instead of the site, or None."""
    lowered_title = (title or "").casefold()
    for wall in quirks.BOT_WALLS:
        if wall.statuses is not None and fetch.status not in wall.statuses:
            continue
        if wall.header is not None:
            name, pattern = wall.header
            value = fetch.headers.get(name)
            if value is None or (pattern and not re.search(pattern, value, re.I)):
                continue
        if wall.also_header is not None and wall.also_header not in fetch.headers:
            continue
        if wall.title is not None and not re.search(wall.title, lowered_title):
            continue
        if wall.body is not None and wall.body not in fetch.body:
            continue
        return wall.name
    return None


# ------------------------------------------------------------------------------ redirects


def _site(host: str) -> str:
    """Registrable domain, roughly: docs.example.com and example.com are one site."""
    labels = host.lower().rstrip(".").split(".")
    if (
        len(labels) >= 3
        and len(labels[-1]) == 2
        and labels[-2] in {"com", "co", "org", "net", "gov", "edu", "ac"}
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def trivial_differences(original: str, final: str) -> list[str] | None:
    """The cosmetic differences between two URLs, or None if they name different pages.

    Cosmetic: http -> https, a trailing slash, host case, an explicit default port, www.
    """
    a, b = _split(original), _split(final)
    try:
        a_port, b_port = a.port, b.port
    except ValueError:  # out-of-range port
        return None
    notes: list[str] = []
    if a.scheme != b.scheme:
        if (a.scheme, b.scheme) != ("http", "https"):
            return None
        notes.append("redirects to https")
    host_a, host_b = (a.hostname or ""), (b.hostname or "")
    if host_a != host_b:
        if host_a.removeprefix("www.") != host_b.removeprefix("www."):
            return None
        notes.append("adds www" if host_b.startswith("www.") else "drops www")
    # an explicit default port (":443" on https) is the same as none
    port_a = None if a_port == DEFAULT_PORTS.get(a.scheme) else a_port
    port_b = None if b_port == DEFAULT_PORTS.get(b.scheme) else b_port
    if port_a != port_b:
        return None
    if a.query != b.query:
        return None
    path_a, path_b = unquote(a.path or "/"), unquote(b.path or "/")
    if path_a != path_b:
        if path_a.rstrip("/") != path_b.rstrip("/"):
            return None
        notes.append(
            "adds a trailing slash" if path_b.endswith("/") else "drops the trailing slash"
        )
    if not notes and a.netloc != b.netloc:
        notes.append("normalises the host")
    return notes


# ISO 639-1 language codes: a home page redirecting to /en/, /pt-BR/ or ?hl=fr picks the
# reader's language; it has not moved (DESIGN.md, Verdicts), and the catalog keeps "/".
_ISO_639_1 = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
    "vi vo wa wo xh yi yo za zh zu"
)
LANGUAGES = frozenset(_ISO_639_1.split())
_LOCALE = re.compile(r"([a-z]{2})(?:[-_](?:[a-z]{2}|[a-z]{4}|\d{3}))?", re.IGNORECASE)
_LANGUAGE_PARAMS = frozenset({"lang", "hl", "locale", "language", "lng"})


def _is_locale(text: str) -> bool:
    m = _LOCALE.fullmatch(text)
    return m is not None and m.group(1).lower() in LANGUAGES


def language_home(original: str, target: str) -> bool:
    """A site's home page sending the reader to the page of a language: not a move."""
    a, b = _split(original), _split(target)
    if a.path not in ("", "/") or a.query:
        return False
    if (a.hostname or "").removeprefix("www.") != (b.hostname or "").removeprefix("www."):
        return False
    segments = [s for s in b.path.split("/") if s]
    if segments and _is_locale(segments[0]):
        return len(segments) == 1 or segments[1:] in (["index.html"], ["index.htm"], ["home"])
    params = dict(parse_qsl(b.query))
    return not segments and any(_is_locale(params.get(p, "")) for p in _LANGUAGE_PARAMS)


def _is_deep(url: str) -> bool:
    path = _split(url).path
    return bool(path.strip("/")) and not quirks.HOME_PATH.fullmatch(path)


def soft_404_redirect(original: str, final: str) -> str | None:
    """Why a redirect from `original` to `final` means the page is gone, or None.

    A deep URL sent to its own site's home page, to a generic error page, or to a login page
    that does not even remember where we came from. Another site's home page is not evidence
    (URL shorteners land on home pages all the time).
    """
    if not _is_deep(original):
        return None
    a, b = _split(original), _split(final)
    if _site(a.hostname or "") != _site(b.hostname or ""):
        return None
    path = b.path or "/"
    if quirks.HOME_PATH.fullmatch(path) and not b.query:
        return f"soft-404: redirected to the site's home page {final}"
    if quirks.ERROR_PATH.fullmatch(path):
        return f"soft-404: redirected to an error page {final}"
    if quirks.LOGIN_PATH.fullmatch(path) and not _has_return(b.query):
        return f"soft-404: redirected to a bare login page {final}"
    return None


def _has_return(query: str) -> bool:
    return any(
        k.lower() in quirks.RETURN_PARAMS for k, _ in parse_qsl(query, keep_blank_values=True)
    )


def login_wall(final: str) -> bool:
    b = _split(final)
    return bool(quirks.LOGIN_PATH.fullmatch(b.path or "/")) and _has_return(b.query)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    error: str | None = None
    notes: tuple[str, ...] = ()
    moved_to: str | None = None
    network_failure: bool = False
    page: Page | None = None

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) or None


def judge_redirects(original: str, fetch: FetchResult) -> Judgement:
    """The verdict of a redirect chain that ended on a working page."""
    final = fetch.final_url
    original = original.split("#", 1)[0]
    reason = soft_404_redirect(original, final)
    if reason:
        return Judgement(Verdict.BROKEN, error=reason)
    trivial = trivial_differences(original, final)
    if trivial is not None:
        return Judgement(Verdict.OK, notes=tuple(trivial))
    if login_wall(final):
        return Judgement(Verdict.OK, notes=(f"login wall: redirects to {final}",))
    if language_home(original, final):
        return Judgement(Verdict.OK, notes=(f"home page redirects to a language page: {final}",))
    # The catalog should follow the leading run of permanent hops, not the temporary
    # locations after it (a 301 to a new domain that then 302s to a session URL).
    moved_to = None
    for index, hop in enumerate(fetch.redirects):
        if hop.status not in PERMANENT:
            break
        following = fetch.redirects[index + 1 :]
        moved_to = following[0].url if following else final
    if moved_to is not None and trivial_differences(original, moved_to) is None:
        notes = () if moved_to == final else (f"then redirects temporarily to {final}",)
        return Judgement(Verdict.MOVED, moved_to=moved_to, notes=notes)
    temporary = next(
        (h.status for h in fetch.redirects if h.status not in PERMANENT), fetch.redirects[0].status
    )
    return Judgement(Verdict.OK, notes=(f"temporary redirect ({temporary}) to {final}",))


# ------------------------------------------------------------------------------ fragments


def missing_fragment(
    url: str, page: Page, truncated: bool, *, redirected: bool = False
) -> tuple[bool, str] | None:
    """(broken?, detail) when the URL's #fragment names no anchor of the page, else None.

    Broken only where the page's anchors are in its HTML (`Page.server_anchors`) and we read
    the whole page: a page that builds its content in JavaScript, or whose host resolves
    anchors in JavaScript (`quirks.JS_ANCHOR_HOSTS`), may still show it, so that is a note.
    So is a page we were `redirected` to elsewhere (a login wall lacks the anchors of the page
    behind it).
    """
    parts = _split(url)
    fragment = unquote(parts.fragment.split(":~:", 1)[0])
    if not fragment or quirks.IGNORED_FRAGMENT.match(fragment):
        return None
    candidates = {fragment}
    for anchor in page.anchors:
        for prefix in quirks.ANCHOR_ID_PREFIXES:
            if anchor.startswith(prefix):
                candidates.add(prefix + fragment)
    if candidates & page.anchors:
        return None
    lowered = {a.casefold() for a in page.anchors}
    if {c.casefold() for c in candidates} & lowered:
        return None  # GitHub resolves #Install to id="user-content-install" in JavaScript
    if truncated:
        return False, f"fragment #{fragment} not found in the part of the page we read"
    host = (parts.hostname or "").lower()
    if redirected:
        return False, f"fragment #{fragment} not found on the page redirected to"
    if page.server_anchors and host not in quirks.JS_ANCHOR_HOSTS:
        return True, f"missing anchor #{fragment}"
    if host in quirks.JS_ANCHOR_HOSTS:
        return False, f"fragment #{fragment} not in the HTML (this site resolves it in JavaScript)"
    return False, (
        f"fragment #{fragment} not found; the page has no ids in its HTML "
        "(its anchors may be built by JavaScript)"
    )


# ------------------------------------------------------------------------------ verdict


def _failure_judgement(fetch: FetchResult) -> Judgement:
    failure = fetch.failure
    error = fetch.error or (failure.value if failure else "unknown failure")
    if failure is Failure.PRIVATE:
        return Judgement(Verdict.SKIPPED, notes=("refused: private address (use --allow-private)",))
    if failure is Failure.DNS:
        # "Temporary failure in name resolution" (EAI_AGAIN) is our resolver, not the site.
        transient = "temporary failure" in error.lower() or "errno -3" in error.lower()
        return Judgement(
            Verdict.ERROR if transient else Verdict.BROKEN, error=error, network_failure=True
        )
    if failure is Failure.CONNECT:
        return Judgement(Verdict.ERROR, error=error, network_failure=True)
    if failure is Failure.REDIRECT_LOOP:
        return Judgement(Verdict.ERROR, error=f"redirect loop: {error}")
    if failure is Failure.TOO_MANY_REDIRECTS:
        return Judgement(Verdict.ERROR, error=f"too many redirects: {error}")
    return Judgement(Verdict.ERROR, error=error)


def verdict_for(fetch: FetchResult, resource: Resource, page: Page | None = None) -> Judgement:
    """Judge one fetch by the verdict rules (docs/architecture.md). Pure, never raises."""
    if fetch.failure is not None:
        return _failure_judgement(fetch)
    status = fetch.status or 0
    if page is None and fetch.body and is_html(fetch.headers, fetch.body):
        fragment = bool(_split(resource.url).fragment)  # anchors matter only then
        page = parse_page(fetch.body, fetch.headers, fetch.final_url, anchors=fragment)
    notes: list[str] = []
    if fetch.truncated:
        notes.append(f"body cut at {len(fetch.body)} bytes")
    accepted = status in resource.accept
    if not accepted and (wall := bot_wall(fetch, page.title if page else None)):
        return Judgement(Verdict.BLOCKED, error=f"{wall} (HTTP {status})", page=page)
    if not (accepted or 200 <= status < 300):
        return _status_judgement(status, page)
    if page is not None and 200 <= status < 300 and (reason := soft_404_reason(page, resource.url)):
        return Judgement(Verdict.BROKEN, error=reason, page=page)
    base = Judgement(Verdict.OK)
    if fetch.redirects:
        base = judge_redirects(fetch.url, fetch)  # the URL asked for, after any --remap
        if base.verdict is Verdict.BROKEN:
            return Judgement(Verdict.BROKEN, error=base.error, page=page)
    if accepted and not 200 <= status < 300:
        notes.append(f"HTTP {status} accepted by the catalog")
    missing = _fragment(fetch, resource, page)
    if missing is not None and missing[0]:
        return Judgement(Verdict.BROKEN, error=missing[1], page=page)
    if missing is not None:
        notes.append(missing[1])
    return Judgement(base.verdict, moved_to=base.moved_to, notes=(*base.notes, *notes), page=page)


def _status_judgement(status: int, page: Page | None) -> Judgement:
    """A non-2xx answer the catalog does not accept."""
    if status in (404, 410):
        return Judgement(Verdict.BROKEN, error=f"HTTP {status}", page=page)
    if status in quirks.BLOCKED_STATUSES:
        return Judgement(Verdict.BLOCKED, error=quirks.BLOCKED_STATUSES[status], page=page)
    if status in REDIRECT_STATUSES:
        return Judgement(Verdict.ERROR, error=f"HTTP {status} without a Location", page=page)
    return Judgement(Verdict.ERROR, error=f"HTTP {status}", page=page)


def _fragment(fetch: FetchResult, resource: Resource, page: Page | None) -> tuple[bool, str] | None:
    """`missing_fragment` for the page this fetch ended on (None: nothing to say)."""
    if page is None:
        return None
    moved_on = trivial_differences(fetch.url, fetch.final_url) is None
    elsewhere = bool(fetch.redirects) and moved_on
    return missing_fragment(resource.url, page, fetch.truncated, redirected=elsewhere)


def metadata_for(fetch: FetchResult, page: Page | None) -> Metadata:
    kind = media_type(fetch.headers)
    if kind in quirks.HTML_CONTENT_TYPES and page is None:
        return Metadata(content_type=kind)
    size = None
    if page is None and fetch.status is not None and 200 <= fetch.status < 300:
        length = fetch.headers.get("content-length", "")
        size = int(length) if length.isdigit() else None
    if page is None:
        return Metadata(content_type=kind, size_bytes=size)
    return Metadata(
        title=page.og_title or page.title,
        description=page.description,
        canonical_url=page.canonical_url,
        language=page.language,
        content_type=kind,
    )


# ------------------------------------------------------------------------------ checker


def wants_head(url: str) -> bool:
    """URLs that clearly name a file: a 2xx HEAD says all we need to know (a failing one is
    confirmed by GET)."""
    path = _split(url).path.lower()
    return path.endswith(quirks.NON_HTML_EXTENSIONS)


def needs_get_confirmation(fetch: FetchResult, judgement: Judgement) -> bool:
    """A failure judged from a HEAD answer must be confirmed by a GET (docs/architecture.md).

    Network-level failures (DNS, connect) and refused private addresses are the same whatever
    the method, so they need no second request.
    """
    if fetch.method != "HEAD" or not judgement.verdict.is_failure:
        return False
    return fetch.failure is None or not (
        fetch.failure.network_level or fetch.failure is Failure.PRIVATE
    )


def _answer(fetch: FetchResult) -> str:
    if fetch.status is not None and fetch.failure is None:
        return f"HTTP {fetch.status}"
    return fetch.error or (fetch.failure.value if fetch.failure else "no answer")


def confirmed_by_get(head: FetchResult, get: FetchResult, judgement: Judgement) -> Judgement:
    """The GET's judgement, with a note when HEAD said something else. The GET's body was
    cut on purpose: that is not worth a note unless the body is a page we read."""
    notes = judgement.notes
    if judgement.page is None:
        notes = tuple(n for n in notes if not n.startswith("body cut at "))
    if head.status != get.status or head.failure is not get.failure:
        notes = (*notes, f"HEAD answered {_answer(head)}, GET {_answer(get)}")
    return dataclasses.replace(judgement, notes=notes)


def result_for(
    resource: Resource,
    checker: str,
    fetch: FetchResult,
    judgement: Judgement,
    *,
    elapsed_ms: int | None = None,
    first_ms: int | None = None,
    meta: Metadata | None = None,
) -> CheckResult:
    """The CheckResult of one judged fetch (shared by the checkers that read web pages)."""
    return CheckResult(
        resource_id=resource.id,
        url=resource.url,
        verdict=judgement.verdict,
        checker=checker,
        status=fetch.status,
        final_url=fetch.final_url,
        redirects=fetch.redirects,
        elapsed_ms=fetch.elapsed_ms if elapsed_ms is None else elapsed_ms,
        first_ms=fetch.first_ms if first_ms is None else first_ms,
        error=judgement.error,
        note=judgement.note,
        moved_to=judgement.moved_to,
        network_failure=judgement.network_failure,
        meta=meta or Metadata(),
    )


class WebChecker:
    name = "web"

    def handles(self, resource: Resource) -> bool:
        return resource.kind is not Kind.FILE

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        head = wants_head(resource.url)
        if head:
            fetch = await ctx.http.fetch(resource.url, method="HEAD", want_body=False)
        else:
            fetch = await ctx.http.fetch(resource.url, max_bytes=HTML_MAX_BYTES)
        elapsed, first = fetch.elapsed_ms, fetch.first_ms
        if head and fetch.ok and not fetch.body and is_html(fetch.headers, fetch.body):
            # A "file" URL that answers with a web page (a landing page, a soft-404): read it.
            fetch = await ctx.http.fetch(resource.url, max_bytes=HTML_MAX_BYTES)
            elapsed += fetch.elapsed_ms
        judgement = verdict_for(fetch, resource)
        if needs_get_confirmation(fetch, judgement):
            # docs/architecture.md: no failure verdict from a HEAD answer alone. Generated downloads
            # answer HEAD with 404/500 and GET with 200; the GET is streamed and closed once
            # CONFIRM_MAX_BYTES are read, so a 2 GB file costs 64 KiB.
            head_fetch = fetch
            fetch = await ctx.http.fetch(resource.url, max_bytes=CONFIRM_MAX_BYTES)
            elapsed += fetch.elapsed_ms
            judgement = confirmed_by_get(head_fetch, fetch, verdict_for(fetch, resource))
        # A not-found page or a challenge says nothing about the resource: keep only its type.
        page = judgement.page if judgement.verdict in (Verdict.OK, Verdict.MOVED) else None
        meta = metadata_for(fetch, page) if ctx.want_metadata else Metadata()
        return result_for(
            resource, self.name, fetch, judgement, elapsed_ms=elapsed, first_ms=first, meta=meta
        )
