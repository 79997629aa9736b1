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

# The judgement is the standard library's (`ipaddress` encodes the IANA special-purpose
# registries: is_global, is_multicast, is_reserved...), not a hand-kept list. Python 3.11.7's
# table predates one registry row that newer releases know: 192.0.0.0/24 (IETF protocol
# assignments) is not globally reachable except the two anycast addresses below.
_IETF_PROTOCOL = ipaddress.ip_network("192.0.0.0/24")
_IETF_GLOBAL = frozenset({ipaddress.ip_address("192.0.0.9"), ipaddress.ip_address("192.0.0.10")})
# IPv6 forms that carry an IPv4 address the packet may end up at (judged by that address).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, NAT64, 6to4 or IPv4-compatible IPv6 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str | None:
    """What kind of non-global address this is, or None for a globally routable one."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _IETF_PROTOCOL and address not in _IETF_GLOBAL:
            return "IETF protocol assignment, 192.0.0.0/24"
        if address in ipaddress.IPv4Network("100.64.0.0/10"):
            return "carrier-grade NAT, 100.64.0.0/10"
    elif address.is_site_local:
        return "site-local"
    if address.is_private:
        return "private or special-purpose (IANA registry)"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "special-purpose (IANA registry)"
    return None


def default_policy(address: IPAddress) -> str | None:
    """Refuse every address that is not globally routable, and cloud-metadata addresses."""
    shown = address
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1, 64:ff9b::7f00:1, 2002:7f00:1:: reach IPv4 hosts: judge that one.
        inner = embedded_ipv4(address)
        if inner is not None:
            address = inner
    if address in METADATA_ADDRESSES:
        return f"{shown}, a cloud metadata address"
    kind = _kind(address)
    if kind is None:
        return None
    inside = f" (IPv4 {address} inside)" if shown != address else ""
    return f"{shown}{inside}, which is not globally routable ({kind})"


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

    async def refusal(self, host: str, port: int) -> str | None:
        """Why `host` would be refused (resolving it as connect_tcp would), or None."""
        if self.policy is None:
            return None
        try:
            await self._vetted(host, port, None)
        except AddressRefused as exc:
            return str(exc)
        except (NameNotResolved, httpcore.ConnectTimeout):
            return None
        return None

    async def _vetted(self, host: str, port: int, limit_s: float | None) -> list[str]:
        """The addresses of `host` the policy allows; raises when there are none."""
        literal = _literal(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            if self.policy is not None and host.lower().rstrip(".") in METADATA_NAMES:
                raise AddressRefused(f"{host} is a cloud metadata name")
            try:
                async with asyncio.timeout(limit_s):
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
        return allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = await self._vetted(host, port, timeout)
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
