"""The HTTP engine every checker shares: one client, polite limits, retries, capped bodies.

Checkers call `HttpEngine.fetch`; expected failures (DNS, timeouts, refused addresses) come
back in `FetchResult.failure`, never as exceptions. Politeness is enforced here, per request,
so every checker gets it without thinking: a global limit, and per host a concurrency limit
and a minimum interval between request starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import ssl
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from monitor import __version__
from monitor.config.catalog import EngineSettings, HostLimits
from monitor.domain.models import Hop
from monitor.net.guard import (
    AddressPolicy,
    AddressRefused,
    GuardedBackend,
    NameNotResolved,
    Resolver,
    default_policy,
)

DEFAULT_USER_AGENT = f"monitor/{__version__} (link checker; +https://github.com/)"
DEFAULT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    # Only encodings we can decode under the size cap ourselves (see _CappedBody).
    "Accept-Encoding": "gzip, deflate",
}
# Headers that carry credentials: dropped when a redirect leaves the host they were meant for.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
# Worth asking again: rate limited, or a gateway/overload answer that usually passes.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Servers that refuse HEAD (or answer it wrongly) while GET works.
HEAD_REFUSED_STATUSES = frozenset({403, 405, 501})
# A host that keeps answering 429 is never asked more often than this (seconds apart).
MAX_ADAPTIVE_INTERVAL_S = 2.0
# A slowed-down host is eased back one step (interval surplus halved, one more request in
# flight) after each quiet period this long without a 429: a success count recovered far too
# slowly on a strict host (finding 13: ~1.3 links/s on a host allowing 8/s).
EASE_AFTER_QUIET_S = 3.0
# A 429 pauses its whole host at most this long (the asking request may wait longer).
MAX_HOST_PAUSE_S = 10.0
# Unread bodies up to this size are drained so the connection can be reused (HTTP/1.1).
DRAIN_BYTES = 64 * 1024


class Failure(StrEnum):
    """Why a fetch produced no usable HTTP answer."""

    DNS = "dns"  # the name does not resolve (NXDOMAIN or no resolver at all)
    CONNECT = "connect"  # refused, unreachable, TLS handshake failed
    TIMEOUT = "timeout"
    RESET = "reset"  # connection dropped mid-answer
    DEADLINE = "deadline"  # the overall per-resource deadline ran out
    TOO_LARGE = "too_large"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    PRIVATE = "private_address"  # refused: the address is loopback/private/link-local
    PROTOCOL = "protocol"  # malformed answer, unsupported URL

    @property
    def network_level(self) -> bool:
        """Below HTTP: evidence about our network as much as about the site."""
        return self in (Failure.DNS, Failure.CONNECT)


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL fetched first (after --remap)
    final_url: str
    method: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""  # decoded (gzip/deflate undone), at most max_bytes
    truncated: bool = False
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: int = 0
    failure: Failure | None = None
    error: str | None = None
    attempts: int = 1
    requested_url: str = ""  # the URL as the caller gave it (before --remap)
    fell_back_to_get: bool = False  # HEAD was refused and GET answered instead
    http_version: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None and self.status is not None and 200 <= self.status < 300


def _classify_exception(exc: BaseException) -> tuple[Failure, str]:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AddressRefused):
            return Failure.PRIVATE, f"refused to connect: {cause}"
        if isinstance(cause, NameNotResolved):
            return Failure.DNS, f"DNS lookup failed: {cause}"
        cause = cause.__cause__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT, f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if any(
            marker in lowered
            for marker in (
                "name or service not known",
                "nodename nor servname",
                "temporary failure in name resolution",
                "no address associated",
                "errno -2",
                "errno -3",
                "errno -5",
                "getaddrinfo failed",
            )
        ):
            return Failure.DNS, f"DNS lookup failed: {text}"
        return Failure.CONNECT, f"connection failed: {text}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return Failure.RESET, f"connection reset: {text}"
    return Failure.PROTOCOL, f"{type(exc).__name__}: {text}"


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _CappedBody:
    """Decodes gzip/deflate chunk by chunk and stops at `cap` decoded bytes.

    httpx decodes each network chunk whole, so a 64 KB chunk of a gzip bomb becomes ~64 MB in
    memory before any cap can act; zlib's `max_length` lets us stop inside the chunk.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.encoding = encoding.strip().lower()
        self.decoder: zlib._Decompress | None = None
        if self.encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, raw: bytes) -> bool:
        """Add a raw chunk; False once the cap is reached (stop reading)."""
        if self.encoding == "deflate" and self.decoder is None and raw:
            # "deflate" is zlib-wrapped per the RFC, raw deflate on some servers.
            wrapped = len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self.decoder is None:
            self._add(raw)
            return not self.truncated
        try:
            self._add(self.decoder.decompress(raw, self.cap - self.size + 1))
            while not self.truncated and self.decoder.unconsumed_tail:
                tail = self.decoder.unconsumed_tail
                self._add(self.decoder.decompress(tail, self.cap - self.size + 1))
        except zlib.error:
            return False  # keep what decoded; a corrupt tail does not make the page absent
        return not self.truncated

    def _add(self, data: bytes) -> None:
        room = self.cap - self.size
        if len(data) > room:
            data, self.truncated = data[:room], True
        if data:
            self.chunks.append(data)
            self.size += len(data)

    def value(self) -> bytes:
        return b"".join(self.chunks)


