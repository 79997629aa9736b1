"""What a fetch produces: an answer, or the reason there is none, never an exception.

`FetchResult` is what checkers see. `Answer` is one request's outcome inside the engine,
before redirects and retries are decided. Failures are classified here, from httpx's
exceptions and the address guard's (`monitor.net.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

import httpcore
import httpx

from monitor.domain.models import Hop
from monitor.net.guard import AddressRefused, NameNotResolved

# Everything httpcore raises for a request that got no (complete) answer.
HTTPCORE_ERRORS = (
    httpcore.UnsupportedProtocol,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProxyError,
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Worth asking again: rate limited, or a gateway/overload answer that usually passes.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class Failure(StrEnum):
    """Why a fetch produced no usable HTTP answer."""

    DNS = "dns"  # the name does not resolve (NXDOMAIN or no resolver at all)
    CONNECT = "connect"  # refused, unreachable, TLS handshake failed
    TIMEOUT = "timeout"
    RESET = "reset"  # connection dropped mid-answer
    DEADLINE = "deadline"  # the overall per-resource deadline ran out
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
    elapsed_ms: int = 0  # the whole fetch: retries, waits, redirects, body
    # The first request's first attempt: from sending it to its answer's headers (None when
    # it got no answer). A response time that retries and politeness waits do not inflate.
    first_ms: int | None = None
    failure: Failure | None = None
    error: str | None = None
    attempts: int = 1
    requested_url: str = ""  # the URL as the caller gave it (before --remap)
    fell_back_to_get: bool = False  # HEAD was refused and GET answered instead
    http_version: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Answer:
    """One request's outcome, before redirects and retries are decided."""

    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    truncated: bool = False
    failure: Failure | None = None
    error: str | None = None
    http_version: str = ""
    attempts: int = 1
    answered_ms: int | None = None  # from sending the request to its answer's headers

    @property
    def retryable(self) -> bool:
        # Not a timeout: a server silent for a whole read timeout is asked again by the
        # second opinion, which overlaps with everything else (docs/architecture.md);
        # retrying here made one hanging link cost the whole 60 s deadline and four requests.
        if self.failure is not None:
            return self.failure in (Failure.CONNECT, Failure.RESET)
        return self.status in RETRY_STATUSES


def classify_exception(exc: BaseException) -> tuple[Failure, str]:
    """Failure kind and text for an exception of httpx or of httpcore (which the engine
    calls directly); both name their exceptions alike, so the text is the same either way."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AddressRefused):
            return Failure.PRIVATE, f"refused to connect: {cause}"
        if isinstance(cause, NameNotResolved):
            return Failure.DNS, f"DNS lookup failed: {cause}"
        cause = cause.__cause__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | httpcore.TimeoutException):
        return Failure.TIMEOUT, f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError):
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
    if isinstance(
        exc,
        httpx.RemoteProtocolError
        | httpx.ReadError
        | httpx.WriteError
        | httpcore.RemoteProtocolError
        | httpcore.ReadError
        | httpcore.WriteError,
    ):
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
