"""The HTTP engine every checker shares: one client, polite limits, retries, capped bodies.

One job per module: `results` (what a fetch produces), `guard` (which addresses may be
connected to), `transport` (a connection pool per host), `politeness` (limits and 429
pacing), `body` (capped decoding); this module follows redirects, retries and keeps the
deadline.

Checkers call `HttpEngine.fetch`; expected failures (DNS, timeouts, refused addresses) come
back in `FetchResult.failure`, never as exceptions. Politeness is enforced here, per request,
so every checker gets it without thinking: a global limit, and per host a concurrency limit
and a minimum interval between request starts.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from monitor import __version__
from monitor.config.catalog import EngineSettings, HostLimits
from monitor.domain.models import Hop
from monitor.net.body import drain, read_capped
from monitor.net.guard import AddressPolicy, GuardedBackend, Resolver, default_policy
from monitor.net.politeness import MAX_HOST_PAUSE_S, Budget, Politeness
from monitor.net.results import (
    HTTPCORE_ERRORS,
    REDIRECT_STATUSES,
    Answer,
    Failure,
    FetchResult,
    classify_exception,
    retry_after_s,
)
from monitor.net.streams import AsyncioBackend
from monitor.net.transport import PoolPerHost

# Failure, FetchResult and retry_after_s are imported from here by checkers and tests.
__all__ = [
    "REDIRECT_STATUSES",
    "Failure",
    "FetchResult",
    "HttpEngine",
    "retry_after_s",
]

DEFAULT_USER_AGENT = f"monitor/{__version__} (link checker; +https://github.com/)"
# httpx's client defaults, which every request carried while httpx's client sent them.
HTTPX_DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}
DEFAULT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    # Only encodings we can decode under the size cap ourselves (see monitor.net.body).
    "Accept-Encoding": "gzip, deflate",
}
# Headers that carry credentials: dropped when a redirect leaves the origin (scheme, host and
# port) they were meant for, and not given back if a later hop returns there.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
MAX_REDIRECTS = 10
# Servers that refuse HEAD (or answer it wrongly) while GET works.
HEAD_REFUSED_STATUSES = frozenset({403, 405, 501})


class HttpEngine:
    """Shared async HTTP client. Use as an async context manager.

    `remap` rewrites every URL before it is fetched (`--remap`, tests pointing real-looking
    URLs at loopback servers). `address_policy` decides which resolved addresses may be
    connected to (ignored when `settings.allow_private`); `resolver` is the DNS seam. Both are
    bypassed when a custom `transport` is given.
    """

    def __init__(
        self,
        settings: EngineSettings | None = None,
        hosts: dict[str, HostLimits] | None = None,
        *,
        remap: Sequence[tuple[re.Pattern[str], str]] = (),
        address_policy: AddressPolicy = default_policy,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings or EngineSettings()
        self.hosts = {name.lower(): limits for name, limits in (hosts or {}).items()}
        self.remap = tuple(remap)
        # The headers httpx's client sent (its defaults, then ours), in its order; requests
        # are sent by httpcore directly (see monitor.net.transport for why).
        headers = httpx.Headers(HTTPX_DEFAULT_HEADERS)
        headers.update({"User-Agent": self.settings.user_agent or DEFAULT_USER_AGENT})
        headers.update(DEFAULT_HEADERS)
        headers.update(self.settings.headers)
        self.headers = headers
        self._raw_headers = headers.raw
        read = self.settings.read_timeout_s
        self._timeouts = {
            "connect": self.settings.connect_timeout_s,
            "read": read,
            "write": read,
            "pool": read,
        }
        # Kept across requests, as a browser (and httpx's client) would: some sites set a
        # cookie and redirect to themselves to see it come back.
        self.cookies = httpx.Cookies()
        self.backend = GuardedBackend(
            None if self.settings.allow_private else address_policy,
            resolver,
            inner=AsyncioBackend(),  # not anyio's: see monitor.net.streams
        )
        # Environment proxies are never used: they would bypass the address guard.
        self.pools = PoolPerHost(self.backend)
        self.politeness = Politeness(self.settings, self.hosts)

    async def __aenter__(self) -> HttpEngine:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.pools.aclose()

    @property
    def address_policy(self) -> AddressPolicy | None:
        """The policy every connection passes (None with `allow_private`)."""
        return self.backend.policy

    async def vet(self, url: str) -> str | None:
        """Why connecting to `url`'s host would be refused, or None (connections made by
        libraries outside this engine, e.g. yt-dlp, are vetted here first).

        A name that does not resolve is not a refusal: the library will find that out.
        """
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        reason = await self.backend.refusal(parts.hostname or "", port)
        return None if reason is None else f"refused to connect: {reason}"

    # -- politeness ---------------------------------------------------------------------------

    @property
    def resolved_names(self) -> set[str]:
        """Host names that resolved during this engine's life: proof that DNS works."""
        return self.backend.resolved_names

    # -- fetching -----------------------------------------------------------------------------

    def host_limits(self, host: str) -> tuple[int, float]:
        """(concurrency, min seconds between request starts) for `host`."""
        return self.politeness.host_limits(host)

    def remap_url(self, url: str) -> str:
        for pattern, replacement in self.remap:
            if pattern.search(url):
                return pattern.sub(replacement, url, count=1)
        return url

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        want_body: bool = True,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
        content: bytes | None = None,
        retry_failures: bool = True,
    ) -> FetchResult:
        """Fetch `url`, following redirects one hop at a time and recording the chain.

        `content` is a request body (GitHub's GraphQL API takes only POST); a 303 drops it.
        `retry_failures=False` (a second opinion, itself the retry): a failure below HTTP
        (refused, reset) is not retried; 429 and 5xx answers still are.

        The whole fetch (retries, waits, redirects, body) is bounded by `deadline_s`, so a
        server that drips its body a byte a second cannot hold a check forever. A HEAD that
        the server refuses is asked again once as GET (without reading its body).
        """
        start = time.monotonic()
        first = self.remap_url(url)
        chain = _Chain(requested_url=url, url=first, current=first, method=method.upper())
        chain.content, chain.retry_failures = content, retry_failures
        try:
            async with asyncio.timeout(self.settings.deadline_s) as timeout:
                budget = Budget(timeout)
                result = await self._follow(
                    chain,
                    headers or {},
                    want_body,
                    max_bytes or self.settings.max_body_bytes,
                    follow_redirects,
                    budget,
                )
        except TimeoutError:
            result = chain.result(
                failure=Failure.DEADLINE,
                error=f"no complete answer within the {self.settings.deadline_s:g} s deadline",
            )
        return replace(result, elapsed_ms=int((time.monotonic() - start) * 1000))

    async def _follow(
        self,
        chain: _Chain,
        headers: dict[str, str],
        want_body: bool,
        cap: int,
        follow_redirects: bool,
        budget: Budget,
    ) -> FetchResult:
        origin = _origin(chain.url)
        seen = {chain.current}
        while True:
            answer = await self._ask(chain, headers, want_body, cap, budget)
            chain.attempts += answer.attempts
            if (
                chain.method == "HEAD"
                and not chain.fell_back
                and (
                    answer.status in HEAD_REFUSED_STATUSES
                    or answer.failure in (Failure.RESET, Failure.PROTOCOL)
                )
            ):
                chain.method, chain.fell_back, want_body = "GET", True, False
                continue
            if answer.failure is not None:
                return chain.result(answer, failure=answer.failure, error=answer.error)
            location = answer.headers.get("location")
            status = answer.status or 0
            if not (follow_redirects and status in REDIRECT_STATUSES and location):
                return chain.result(answer)
            chain.hops.append(Hop(url=chain.current, status=status))
            target = self.remap_url(urljoin(chain.current, location.strip()))
            if target in seen or len(chain.hops) > MAX_REDIRECTS:
                failure = Failure.REDIRECT_LOOP if target in seen else Failure.TOO_MANY_REDIRECTS
                chain.current = target
                return chain.result(
                    answer, failure=failure, error=f"{failure.value.replace('_', ' ')} at {target}"
                )
            seen.add(target)
            if _origin(target) != origin:
                headers = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
            if status == 303:
                chain.method = "GET" if chain.method != "HEAD" else "HEAD"
                chain.content = None
            chain.current = target

    async def _ask(
        self,
        chain: _Chain,
        headers: dict[str, str],
        want_body: bool,
        cap: int,
        budget: Budget,
    ) -> Answer:
        """One request with bounded retries, exponential backoff with jitter, Retry-After."""
        method, url, content = chain.method, chain.current, chain.content
        attempt = 0
        while True:
            attempt += 1
            answer = await self._once(method, url, headers, want_body, cap, budget, content)
            if not chain.asked:  # the response time is the first attempt's (issue 14)
                chain.asked, chain.first_ms = True, answer.answered_ms
            if attempt > self.settings.retries or not answer.retryable:
                return replace(answer, attempts=attempt)
            if answer.failure is not None and not chain.retry_failures:
                # The second opinion is itself the retry: the first check already waited out
                # its backoffs, and a server refusing again is not worth them twice.
                return replace(answer, attempts=attempt)
            wait = retry_after_s(answer.headers.get("retry-after"))
            if wait is not None and wait > self.settings.retry_after_cap_s:
                return replace(answer, attempts=attempt)  # told to come back much later
            if wait is None:
                backoff = self.settings.backoff_s * 2 ** (attempt - 1)
                wait = min(backoff, self.settings.backoff_max_s) * random.uniform(0.5, 1.5)  # noqa: S311
            if budget.left() <= wait:
                return replace(answer, attempts=attempt)  # better the answer than the deadline
            await asyncio.sleep(wait)

    async def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        want_body: bool,
        cap: int,
        budget: Budget,
        content: bytes | None = None,
    ) -> Answer:
        host = urlsplit(url).hostname or ""
        async with self.politeness.slot(host, budget) as started:
            try:
                target = httpx.URL(url)
                sent = time.monotonic()
                response = await self.pools.send(self._request(method, target, headers, content))
                answered_ms = int((time.monotonic() - sent) * 1000)
            except (*HTTPCORE_ERRORS, httpx.InvalidURL, ValueError) as exc:
                failure, error = classify_exception(exc)
                return Answer(failure=failure, error=error)
            try:
                status = response.status
                answer_headers = httpx.Headers(response.headers)
                if status == 429:
                    told = retry_after_s(answer_headers.get("retry-after"))
                    pause = self.settings.backoff_s if told is None else told
                    pause = min(pause, self.settings.retry_after_cap_s, MAX_HOST_PAUSE_S)
                    self.politeness.throttled(host, url, pause, started)
                else:
                    self.politeness.accepted(host, started)
                if "set-cookie" in answer_headers:
                    request = httpx.Request(method, target)
                    self.cookies.extract_cookies(
                        httpx.Response(status, headers=answer_headers, request=request)
                    )
                version = response.extensions.get("http_version", b"HTTP/1.1")
                http_version = version.decode("ascii", errors="ignore")
                stream = response.stream
                assert isinstance(stream, AsyncIterable)
                body, truncated = b"", False
                if want_body and method != "HEAD" and status not in REDIRECT_STATUSES:
                    encoding = answer_headers.get("content-encoding", "")
                    body, truncated = await read_capped(stream, encoding, cap)
                else:
                    await drain(stream, http_version, answer_headers.get("content-length"))
                return Answer(
                    status=status,
                    headers=answer_headers,
                    body=body,
                    truncated=truncated,
                    http_version=http_version,
                    answered_ms=answered_ms,
                )
            except HTTPCORE_ERRORS as exc:
                failure, error = classify_exception(exc)
                return Answer(status=response.status, failure=failure, error=error)
            finally:
                await response.aclose()

    def _request(
        self, method: str, url: httpx.URL, headers: dict[str, str], content: bytes | None
    ) -> httpcore.Request:
        """The request httpx's client built: its headers and ours, then the caller's, a
        Host header first, the client's cookies, and a length for a body."""
        raw = self._raw_headers
        if headers or content is not None or method in ("POST", "PUT", "PATCH") or self.cookies:
            merged = self.headers.copy()
            merged.update(headers)
            sends_body = content is not None or method in ("POST", "PUT", "PATCH")
            if sends_body and "content-length" not in merged and "transfer-encoding" not in merged:
                merged["Content-Length"] = str(len(content or b""))
            if self.cookies:
                request = httpx.Request(method, url, headers=merged)
                self.cookies.set_cookie_header(request)
                merged = request.headers
            raw = merged.raw
        if not any(key.lower() == b"host" for key, _ in raw):
            raw = [(b"Host", url.netloc), *raw]
        return httpcore.Request(
            method,
            httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=raw,
            content=content,
            extensions={"timeout": self._timeouts},
        )