@dataclass
class _Gate:
    """One host's politeness: at most `sem` requests at once, starts `interval` apart."""

    sem: asyncio.Semaphore
    interval: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    floor: float = 0.0  # easing back never goes faster than this (starts as configured)
    calm_until: float = 0.0  # 429s before this belong to a burst already answered
    successes: int = 0
    limited_urls: set[str] = field(default_factory=set)
    # A 429 lowers `limit` (requests in flight, <= the semaphore's size) before it widens the
    # interval: strict sites mostly count concurrent requests, and a host allowed 3 in flight
    # at 8/s is far better served by 2 in flight than by one request every 2 s.
    limit: int = 1_000_000
    size: int = 1_000_000  # the configured concurrency, where easing stops
    in_flight: int = 0
    eased_at: float = 0.0  # the last 429 or easing step; the next step comes a quiet period on
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    def ease(self, now: float) -> None:
        """One recovery step per quiet period without a 429 (time-based, not count-based)."""
        while self.eased_at and now - self.eased_at >= EASE_AFTER_QUIET_S:
            self.eased_at += EASE_AFTER_QUIET_S
            self.interval = max(self.floor, self.floor + (self.interval - self.floor) / 2)
            if self.interval - self.floor < 0.005:
                self.interval = self.floor
            self.limit += 1
            if self.interval == self.floor and self.limit >= self.size:
                self.eased_at = 0.0  # fully recovered
                self.limit = self.size
                break


@dataclass(frozen=True)
class _Answer:
    """One request's outcome, before redirects and retries are decided."""

    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    truncated: bool = False
    failure: Failure | None = None
    error: str | None = None
    http_version: str = ""
    attempts: int = 1

    @property
    def retryable(self) -> bool:
        # Not a timeout: a server silent for a whole read timeout is asked again by the
        # second opinion, which overlaps with everything else (DESIGN.md); retrying it here
        # made one hanging link cost the whole 60 s deadline and four requests.
        if self.failure is not None:
            return self.failure in (Failure.CONNECT, Failure.RESET)
        return self.status in RETRY_STATUSES


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with our network backend (httpx has no public way to pass one)."""

    def __init__(
        self, backend: GuardedBackend, limits: httpx.Limits, ssl_context: ssl.SSLContext
    ) -> None:
        super().__init__(verify=ssl_context, http2=True, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=True,
            network_backend=backend,
        )


class _CountedStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed (the pool is then idle)."""

    def __init__(self, inner: httpx.AsyncByteStream, pool: _HostPool) -> None:
        self.inner, self.pool, self.closed = inner, pool, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield chunk

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            self.pool.active -= 1
            await self.inner.aclose()


@dataclass
class _HostPool:
    transport: _GuardedTransport
    active: int = 0


