"""The HTTP engine every checker shares: one client, redirects one hop at a time, capped bodies.

Checkers call `HttpEngine.fetch`; expected failures (DNS, timeouts, oversize bodies) come back
in `FetchResult.failure`, never as exceptions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from monitor import __version__
from monitor.catalog import EngineSettings, HostLimits
from monitor.models import Hop

DEFAULT_USER_AGENT = f"monitor/{__version__} (link checker; +https://github.com/)"
# Headers that carry credentials: dropped when a redirect leaves the host they were meant for.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


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
    url: str
    final_url: str
    method: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    truncated: bool = False
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: int = 0
    failure: Failure | None = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.failure is None and self.status is not None and 200 <= self.status < 300


def _classify_exception(exc: Exception) -> tuple[Failure, str]:
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


class HttpEngine:
    """Shared async HTTP client. Use as an async context manager."""

    def __init__(
        self,
        settings: EngineSettings | None = None,
        hosts: dict[str, HostLimits] | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or EngineSettings()
        self.hosts = hosts or {}
        headers = {"User-Agent": self.settings.user_agent or DEFAULT_USER_AGENT}
        headers.update(self.settings.headers)
        self.client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(
                self.settings.read_timeout_s, connect=self.settings.connect_timeout_s
            ),
            follow_redirects=False,
            transport=transport,
        )

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
    ) -> FetchResult:
        """Fetch `url`, following redirects one hop at a time and recording the chain.

        `content` is a request body (GitHub's GraphQL API takes only POST); a 303 drops it.
        """
        start = time.monotonic()
        cap = max_bytes or self.settings.max_body_bytes
        origin_host = urlsplit(url).hostname
        current = url
        hops: list[Hop] = []
        seen = {url}
        send_headers = dict(headers or {})
        while True:
            try:
                request = self.client.build_request(
                    method, current, headers=send_headers, content=content
                )
                response = await self.client.send(request, stream=True)
            except (httpx.HTTPError, ValueError) as exc:
                failure, error = _classify_exception(exc)
                return FetchResult(
                    url=url,
                    final_url=current,
                    method=method,
                    redirects=tuple(hops),
                    elapsed_ms=int((time.monotonic() - start) * 1000),
                    failure=failure,
                    error=error,
                )
            try:
                location = response.headers.get("location")
                if follow_redirects and response.status_code in REDIRECT_STATUSES and location:
                    hops.append(Hop(url=current, status=response.status_code))
                    target = urljoin(current, location)
                    if target in seen or len(hops) > MAX_REDIRECTS:
                        failure = (
                            Failure.REDIRECT_LOOP
                            if target in seen
                            else (Failure.TOO_MANY_REDIRECTS)
                        )
                        return FetchResult(
                            url=url,
                            final_url=target,
                            method=method,
                            status=response.status_code,
                            headers=response.headers,
                            redirects=tuple(hops),
                            elapsed_ms=int((time.monotonic() - start) * 1000),
                            failure=failure,
                            error=f"{failure.value.replace('_', ' ')} at {target}",
                        )
                    seen.add(target)
                    if urlsplit(target).hostname != origin_host:
                        send_headers = {
                            k: v for k, v in send_headers.items()
                            if k.lower() not in SENSITIVE_HEADERS
                        }  # fmt: skip
                    if response.status_code == 303:
                        method, content = "GET", None
                    current = target
                    continue
                body = b""
                truncated = False
                if want_body and method != "HEAD":
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > cap:
                            truncated = True
                            break
                    body = b"".join(chunks)[:cap]
                return FetchResult(
                    url=url,
                    final_url=current,
                    method=method,
                    status=response.status_code,
                    headers=response.headers,
                    body=body,
                    truncated=truncated,
                    redirects=tuple(hops),
                    elapsed_ms=int((time.monotonic() - start) * 1000),
                )
            except httpx.HTTPError as exc:
                failure, error = _classify_exception(exc)
                return FetchResult(
                    url=url,
                    final_url=current,
                    method=method,
                    status=response.status_code,
                    redirects=tuple(hops),
                    elapsed_ms=int((time.monotonic() - start) * 1000),
                    failure=failure,
                    error=error,
                )
            finally:
                await response.aclose()
