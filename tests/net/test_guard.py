"""The address guard against every address form a hostile catalog can write (issue 16).

Each refusal is checked twice: the policy's verdict on the address, and a real fetch that
must not reach the loopback server standing where the address points.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from monitor.config.catalog import EngineSettings
from monitor.net.engine import Failure, HttpEngine
from monitor.net.guard import IPAddress, default_policy
from tests.conftest import LoopbackServer, Reply


def settings(**overrides: Any) -> EngineSettings:
    return EngineSettings(**{"retries": 0, "deadline_s": 10.0, **overrides})


# Address, and the words the refusal must contain. Expected kinds are written by hand from
# the IANA special-purpose registries, not computed with ipaddress.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("198.18.0.1", "special-purpose"),  # benchmarking, RFC 2544 (a service answered here)
    ("198.19.255.254", "special-purpose"),
    ("192.0.0.1", "192.0.0.0/24"),  # IETF protocol assignments (a service answered here)
    ("192.0.0.8", "192.0.0.0/24"),  # Python 3.11's table calls this one global
    ("192.0.0.170", "192.0.0.0/24"),
    ("192.0.2.1", "special-purpose"),  # TEST-NET-1
    ("198.51.100.1", "special-purpose"),  # TEST-NET-2
    ("203.0.113.1", "special-purpose"),  # TEST-NET-3
    ("224.0.0.1", "multicast"),
    ("233.252.0.1", "multicast"),  # the stdlib calls global multicast is_global
    ("240.0.0.1", "special-purpose"),
    ("255.255.255.255", "special-purpose"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fe80::1%1", "link-local"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "cloud metadata"),
    ("fec0::1", "site-local"),  # deprecated, yet is_global in the stdlib
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("2001:db8::1", "special-purpose"),  # documentation
    ("2001::1", "special-purpose"),  # Teredo
    ("100::1", "special-purpose"),  # discard-only
    ("::ffff:127.0.0.1", "IPv4 127.0.0.1 inside"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:198.18.0.1", "IPv4 198.18.0.1 inside"),
    ("::ffff:10.0.0.1", "IPv4 10.0.0.1 inside"),
    ("64:ff9b::7f00:1", "IPv4 127.0.0.1 inside"),  # NAT64 well-known prefix
    ("64:ff9b:1::a00:1", "IPv4 10.0.0.1 inside"),  # local-use NAT64
    ("2002:7f00:1::", "IPv4 127.0.0.1 inside"),  # 6to4
    ("2002:a9fe:a9fe::", "cloud metadata"),  # 6to4 of 169.254.169.254
    ("::7f00:1", "IPv4 127.0.0.1 inside"),  # deprecated IPv4-compatible
]
ALLOWED = ["8.8.8.8", "140.82.112.3", "192.0.0.9", "2606:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_every_non_global_address_is_refused(address: str, kind: str) -> None:
    reason = default_policy(ipaddress.ip_address(address))
    assert reason is not None, f"{address} was allowed"
    assert kind in reason


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_pass(address: str) -> None:
    assert default_policy(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",  # dotted
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0x7f.0.0.1",  # hex octet
        "127.1",  # short form
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:7f00:1]",
        "localhost",  # a DNS name that resolves to loopback
    ],
)
async def test_loopback_in_any_spelling_never_reached(server: LoopbackServer, host: str) -> None:
    server.routes["/"] = Reply(200, b"<title>runner secret</title>")
    async with HttpEngine(settings()) as http:
        result = await http.fetch(f"http://{host}:{server.port}/")
    assert result.failure is Failure.PRIVATE, result.error
    assert server.requests == []


@pytest.mark.parametrize("host", ["0177.0.0.1", "127.000.000.001", "0177.1"])
async def test_octal_spellings_are_not_urls(server: LoopbackServer, host: str) -> None:
    """httpx rejects leading-zero octets before any lookup (browsers read them as octal)."""
    async with HttpEngine(settings()) as http:
        result = await http.fetch(f"http://{host}:{server.port}/")
    assert result.failure in (Failure.PROTOCOL, Failure.PRIVATE)
    assert server.requests == []


@pytest.mark.parametrize(
    "resolved", ["198.18.0.1", "192.0.0.8", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "fec0::1"]
)
async def test_dns_names_resolving_to_special_ranges_refused(resolved: str) -> None:
    connected: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        return [resolved]

    engine = loopback_only(HttpEngine(settings(), resolver=resolver), connected)
    async with engine as http:
        result = await http.fetch("http://innocent.example/")
    assert result.failure is Failure.PRIVATE
    assert "innocent.example resolves to" in (result.error or "")
    assert connected == []


def loopback_only(engine: HttpEngine, attempts: list[str]) -> HttpEngine:
    """Tests never send a packet beyond loopback, even when the guard under test fails:
    a connection to any other address is recorded and refused here instead."""
    original = engine.backend.inner.connect_tcp

    async def connect_tcp(host: str, port: int, **kwargs: Any) -> Any:
        if not ipaddress.ip_address(host).is_loopback:
            attempts.append(host)
            raise httpcore.ConnectError(f"test refused {host}")
        return await original(host, port, **kwargs)

    engine.backend.inner.connect_tcp = connect_tcp  # type: ignore[method-assign]
    return engine


def public_127_0_0_2(address: IPAddress) -> str | None:
    """The default policy, except 127.0.0.2 plays a public web server."""
    return None if str(address) == "127.0.0.2" else default_policy(address)


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/secret", "http://2130706433:{port}/secret",
     "http://[::ffff:127.0.0.1]:{port}/secret", "http://198.18.0.1:{port}/secret",
     "http://192.0.0.8:{port}/secret", "http://169.254.169.254/latest/meta-data/"],
)  # fmt: skip
async def test_redirects_to_special_addresses_refused(server: LoopbackServer, target: str) -> None:
    public = LoopbackServer("127.0.0.2").start()
    try:
        public.routes["/go"] = Reply(302, headers={"Location": target.format(port=server.port)})
        server.routes["/secret"] = Reply(200, b"credentials")
        attempts: list[str] = []
        engine = HttpEngine(settings(), address_policy=public_127_0_0_2)
        async with loopback_only(engine, attempts) as http:
            result = await http.fetch(public.url("/go"))
    finally:
        public.stop()
    assert result.failure is Failure.PRIVATE, result.error
    assert attempts == []
    assert [h.status for h in result.redirects] == [302]
    assert server.requests == []


# -- yt-dlp's own connections ----------------------------------------------------------------


@pytest.fixture
def youtube_at_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """www.youtube.com resolving to a loopback server, as a poisoned resolver would have it."""
    server = LoopbackServer().start()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).lower() in ("www.youtube.com", "youtube.com"):
            return real("127.0.0.1", server.port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield server
    finally:
        server.stop()


def test_ytdlp_sockets_pass_the_guard(youtube_at_loopback: LoopbackServer) -> None:
    """The pin: even when our own check passed, yt-dlp's connection is vetted again."""
    from yt_dlp.utils import DownloadError

    from monitor.checkers.youtube import ytdlp_extract, ytdlp_options
    from monitor.config.catalog import YoutubeSettings
    from monitor.net import sockets

    opts = ytdlp_options(YoutubeSettings(), playlist=False, cookies=None, proxy=None)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with sockets.guarded(default_policy):
                ytdlp_extract("https://www.youtube.com/watch?v=qYNweeDHiyU", opts)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert errors and isinstance(errors[0], DownloadError)
    assert "refused to connect" in str(errors[0])
    assert youtube_at_loopback.requests == []