class _PoolPerHost(httpx.AsyncBaseTransport):
    """One small connection pool per origin instead of one big pool.

    httpcore's pool does O(connections²) bookkeeping and a socket poll per connection on
    every request (httpcore 1.0 `_assign_requests_to_connections`); with 150 connections
    across 50 hosts that was most of our CPU. Per origin the pool holds at most the host's
    concurrency. Idle pools beyond MAX_IDLE_POOLS are closed, oldest first, so a list with
    thousands of hosts does not keep thousands of sockets open.
    """

    MAX_IDLE_POOLS = 64

    def __init__(self, backend: GuardedBackend, connections_per_host: int) -> None:
        self.backend = backend
        self.limits = httpx.Limits(
            max_connections=connections_per_host,
            max_keepalive_connections=connections_per_host,
            keepalive_expiry=30,
        )
        self.ssl_context = httpx.create_ssl_context()
        self.pools: OrderedDict[tuple[bytes, bytes, int | None], _HostPool] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = _HostPool(
                _GuardedTransport(self.backend, self.limits, self.ssl_context)
            )
            await self._evict()
        else:
            self.pools.move_to_end(key)
        pool.active += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.active -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CountedStream(response.stream, pool)
        return response

    async def _evict(self) -> None:
        idle = [key for key, pool in self.pools.items() if pool.active == 0]
        for key in idle[: max(0, len(idle) - self.MAX_IDLE_POOLS)]:
            await self.pools.pop(key).transport.aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()


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
        transport: httpx.AsyncBaseTransport | None = None,
        remap: Sequence[tuple[re.Pattern[str], str]] = (),
        address_policy: AddressPolicy = default_policy,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings or EngineSettings()
        self.hosts = {name.lower(): limits for name, limits in (hosts or {}).items()}
        self.remap = tuple(remap)
        headers = {"User-Agent": self.settings.user_agent or DEFAULT_USER_AGENT}
        headers.update(DEFAULT_HEADERS)
        headers.update(self.settings.headers)
        self.backend = GuardedBackend(
            None if self.settings.allow_private else address_policy, resolver
        )
        # a host's pool needs its concurrency, plus one for a connection still closing
        per_host = max([self.settings.per_host_concurrency]
                       + [h.concurrency or 0 for h in self.hosts.values()]) + 1  # fmt: skip
        self.client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(
                self.settings.read_timeout_s, connect=self.settings.connect_timeout_s
            ),
            follow_redirects=False,
            transport=transport or _PoolPerHost(self.backend, per_host),
            # Environment proxies would bypass the address guard and the pool limits.
            trust_env=False,
        )
        self._global: asyncio.Semaphore | None = None
        self._gates: dict[str, _Gate] = {}

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
        await self.client.aclose()

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

    def host_limits(self, host: str) -> tuple[int, float]:
        """(concurrency, min seconds between request starts) for `host`."""
        override = self.hosts.get(host.lower())
        concurrency = self.settings.per_host_concurrency
        interval_ms = self.settings.min_interval_ms
        if override is not None:
            concurrency = override.concurrency or concurrency
            if override.min_interval_ms is not None:
                interval_ms = override.min_interval_ms
        return concurrency, interval_ms / 1000

    def _gate(self, host: str) -> _Gate:
        gate = self._gates.get(host)
        if gate is None:
            concurrency, interval = self.host_limits(host)
            gate = _Gate(
                asyncio.Semaphore(concurrency),
                interval,
                floor=interval,
                limit=concurrency,
                size=concurrency,
            )
            self._gates[host] = gate
        return gate

    @contextlib.asynccontextmanager
    async def _slot(self, host: str, budget: _Budget) -> AsyncIterator[None]:
        """Hold a host slot and a global slot for one request.

        The global slot is taken last, once the host's interval has passed, so requests
        waiting for a slow host never hold global slots other hosts could use. Time spent
        waiting here is politeness, not the server's slowness: the deadline is moved by it.
        """
        if self._global is None:
            self._global = asyncio.Semaphore(self.settings.concurrency)
        gate = self._gate(host)
        budget.pause()
        async with gate.sem:
            async with gate.cond:  # a host slowed down by 429s has fewer requests in flight
                while True:
                    gate.ease(time.monotonic())
                    if gate.in_flight < gate.limit:
                        break
                    # woken by a release, or by time: a slow or hanging request holding the
                    # only slot must not hold back the easing too
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(gate.cond.wait(), EASE_AFTER_QUIET_S)
                gate.in_flight += 1
            try:
                if gate.interval > 0 or gate.next_start:
                    async with gate.lock:
                        # a loop: a 429 elsewhere may push next_start back while we sleep
                        while (delay := gate.next_start - time.monotonic()) > 0:  # noqa: ASYNC110
                            await asyncio.sleep(delay)
                        await self._global.acquire()
                        gate.next_start = time.monotonic() + gate.interval
                else:
                    await self._global.acquire()
                budget.resume()
                try:
                    yield
                finally:
                    self._global.release()
            finally:
                async with gate.cond:
                    gate.in_flight -= 1
                    gate.ease(time.monotonic())
                    gate.cond.notify_all()

    # -- fetching -----------------------------------------------------------------------------

    def _throttled(self, host: str, url: str, wait: float) -> None:
        """The host said "too many requests": pause it for everyone, and slow down.

        Only a URL's first 429 counts: a URL that is refused forever says nothing about our
        pace. A burst of 429s (one per calm window) halves the requests the host may have in
        flight and doubles its interval (up to MAX_ADAPTIVE_INTERVAL_S); `_Gate.ease` undoes
        one step per quiet EASE_AFTER_QUIET_S, so a strict site is asked near the pace it
        accepts, with a 429 (and its Retry-After pause) now and then, never a flood.
        """
        gate = self._gate(host)
        if url in gate.limited_urls:
            return
        gate.limited_urls.add(url)
        now = time.monotonic()
        gate.next_start = max(gate.next_start, now + wait)
        gate.successes = 0
        if now >= gate.calm_until:
            gate.limit = max(1, min(gate.limit, gate.in_flight + 1) // 2)
            gate.interval = min(max(gate.interval * 2, 0.1), MAX_ADAPTIVE_INTERVAL_S)
            gate.calm_until = now + wait + gate.interval
        gate.eased_at = now + wait  # the quiet period starts when the pause ends

    def _answered(self, host: str) -> None:
        gate = self._gates.get(host)
        if gate is not None:
            gate.successes += 1

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
                budget = _Budget(timeout)
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
        budget: _Budget,
    ) -> FetchResult:
        origin_host = urlsplit(chain.url).hostname
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
            if urlsplit(target).hostname != origin_host:
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
        budget: _Budget,
    ) -> _Answer:
        """One request with bounded retries, exponential backoff with jitter, Retry-After."""
        method, url, content = chain.method, chain.current, chain.content
        attempt = 0
        while True:
            attempt += 1
            answer = await self._once(method, url, headers, want_body, cap, budget, content)
            host = urlsplit(url).hostname or ""
            if answer.status != 429:
                self._answered(host)
            else:
                told = retry_after_s(answer.headers.get("retry-after"))
                pause = self.settings.backoff_s if told is None else told
                pause = min(pause, self.settings.retry_after_cap_s, MAX_HOST_PAUSE_S)
                self._throttled(host, url, pause)
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
        budget: _Budget,
        content: bytes | None = None,
    ) -> _Answer:
        async with self._slot(urlsplit(url).hostname or "", budget):
            try:
                request = self.client.build_request(method, url, headers=headers, content=content)
                response = await self.client.send(request, stream=True)
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                failure, error = _classify_exception(exc)
                return _Answer(failure=failure, error=error)
            try:
                status = response.status_code
                body, truncated = b"", False
                if want_body and method != "HEAD" and status not in REDIRECT_STATUSES:
                    body, truncated = await _read_capped(response, cap)
                else:
                    await _drain(response)
                return _Answer(
                    status=status,
                    headers=response.headers,
                    body=body,
                    truncated=truncated,
                    http_version=response.http_version,
                )
            except httpx.HTTPError as exc:
                failure, error = _classify_exception(exc)
                return _Answer(status=response.status_code, failure=failure, error=error)
            finally:
                await response.aclose()


