"""Where the engine may connect: names resolved by us, addresses vetted at connect time.

Links come from strangers' pull requests and are checked on cloud runners, so a link to
`http://169.254.169.254/` or to a name that resolves to 10.0.0.5 must not reach it. Vetting
the URL text is not enough (DNS names, rebinding, redirects), so the check sits in the httpcore
network backend: it resolves the name itself, drops refused addresses and connects to a
vetted IP. TLS still uses the hostname (httpcore passes it to `start_tls`), so SNI and
certificate checks are unchanged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Returns why an address is refused, or None when it may be connected to.
AddressPolicy = Callable[[IPAddress], str | None]
# host, port -> addresses in preference order; raises socket.gaierror when the name is unknown.
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Cloud metadata services: credentials of the runner live behind these.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})

# Networks refused by default, with what they are. ipaddress's is_private misses CGNAT.
REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("0.0.0.0/8"), "unspecified"),
    (ipaddress.ip_network("127.0.0.0/8"), "loopback"),
    (ipaddress.ip_network("10.0.0.0/8"), "private"),
    (ipaddress.ip_network("172.16.0.0/12"), "private"),
    (ipaddress.ip_network("192.168.0.0/16"), "private"),
    (ipaddress.ip_network("100.64.0.0/10"), "carrier-grade NAT"),
    (ipaddress.ip_network("169.254.0.0/16"), "link-local"),
    (ipaddress.ip_network("224.0.0.0/4"), "multicast"),
    (ipaddress.ip_network("240.0.0.0/4"), "reserved"),
    (ipaddress.ip_network("::/128"), "unspecified"),
    (ipaddress.ip_network("::1/128"), "loopback"),
    (ipaddress.ip_network("fc00::/7"), "private"),
    (ipaddress.ip_network("fe80::/10"), "link-local"),
    (ipaddress.ip_network("ff00::/8"), "multicast"),
)


def default_policy(address: IPAddress) -> str | None:
    """Refuse loopback, private, link-local, multicast and cloud-metadata addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 64:ff9b::7f00:1 reach IPv4 hosts; judge the IPv4 inside.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in ipaddress.ip_network("64:ff9b::/96"):
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    for network, what in REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is a {what} address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressRefused(httpcore.ConnectError):
    """Every address of the host is one the policy refuses (Failure.PRIVATE)."""


class NameNotResolved(httpcore.ConnectError):
    """The resolver knows no address for the name (Failure.DNS)."""


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that resolves names itself and connects only to vetted addresses."""

    def __init__(
        self,
        policy: AddressPolicy | None,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()
        # Names resolved in this engine's life: proof that DNS works, for pipeline.py.
        self.resolved_names: set[str] = set()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = _literal(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            if self.policy is not None and host.lower().rstrip(".") in METADATA_NAMES:
                raise AddressRefused(f"{host} is a cloud metadata name")
            try:
                async with asyncio.timeout(timeout):
                    # looked up at call time, so tests can swap the module's system_resolver
                    addresses = await (self.resolver or system_resolver)(host, port)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from None
            except (socket.gaierror, UnicodeError) as exc:
                raise NameNotResolved(str(exc)) from exc
            if not addresses:
                raise NameNotResolved(f"no address for {host}")
            self.resolved_names.add(host.lower())
        allowed = addresses
        if self.policy is not None:
            reasons = [(a, self.policy(ipaddress.ip_address(a))) for a in addresses]
            allowed = [a for a, reason in reasons if reason is None]
            if not allowed:
                reason = reasons[0][1] or "refused"
                raise AddressRefused(reason if literal else f"{host} resolves to {reason}")
        last: Exception | None = None
        for address in allowed:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not links")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