@dataclass
class _Chain:
    """A fetch in progress: enough to build a FetchResult whenever it stops."""

    requested_url: str
    url: str
    current: str
    method: str
    hops: list[Hop] = field(default_factory=list)
    attempts: int = 0
    fell_back: bool = False
    content: bytes | None = None  # request body, dropped by a 303
    retry_failures: bool = True  # False in a second opinion (see `HttpEngine.fetch`)
    asked: bool = False  # the first request has been sent
    first_ms: int | None = None  # its first attempt's time to an answer

    def logical(self, url: str) -> str:
        """`url` as the caller knows it: `--remap` is transport only, so redirect chains,
        final URLs (and the moves judged from them) speak of the URL asked for, never of the
        mirror or test server it was fetched from."""
        if self.url == self.requested_url:
            return url
        transport, logical = _remap_prefixes(self.requested_url, self.url)
        rest = url[len(transport) :]
        if url.startswith(transport) and (
            rest[:1] in ("", "/", "?", "#") or transport.endswith("/")
        ):
            return logical + rest
        return url

    def result(
        self,
        answer: Answer | None = None,
        *,
        failure: Failure | None = None,
        error: str | None = None,
    ) -> FetchResult:
        answer = answer or Answer()
        return FetchResult(
            url=self.url,
            final_url=self.logical(self.current),
            method=self.method,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            truncated=answer.truncated,
            redirects=tuple(replace(h, url=self.logical(h.url)) for h in self.hops),
            failure=failure,
            error=error,
            attempts=max(self.attempts, 1),
            first_ms=self.first_ms,
            requested_url=self.requested_url,
            fell_back_to_get=self.fell_back,
            http_version=answer.http_version,
        )


def _remap_prefixes(logical: str, transport: str) -> tuple[str, str]:
    """The parts a remap rewrote: (transport prefix, logical prefix), found as what is left of
    both URLs once their longest common tail (from a "/", "?" or "#" past the host) is cut."""

    def host_end(url: str) -> int:
        parts = urlsplit(url)
        return len(parts.scheme) + 3 + len(parts.netloc)

    n = 0
    limit = min(len(logical) - host_end(logical), len(transport) - host_end(transport))
    while n < limit and logical[-1 - n] == transport[-1 - n]:
        n += 1
    while n > 0 and logical[-n] not in "/?#":
        n -= 1
    return transport[: len(transport) - n], logical[: len(logical) - n]


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), parts.hostname, port or default