class _Budget:
    """A fetch's deadline, which politeness waits push back (they are our choice)."""

    def __init__(self, timeout: asyncio.Timeout) -> None:
        self.timeout = timeout
        self.paused_left = float("inf")

    def pause(self) -> None:
        self.paused_left = self.left()
        self.timeout.reschedule(None)

    def resume(self) -> None:
        if self.paused_left != float("inf"):
            self.timeout.reschedule(asyncio.get_running_loop().time() + self.paused_left)

    def left(self) -> float:
        when = self.timeout.when()
        return float("inf") if when is None else when - asyncio.get_running_loop().time()


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

    def result(
        self,
        answer: _Answer | None = None,
        *,
        failure: Failure | None = None,
        error: str | None = None,
    ) -> FetchResult:
        answer = answer or _Answer()
        return FetchResult(
            url=self.url,
            final_url=self.current,
            method=self.method,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            truncated=answer.truncated,
            redirects=tuple(self.hops),
            failure=failure,
            error=error,
            attempts=max(self.attempts, 1),
            requested_url=self.requested_url,
            fell_back_to_get=self.fell_back,
            http_version=answer.http_version,
        )


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    body = _CappedBody(response.headers.get("content-encoding", ""), cap)
    async for raw in response.aiter_raw():
        if not body.feed(raw):
            break
    return body.value(), body.truncated


async def _drain(response: httpx.Response) -> None:
    """Read a small unwanted body so an HTTP/1.1 connection stays reusable."""
    length = response.headers.get("content-length")
    if response.http_version != "HTTP/1.1" or not length or not length.isdigit():
        return
    if int(length) <= DRAIN_BYTES:
        async for _ in response.aiter_raw():
            pass
