"""The per-host transport: a few httpcore connections per origin, through the address guard.

The engine sends httpcore requests itself (`monitor.net.engine`), not through httpx's client:
on a 2,000-link run (py-spy, bench/) the client and httpcore's pool were about a third of
our CPU per link: URL and request objects built twice, a cookie jar consulted on every
answer, and the pool's bookkeeping, which checks every connection (a `poll` syscall for
each idle one) on every request. Here one small pool per origin hands out the most recent
usable connection and checks only that one. Connections are opened here too (TCP, TLS with
ALPN, then httpcore's HTTP/1.1 or HTTP/2 connection), with plain asyncio locks where
httpcore's take anyio's, which yield to the event loop on every uncontended acquire: three
extra loop turns, and a cancel scope each, per request.

How many connections a pool opens is bounded by the caller: every request holds its host's
politeness slot (`monitor.net.politeness`), so a pool never has more requests in flight
than the host's concurrency. Idle pools beyond MAX_IDLE_POOLS are closed, oldest first, so
a list with thousands of hosts does not keep thousands of sockets open.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator

import httpcore
import httpx

from monitor.net.guard import GuardedBackend

Key = tuple[bytes, bytes, int]


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One per process: loading the CA bundle took 0.27 s, once per engine (per command)."""
    context = httpx.create_ssl_context()
    context.set_alpn_protocols(["http/1.1", "h2"])
    return context


class _Lock:
    """An asyncio lock behind httpcore's `AsyncLock` interface: taken without a trip through
    the event loop when nobody holds it."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> _Lock:
        await self._lock.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class _Http11(httpcore.AsyncHTTP11Connection):
    """httpcore's HTTP/1.1 connection with an asyncio lock for its state (see `_Lock`)."""

    def __init__(
        self, origin: httpcore.Origin, stream: httpcore.AsyncNetworkStream, expiry: float
    ) -> None:
        super().__init__(origin=origin, stream=stream, keepalive_expiry=expiry)
        self._state_lock = _Lock()  # type: ignore[assignment]


Connection = httpcore.AsyncHTTP11Connection | httpcore.AsyncHTTP2Connection


class _Slot:
    """One connection and how many of our requests it carries now."""

    __slots__ = ("conn", "h2", "in_use")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.in_use = 0
        self.h2 = isinstance(conn, httpcore.AsyncHTTP2Connection)  # several requests at once


class _Body:
    """A response body that gives its connection back to the pool when it is closed."""

    __slots__ = ("closed", "inner", "pool", "slot")

    def __init__(self, inner: AsyncIterable[bytes], pool: OriginPool, slot: _Slot) -> None:
        self.inner, self.pool, self.slot, self.closed = inner, pool, slot, False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.inner.__aiter__()

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            aclose = getattr(self.inner, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self.pool.release(self.slot)


class OriginPool:
    """The connections to one origin (scheme, host, port)."""

    def __init__(
        self,
        origin: httpcore.Origin,
        backend: GuardedBackend,
        ssl_context: ssl.SSLContext | None,
        keepalive_expiry: float,
    ) -> None:
        self.origin = origin
        self.backend = backend
        self.ssl_context = ssl_context
        self.keepalive_expiry = keepalive_expiry
        self.slots: list[_Slot] = []
        self.active = 0  # requests sent whose body is not closed yet

    def _pick(self) -> tuple[_Slot | None, list[_Slot]]:
        """The newest usable connection for the next request (None: open one), and the
        connections found closed or expired on the way (to close)."""
        dropped: list[_Slot] = []
        chosen = None
        for slot in reversed(self.slots):
            conn = slot.conn
            if slot.in_use and not slot.h2:
                continue
            if conn.is_closed() or (not slot.in_use and conn.has_expired()):
                dropped.append(slot)
                continue
            if conn.is_available():
                chosen = slot
                break
        for gone in dropped:
            self.slots.remove(gone)
        return chosen, dropped

    async def _connect(self, request: httpcore.Request) -> Connection:
        """A new connection: TCP through the address guard, TLS with ALPN for https (as
        httpcore's `AsyncHTTPConnection` does it), then HTTP/2 if the server chose it."""
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = self.origin.host.decode("ascii")
        stream = await self.backend.connect_tcp(host, self.origin.port, timeout=timeout)
        if self.origin.scheme == b"https":
            assert self.ssl_context is not None
            stream = await stream.start_tls(self.ssl_context, server_hostname=host, timeout=timeout)
            tls = stream.get_extra_info("ssl_object")
            if tls is not None and tls.selected_alpn_protocol() == "h2":
                return httpcore.AsyncHTTP2Connection(
                    origin=self.origin, stream=stream, keepalive_expiry=self.keepalive_expiry
                )
        return _Http11(self.origin, stream, self.keepalive_expiry)

    async def send(self, request: httpcore.Request) -> httpcore.Response:
        while True:
            slot, dropped = self._pick()
            for gone in dropped:
                await gone.conn.aclose()
            if slot is None:
                slot = _Slot(await self._connect(request))
                self.slots.append(slot)
            slot.in_use += 1
            self.active += 1
            try:
                response = await slot.conn.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # taken between our look and the request (HTTP/2 streams used up, closing)
                self.release(slot)
                if slot in self.slots:
                    self.slots.remove(slot)
                    if not slot.in_use:
                        await slot.conn.aclose()
                continue
            except BaseException:
                self.release(slot)
                raise
            assert isinstance(response.stream, AsyncIterable)
            response.stream = _Body(response.stream, self, slot)
            return response

    def release(self, slot: _Slot) -> None:
        slot.in_use -= 1
        self.active -= 1

    async def aclose(self) -> None:
        slots, self.slots = self.slots, []
        for slot in slots:
            await slot.conn.aclose()


class PoolPerHost:
    """One `OriginPool` per origin; the engine's only way to the network."""

    MAX_IDLE_POOLS = 64

    def __init__(self, backend: GuardedBackend, keepalive_expiry: float = 30) -> None:
        self.backend = backend
        self.keepalive_expiry = keepalive_expiry
        self.pools: OrderedDict[Key, OriginPool] = OrderedDict()

    async def send(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        if url.scheme not in (b"http", b"https") or not url.host:
            # httpcore's pool's own words, which the failure text has always quoted (httpx's
            # client made a URL without a host relative, so without a scheme)
            if not url.scheme or not url.host:
                raise httpcore.UnsupportedProtocol(
                    "Request URL is missing an 'http://' or 'https://' protocol."
                )
            raise httpcore.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme.decode()}://'."
            )
        origin = url.origin
        key = (origin.scheme, origin.host, origin.port)
        pool = self.pools.get(key)
        if pool is None:
            # the CA bundle is loaded only when a run has an https link (0.1-0.3 s of CPU)
            context = _shared_ssl_context() if origin.scheme == b"https" else None
            pool = self.pools[key] = OriginPool(
                origin, self.backend, context, self.keepalive_expiry
            )
            await self._evict()
        else:
            self.pools.move_to_end(key)
        return await pool.send(request)

    async def _evict(self) -> None:
        idle = [key for key, pool in self.pools.items() if pool.active == 0]
        for key in idle[: max(0, len(idle) - self.MAX_IDLE_POOLS)]:
            await self.pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
