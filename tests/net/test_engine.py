"""The engine against real servers on loopback: retries, politeness, redirects, caps, guard."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import itertools
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitor.config.catalog import EngineSettings, HostLimits
from monitor.net import politeness
from monitor.net.engine import Failure, HttpEngine, retry_after_s
from monitor.net.guard import IPAddress, default_policy
from tests.conftest import LoopbackServer, Reply, Seen

FAST = {
    "allow_private": True,
    "backoff_s": 0.01,
    "backoff_max_s": 0.05,
    "min_interval_ms": 0,
    "deadline_s": 10,
}


def settings(**overrides: object) -> EngineSettings:
    return EngineSettings.model_validate({**FAST, **overrides})


@pytest.fixture
def server2() -> Iterator[LoopbackServer]:
    """A second host: 127.0.0.2 is loopback too on Linux, but a different host name."""
    srv = LoopbackServer("127.0.0.2").start()
    try:
        yield srv
    finally:
        srv.stop()


def only_127_0_0_1_refused(address: IPAddress) -> str | None:
    """Test policy: 127.0.0.1 plays the private network, 127.0.0.2 the public internet."""
    return f"{address} is a loopback address" if str(address) == "127.0.0.1" else None


# -- retries ---------------------------------------------------------------------------------


async def test_flaky_endpoint_recovered_by_retry(server: LoopbackServer) -> None:
    calls = iter([503, 502, 200])
    server.routes["/flaky"] = lambda seen: Reply(next(calls), b"fine")
    async with HttpEngine(settings(retries=3)) as http:
        result = await http.fetch(server.url("/flaky"))
    assert result.status == 200
    assert result.body == b"fine"
    assert result.attempts == 3
    assert len(server.requests) == 3


async def test_retries_are_bounded(server: LoopbackServer) -> None:
    server.routes["/down"] = Reply(503, b"busy")
    async with HttpEngine(settings(retries=2)) as http:
        result = await http.fetch(server.url("/down"))
    assert result.status == 503
    assert len(server.requests) == 3


async def test_404_is_not_retried(server: LoopbackServer) -> None:
    async with HttpEngine(settings(retries=3)) as http:
        result = await http.fetch(server.url("/nothing-here"))
    assert result.status == 404
    assert len(server.requests) == 1


async def test_429_retry_after_is_respected(server: LoopbackServer) -> None:
    calls = iter([Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")])
    server.routes["/limited"] = lambda seen: next(calls)
    async with HttpEngine(settings(retries=2)) as http:
        result = await http.fetch(server.url("/limited"))
    assert result.status == 200
    first, second = server.requests
    assert second.at - first.at >= 0.9  # the server saw us wait as told


async def test_429_pauses_the_whole_host(server: LoopbackServer) -> None:
    calls = iter([Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")])
    server.routes["/limited"] = lambda seen: next(calls)
    server.routes["/other"] = Reply(200, b"ok")
    async with HttpEngine(settings(retries=1)) as http:
        limited = asyncio.ensure_future(http.fetch(server.url("/limited")))
        await asyncio.sleep(0.2)  # the 429 has arrived by now
        other = await http.fetch(server.url("/other"))
        await limited
    assert other.status == 200
    first = server.requests[0].at
    later = [s.at for s in server.requests if s.path == "/other"]
    assert later[0] - first >= 0.9  # /other waited for the host's Retry-After too
    assert http.host_limits("127.0.0.1")[1] == 0  # configured interval unchanged...
    assert http.politeness.gates["127.0.0.1"].interval >= 0.1  # ...but this run asks more slowly


async def test_429s_lower_the_hosts_concurrency_then_it_recovers_when_quiet(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that allows 1 request in flight: after its 429s we ask one at a time, and once
    it has been quiet a while we ask at full concurrency again (finding 13: the pace used to
    stay at seconds per request for the rest of the run)."""
    lock = threading.Lock()
    limited: list[str] = []

    def strict(seen: Seen) -> Reply:
        with lock:
            if server.active > 1:
                limited.append(seen.path)
                return Reply(429, headers={"Retry-After": "0"})
        return Reply(200, b"ok", delay_s=0.05)

    server.routes["/strict"] = strict
    server.routes["/free"] = Reply(200, b"ok", delay_s=0.3)
    hosts = {"127.0.0.1": HostLimits(concurrency=6, min_interval_ms=0)}
    async with HttpEngine(settings(retries=4), hosts) as http:
        first = await asyncio.gather(*(http.fetch(server.url(f"/strict?{i}")) for i in range(24)))
        assert [r.status for r in first] == [200] * 24
        strict_requests = len(server.requests)
        monkeypatch.setattr(politeness, "EASE_AFTER_QUIET_S", 0.1)  # not 3 s: a fast test
        await asyncio.sleep(1.5)  # many quiet periods: the host is eased back fully
        server.max_active = 0
        second = await asyncio.gather(*(http.fetch(server.url(f"/free?{i}")) for i in range(6)))
    assert all(r.status == 200 for r in second)
    # politeness: the 429s stopped well before the end, not one per URL
    assert 1 <= len(limited) <= 12
    assert strict_requests == 24 + len(limited)
    # recovery: six slow requests were in flight together again
    assert server.max_active >= 4


