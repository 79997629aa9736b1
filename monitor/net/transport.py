"""The per-host transport: one small connection pool per origin, through the address guard."""

from __future__ import annotations

import functools
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpcore
import httpx

from monitor.net.guard import GuardedBackend


class GuardedTransport(httpx.AsyncHTTPTransport):
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


class CountedStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed (the pool is then idle)."""

    def __init__(self, inner: httpx.AsyncByteStream, pool: HostPool) -> None:
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
class HostPool:
    transport: GuardedTransport
    active: int = 0


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One per process: loading the CA bundle took 0.27 s, once per engine (per command)."""
    return httpx.create_ssl_context()


class PoolPerHost(httpx.AsyncBaseTransport):
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
        self.ssl_context = _shared_ssl_context()
        self.pools: OrderedDict[tuple[bytes, bytes, int | None], HostPool] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = HostPool(
                GuardedTransport(self.backend, self.limits, self.ssl_context)
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
        response.stream = CountedStream(response.stream, pool)
        return response

    async def _evict(self) -> None:
        idle = [key for key, pool in self.pools.items() if pool.active == 0]
        for key in idle[: max(0, len(idle) - self.MAX_IDLE_POOLS)]:
            await self.pools.pop(key).transport.aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()