async def test_politeness_waits_do_not_eat_the_deadline(server: LoopbackServer) -> None:
    server.routes["/a"] = Reply(200, b"ok")
    hosts = {"127.0.0.1": HostLimits(concurrency=1, min_interval_ms=400)}
    async with HttpEngine(settings(deadline_s=1.0), hosts) as http:
        results = await asyncio.gather(*(http.fetch(server.url("/a")) for _ in range(5)))
    # the last one queued ~1.6 s behind the others, yet had its full second for the server
    assert [r.status for r in results] == [200] * 5


async def test_retry_after_beyond_the_cap_gives_up_at_once(server: LoopbackServer) -> None:
    server.routes["/later"] = Reply(429, headers={"Retry-After": "3600"})
    async with HttpEngine(settings(retries=3, retry_after_cap_s=5)) as http:
        result = await http.fetch(server.url("/later"))
    assert result.status == 429
    assert len(server.requests) == 1


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("120", now) == 120
    assert retry_after_s("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_s("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0  # in the past
    assert retry_after_s("soon", now) is None
    assert retry_after_s(None, now) is None


async def test_connection_refused_is_retried_then_reported(server: LoopbackServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        async with HttpEngine(settings(retries=2)) as http:
            result = await http.fetch(f"http://127.0.0.1:{port}/")
    assert result.failure is Failure.CONNECT
    assert result.attempts == 3


# -- politeness ------------------------------------------------------------------------------


async def test_per_host_concurrency_and_interval(server: LoopbackServer) -> None:
    server.routes["/slow"] = Reply(200, b"ok", delay_s=0.15)
    hosts = {"127.0.0.1": HostLimits(concurrency=2, min_interval_ms=100)}
    async with HttpEngine(settings(per_host_concurrency=10), hosts) as http:
        results = await asyncio.gather(*(http.fetch(server.url("/slow")) for _ in range(8)))
    assert all(r.status == 200 for r in results)
    assert server.max_active == 2
    starts = sorted(seen.at for seen in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 100 ms apart at our end; the server's threads see them with scheduling jitter (a
    # loaded machine has shown 40 ms); without the interval, pairs would start together
    assert min(gaps) >= 0.02
    assert starts[-1] - starts[0] >= 0.6


async def test_global_limit_spans_hosts(server: LoopbackServer, server2: LoopbackServer) -> None:
    lock, active, peak = threading.Lock(), [0], [0]

    def slow(seen: Seen) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return Reply(200, b"ok")

    for srv in (server, server2):
        srv.routes["/slow"] = slow
    async with HttpEngine(settings(concurrency=3, per_host_concurrency=10)) as http:
        urls = [srv.url("/slow") for srv in (server, server2) for _ in range(5)]
        await asyncio.gather(*(http.fetch(u) for u in urls))
    assert peak[0] == 3  # both servers together never saw more than the global limit
    assert len(server.requests) + len(server2.requests) == 10


async def test_a_timeout_is_not_retried_inside_the_fetch(server: LoopbackServer) -> None:
    """The second opinion is a timeout's retry (docs/architecture.md): one request, one read."""
    server.routes["/silent"] = Reply(200, b"late", delay_s=2)
    async with HttpEngine(settings(retries=3, read_timeout_s=0.3, deadline_s=10)) as http:
        result = await http.fetch(server.url("/silent"))
    assert result.failure is Failure.TIMEOUT
    assert result.attempts == 1
    assert [seen.path for seen in server.requests] == ["/silent"]


async def test_a_second_opinion_does_not_retry_a_reset(server: LoopbackServer) -> None:
    """A reset is retried in the first check, not again inside its second opinion."""
    server.routes["/gone-away"] = lambda seen: Reply(200, headers={"Content-Length": "x"})
    async with HttpEngine(settings(retries=2)) as http:
        first = await http.fetch(server.url("/gone-away"))
        asked_first = len(server.requests)
        again = await http.fetch(server.url("/gone-away"), retry_failures=False)
    assert first.failure is again.failure is Failure.RESET
    assert asked_first == 3
    assert len(server.requests) - asked_first == 1


# -- redirects and HEAD ----------------------------------------------------------------------


async def test_redirect_chain_is_recorded(server: LoopbackServer) -> None:
    server.routes["/one"] = Reply(301, headers={"Location": "/two"})
    server.routes["/two"] = Reply(302, headers={"Location": server.url("/three")})
    server.routes["/three"] = Reply(200, b"here")
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/one"))
    assert result.status == 200
    assert result.final_url == server.url("/three")
    assert [(h.url, h.status) for h in result.redirects] == [
        (server.url("/one"), 301),
        (server.url("/two"), 302),
    ]


async def test_redirect_loop_is_detected(server: LoopbackServer) -> None:
    server.routes["/a"] = Reply(302, headers={"Location": "/b"})
    server.routes["/b"] = Reply(302, headers={"Location": "/a"})
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/a"))
    assert result.failure is Failure.REDIRECT_LOOP
    assert len(result.redirects) == 2
    assert len(server.requests) == 2


async def test_too_many_redirects(server: LoopbackServer) -> None:
    for i in range(15):
        server.routes[f"/hop{i}"] = Reply(302, headers={"Location": f"/hop{i + 1}"})
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/hop0"))
    assert result.failure is Failure.TOO_MANY_REDIRECTS
    assert len(server.requests) == 11


async def test_credentials_dropped_on_cross_host_redirect(
    server: LoopbackServer, server2: LoopbackServer
) -> None:
    server.routes["/go"] = Reply(302, headers={"Location": server2.url("/land")})
    server2.routes["/land"] = Reply(200, b"ok")
    async with HttpEngine(settings()) as http:
        result = await http.fetch(
            server.url("/go"), headers={"Authorization": "token s3cret", "X-Keep": "yes"}
        )
    assert result.status == 200
    assert server.requests[0].headers.get("Authorization") == "token s3cret"
    landed = server2.requests[0].headers
    assert "Authorization" not in landed
    assert landed.get("X-Keep") == "yes"


async def test_credentials_dropped_when_the_port_changes_and_not_given_back(
    server: LoopbackServer,
) -> None:
    """Same host name, another port: another origin (another server may listen there). A hop
    back to the first origin does not get the credentials back."""
    other = LoopbackServer("127.0.0.1").start()
    try:
        server.routes["/go"] = Reply(302, headers={"Location": other.url("/away")})
        other.routes["/away"] = Reply(302, headers={"Location": server.url("/back")})
        server.routes["/back"] = Reply(200, b"ok")
        async with HttpEngine(settings()) as http:
            result = await http.fetch(server.url("/go"), headers={"Cookie": "session=s3cret"})
    finally:
        other.stop()
    assert result.status == 200 and len(result.redirects) == 2
    assert server.requests[0].headers.get("Cookie") == "session=s3cret"
    assert "Cookie" not in other.requests[0].headers
    assert "Cookie" not in server.requests[1].headers


async def test_head_refused_falls_back_to_get(server: LoopbackServer) -> None:
    server.routes["/nohead"] = lambda seen: (
        Reply(405) if seen.method == "HEAD" else Reply(200, b"body")
    )
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/nohead"), method="HEAD")
    assert result.status == 200
    assert result.method == "GET"
    assert result.fell_back_to_get
    assert [s.method for s in server.requests] == ["HEAD", "GET"]


async def test_head_accepted_stays_head(server: LoopbackServer) -> None:
    server.routes["/fine"] = Reply(200, b"body")
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/fine"), method="HEAD")
    assert (result.status, result.method, result.body) == (200, "HEAD", b"")
    assert [s.method for s in server.requests] == ["HEAD"]


async def test_remap_user_agent_and_headers(server: LoopbackServer) -> None:
    server.routes["/page"] = Reply(200, b"ok")
    remap = [(re.compile(r"^https://example\.org"), server.url(""))]
    engine = HttpEngine(settings(user_agent="probe/1.0", headers={"X-Extra": "1"}), remap=remap)
    async with engine as http:
        result = await http.fetch("https://example.org/page")
    assert result.status == 200
    assert result.requested_url == "https://example.org/page"
    assert result.url == server.url("/page")
    seen = server.requests[0].headers
    assert seen["User-Agent"] == "probe/1.0"
    assert seen["X-Extra"] == "1"


# -- deadlines and caps ----------------------------------------------------------------------


async def test_hanging_endpoint_bounded_by_deadline(server: LoopbackServer) -> None:
    server.routes["/hang"] = Reply(200, b"late", delay_s=3)
    async with HttpEngine(settings(deadline_s=0.5, retries=0)) as http:
        started = time.monotonic()
        result = await http.fetch(server.url("/hang"))
    assert result.failure is Failure.DEADLINE
    assert time.monotonic() - started < 2.5


@pytest.fixture
def drip_server() -> Iterator[int]:
    """Sends headers, then one body byte every 0.1 s: never idle long enough for a timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                for _ in range(100):
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        break
                    time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


async def test_slow_drip_body_bounded_by_deadline(drip_server: int) -> None:
    async with HttpEngine(settings(deadline_s=0.8, read_timeout_s=5, retries=0)) as http:
        started = time.monotonic()
        result = await http.fetch(f"http://127.0.0.1:{drip_server}/")
    assert result.failure is Failure.DEADLINE
    assert time.monotonic() - started < 3


async def test_large_body_cut_at_cap(server: LoopbackServer) -> None:
    server.routes["/big"] = Reply(200, b"x" * 20_000_000)
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/big"), max_bytes=1_000_000)
    assert result.status == 200
    assert result.truncated
    assert len(result.body) == 1_000_000


async def test_gzip_bomb_cut_at_cap_after_decompression(server: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * 100_000_000, compresslevel=9)  # ~100 KB on the wire
    server.routes["/bomb"] = Reply(200, bomb, headers={"Content-Encoding": "gzip"})
    async with HttpEngine(settings()) as http:
        tracemalloc.start()
        try:
            result = await http.fetch(server.url("/bomb"), max_bytes=1_000_000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.truncated
    assert len(result.body) == 1_000_000
    assert set(result.body) == {0}
    assert peak < 20_000_000  # httpx's own decoder would hold ~64 MB per network chunk


async def test_gzip_body_is_decoded(server: LoopbackServer) -> None:
    page = "<title>Olá</title>".encode()
    server.routes["/gz"] = Reply(200, gzip.compress(page), headers={"Content-Encoding": "gzip"})
    async with HttpEngine(settings()) as http:
        result = await http.fetch(server.url("/gz"))
    assert result.body == page
    assert not result.truncated


# -- private addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("169.254.1.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fd00:ec2::254", True),
        ("fe80::1", True),
        ("::ffff:127.0.0.1", True),
        ("8.8.8.8", False),
        ("140.82.112.3", False),
        ("2606:4700::6810:84e5", False),
    ],
)
def test_default_policy(address: str, refused: bool) -> None:
    assert (default_policy(ipaddress.ip_address(address)) is not None) is refused


async def test_private_address_refused_directly(server: LoopbackServer) -> None:
    async with HttpEngine(settings(allow_private=False)) as http:
        result = await http.fetch(server.url("/"))
    assert result.failure is Failure.PRIVATE
    assert "loopback" in (result.error or "")
    assert server.requests == []


async def test_private_address_refused_through_dns(server: LoopbackServer) -> None:
    async with HttpEngine(settings(allow_private=False)) as http:
        result = await http.fetch(f"http://localhost:{server.port}/")
    assert result.failure is Failure.PRIVATE
    assert "localhost resolves to" in (result.error or "")
    assert server.requests == []


async def test_private_address_refused_through_resolver_seam(server: LoopbackServer) -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # a public-looking name pointed at the runner itself

    async with HttpEngine(settings(allow_private=False), resolver=rebinding) as http:
        result = await http.fetch(f"http://innocent.example:{server.port}/")
    assert result.failure is Failure.PRIVATE
    assert server.requests == []


async def test_private_address_refused_through_redirect(
    server: LoopbackServer, server2: LoopbackServer
) -> None:
    server2.routes["/out"] = Reply(302, headers={"Location": server.url("/secret")})
    server2.routes["/fine"] = Reply(200, b"ok")
    server.routes["/secret"] = Reply(200, b"credentials")
    engine = HttpEngine(settings(allow_private=False), address_policy=only_127_0_0_1_refused)
    async with engine as http:
        allowed = await http.fetch(server2.url("/fine"))
        result = await http.fetch(server2.url("/out"))
    assert allowed.status == 200  # the policy lets 127.0.0.2 through...
    assert result.failure is Failure.PRIVATE  # ...but not the redirect to 127.0.0.1
    assert [h.status for h in result.redirects] == [302]
    assert server.requests == []


async def test_metadata_name_refused_without_resolving() -> None:
    async def must_not_resolve(host: str, port: int) -> list[str]:
        raise AssertionError("resolved a metadata name")

    async with HttpEngine(settings(allow_private=False), resolver=must_not_resolve) as http:
        result = await http.fetch("http://metadata.google.internal/computeMetadata/v1/")
    assert result.failure is Failure.PRIVATE


async def test_allow_private_lifts_the_guard(server: LoopbackServer) -> None:
    server.routes["/"] = Reply(200, b"ok")
    async with HttpEngine(settings(allow_private=True)) as http:
        result = await http.fetch(f"http://localhost:{server.port}/")
    assert result.status == 200


async def test_unknown_name_is_a_dns_failure() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with HttpEngine(settings(), resolver=nxdomain) as http:
        result = await http.fetch("https://gone.example/")
    assert result.failure is Failure.DNS
    assert result.failure.network_level
    assert "Name or service not known" in (result.error or "")
    assert http.resolved_names == set()


async def test_the_response_time_is_the_first_attempts_not_the_retries(
    server: LoopbackServer,
) -> None:
    """Issue 14: a site that answers 503 at once and 200 after a backoff responded fast;
    the backoff and the second request are the check's time, not the site's."""
    calls = iter([Reply(503, b"busy"), Reply(200, b"fine", delay_s=0.3)])
    server.routes["/slow-retry"] = lambda seen: next(calls)
    async with HttpEngine(settings(retries=1, backoff_s=0.6, backoff_max_s=0.6)) as http:
        result = await http.fetch(server.url("/slow-retry"))
    assert result.status == 200 and result.attempts == 2
    assert result.first_ms is not None and result.first_ms < 250
    assert result.elapsed_ms >= 0.3 * 1000 + 0.6 * 0.5 * 1000  # the answer, the backoff


async def test_a_first_attempt_without_an_answer_has_no_response_time(
    server: LoopbackServer,
) -> None:
    async with HttpEngine(settings(retries=0)) as http:
        result = await http.fetch("http://127.0.0.1:9/closed")  # nothing listens there
    assert result.failure is Failure.CONNECT and result.first_ms is None
