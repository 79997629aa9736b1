"""The pipeline: scheduling within host limits, the second opinion, network-down handling."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from monitor.checkers import CheckContext
from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Kind, Resource, Verdict
from monitor.net.engine import Failure, HttpEngine
from monitor.run import pipeline
from monitor.run.pipeline import network_usable, run_checks
from tests.conftest import LoopbackServer, Reply, Seen

FAST = {
    "allow_private": True,
    "backoff_s": 0.01,
    "backoff_max_s": 0.02,
    "min_interval_ms": 0,
    "recheck_interval_ms": 0,
    "retries": 0,
}


def settings(**overrides: object) -> EngineSettings:
    return EngineSettings.model_validate({**FAST, **overrides})


def resource(url: str, rid: str | None = None) -> Resource:
    return Resource(id=rid or url, url=url, kind=Kind.WEB, section="s", label=url)


class StrictChecker:
    """Like a web checker that trusts DNS: NXDOMAIN is broken. The pipeline must guard it."""

    name = "strict"

    def handles(self, resource: Resource) -> bool:
        return True

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        fetch = await ctx.http.fetch(resource.url)
        if fetch.failure is Failure.DNS:
            verdict = Verdict.BROKEN
        elif fetch.failure is not None:
            verdict = Verdict.ERROR
        elif fetch.status in (404, 410):
            verdict = Verdict.BROKEN
        else:
            verdict = Verdict.OK if fetch.ok else Verdict.ERROR
        # deliberately does not set network_failure: the pipeline learns it from the engine
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=verdict,
            checker=self.name,
            status=fetch.status,
            error=fetch.error,
        )


@pytest.fixture(autouse=True)
def strict_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "checker_for", lambda resource: StrictChecker())


@pytest.fixture
def servers() -> Iterator[list[LoopbackServer]]:
    started = [LoopbackServer(f"127.0.0.{i}").start() for i in (1, 2, 3)]
    try:
        yield started
    finally:
        for srv in started:
            srv.stop()


def fake_dns(table: dict[str, str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return [table[host]]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve


async def check(
    resources: list[Resource], engine: HttpEngine, **kwargs: object
) -> pipeline.Outcome:
    async with engine as http:
        return await run_checks(resources, CheckContext(http=http), **kwargs)  # type: ignore[arg-type]


async def test_every_resource_checked_within_per_host_limits(
    servers: list[LoopbackServer],
) -> None:
    lock = threading.Lock()
    active: dict[int, int] = {}
    peak: dict[int, int] = {}

    def counted(port: int):  # type: ignore[no-untyped-def]
        def handler(seen: Seen) -> Reply:
            with lock:
                active[port] = active.get(port, 0) + 1
                peak[port] = max(peak.get(port, 0), active[port])
            time.sleep(0.02)
            with lock:
                active[port] -= 1
            return Reply(200, b"ok")

        return handler

    for srv in servers:
        srv.routes["/page"] = counted(srv.port)
    resources = [resource(srv.url(f"/page?{i}")) for srv in servers for i in range(20)]
    outcome = await check(resources, HttpEngine(settings(per_host_concurrency=2, concurrency=5)))
    assert [r.url for r in outcome.results] == [r.url for r in resources]  # input order kept
    assert all(r.verdict is Verdict.OK for r in outcome.results)
    assert max(peak.values()) == 2
    assert sum(len(srv.requests) for srv in servers) == 60


async def test_failure_confirmed_on_second_check(server: LoopbackServer) -> None:
    server.routes["/ok"] = Reply(200, b"ok")
    outcome = await check(
        [resource(server.url("/gone")), resource(server.url("/ok"))], HttpEngine(settings())
    )
    gone, ok = outcome.results
    assert gone.verdict is Verdict.BROKEN
    assert gone.note == "confirmed on second check"
    assert ok.note is None
    assert [s.path for s in server.requests].count("/gone") == 2
    assert [s.path for s in server.requests].count("/ok") == 1


async def test_false_alarm_recovered_on_second_check(server: LoopbackServer) -> None:
    answers = iter([Reply(404), Reply(200, b"back")])
    server.routes["/flaky"] = lambda seen: next(answers)
    outcome = await check([resource(server.url("/flaky"))], HttpEngine(settings()))
    (result,) = outcome.results
    assert result.verdict is Verdict.OK
    assert result.note is not None and result.note.startswith("recovered on second check")


def second_requests(server: LoopbackServer) -> list[tuple[str, float]]:
    """(path, arrival) of every request after a path's first, as the server saw them."""
    seen: set[str] = set()
    again = []
    for request in server.requests:
        if request.path in seen:
            again.append((request.path, request.at))
        seen.add(request.path)
    return again


async def test_slow_rechecks_start_apart_and_overlap(server: LoopbackServer) -> None:
    for i in range(3):  # overloaded: 503, slowly
        server.routes[f"/busy{i}"] = Reply(503, delay_s=1.0)
    resources = [resource(server.url(f"/busy{i}")) for i in range(3)]
    engine = HttpEngine(settings(recheck_interval_ms=300, per_host_concurrency=10))
    rechecks: list[int] = []
    outcome = await check(resources, engine, on_recheck=rechecks.append)
    assert sum(rechecks) == 3
    starts = [at for _, at in second_requests(server)]
    assert len(starts) == 3
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(starts))  # 300 ms apart, our end
    # the third started before the first could answer (1 s): paced starts, not one at a time
    assert starts[2] - starts[0] < 0.95
    assert all(r.note == "confirmed on second check" for r in outcome.results)


async def test_definitive_failures_are_rechecked_at_the_hosts_own_pace(
    server: LoopbackServer,
) -> None:
    server.routes["/gone"] = Reply(410)
    server.routes["/busy"] = Reply(503)
    paths = ["/missing0", "/missing1", "/gone", "/busy", "/missing2"]
    engine = HttpEngine(settings(recheck_interval_ms=1500, per_host_concurrency=10))
    outcome = await check([resource(server.url(p)) for p in paths], engine)
    assert all(r.note == "confirmed on second check" for r in outcome.results)
    first = {s.path: s.at for s in reversed(server.requests)}
    second = dict(second_requests(server))
    assert sorted(second) == sorted(paths)  # every failure had a second opinion
    # 404/410: asked again at once; the 503 asked us to slow down: one interval later
    assert max(second[p] - first[p] for p in paths if p != "/busy") < 1.0
    assert second["/busy"] - first["/busy"] >= 1.4


async def test_a_recheck_starts_while_its_hosts_first_pass_runs(server: LoopbackServer) -> None:
    server.routes["/page"] = Reply(200, b"ok")
    paths = ["/missing", *(f"/page?{i}" for i in range(20))]
    engine = HttpEngine(settings(min_interval_ms=100, per_host_concurrency=10))
    outcome = await check([resource(server.url(p)) for p in paths], engine)
    assert outcome.results[0].note == "confirmed on second check"
    (recheck,) = [at for path, at in second_requests(server) if path == "/missing"]
    last_first = max(s.at for s in server.requests if s.path.startswith("/page"))
    assert recheck < last_first - 0.5  # 20 starts 100 ms apart: about 2 s of first pass


async def test_hanging_links_are_rechecked_overlapping(server: LoopbackServer) -> None:
    """Issue 11: four silent links on one host cost one read timeout plus one recheck.

    Not retried inside the first check (the second opinion is their retry), and rechecked
    paced by start, not one after another: the server's own arrival times show it.
    """
    timeout, pace = 1.5, 0.2
    hangs = [f"/hang{i}" for i in range(4)]
    for path in hangs:
        server.routes[path] = Reply(200, b"late", delay_s=6)
    paths = [*hangs, "/page0", "/page1"]
    for path in ("/page0", "/page1"):
        server.routes[path] = Reply(200, b"ok")
    engine = HttpEngine(
        settings(read_timeout_s=timeout, retries=3, recheck_interval_ms=pace * 1000)
    )
    outcome = await check([resource(server.url(p)) for p in paths], engine)
    asked = [s.path for s in server.requests]
    assert all(asked.count(path) == 2 for path in hangs)  # first check + second opinion
    starts = sorted(s.at for s in server.requests)
    rechecks = sorted(at for path, at in second_requests(server) if path in hangs)
    assert all(b - a >= pace * 0.75 for a, b in itertools.pairwise(rechecks))  # paced
    # one timeout, then four starts `pace` apart; one after another would take 4 timeouts
    assert rechecks[-1] - starts[0] < timeout + 4 * pace + 0.8
    errors = [r for r in outcome.results if r.url.split("/")[-1].startswith("hang")]
    assert [r.verdict for r in errors] == [Verdict.ERROR] * 4
    assert all(r.note == "confirmed on second check" for r in errors)


async def test_private_address_reported_as_skipped(server: LoopbackServer) -> None:
    outcome = await check([resource(server.url("/x"))], HttpEngine(settings(allow_private=False)))
    (result,) = outcome.results
    assert result.verdict is Verdict.SKIPPED
    assert "loopback" in (result.note or "")
    assert "--allow-private" in (result.note or "")
    assert server.requests == []
    assert outcome.run.network_ok  # a refusal is not a network failure


async def test_network_down_changes_no_verdict_to_broken() -> None:
    resources = [resource(f"https://site{i}.example/page") for i in range(5)]
    outcome = await check(resources, HttpEngine(settings(), resolver=fake_dns({})))
    assert not outcome.run.network_ok
    assert all(r.verdict is Verdict.ERROR for r in outcome.results)
    assert all(r.network_failure for r in outcome.results)
    assert all("network was unusable" in (r.note or "") for r in outcome.results)


async def test_nxdomain_is_broken_when_dns_demonstrably_works(
    server: LoopbackServer,
) -> None:
    server.routes["/"] = Reply(200, b"ok")
    dns = fake_dns({"good.example": "127.0.0.1", "also-good.example": "127.0.0.1"})
    resources = [
        resource(f"http://good.example:{server.port}/"),
        resource(f"http://also-good.example:{server.port}/"),
        resource("http://gone.example/"),
    ]
    outcome = await check(resources, HttpEngine(settings(), resolver=dns))
    assert outcome.run.network_ok
    assert [r.verdict for r in outcome.results] == [Verdict.OK, Verdict.OK, Verdict.BROKEN]


async def test_nxdomain_is_not_broken_when_no_name_resolved(server: LoopbackServer) -> None:
    # Like this sandbox: literal addresses answer, every name fails as if NXDOMAIN.
    server.routes["/"] = Reply(200, b"ok")
    resources = [resource(server.url("/")), resource("http://gone.example/")]
    outcome = await check(resources, HttpEngine(settings(), resolver=fake_dns({})))
    ok, gone = outcome.results
    assert ok.verdict is Verdict.OK
    assert gone.verdict is Verdict.ERROR
    assert "not counted as broken" in (gone.note or "")
    # ...and the run is an outage: an error stored in a usable run would count towards
    # `down` on the next night, and the README would show ❌ for a link never judged.
    assert not outcome.run.network_ok
    assert "no name resolved" in outcome.run.note


def test_network_usable_needs_some_host_answering() -> None:
    def result(url: str, network: bool) -> CheckResult:
        verdict = Verdict.ERROR if network else Verdict.OK
        return CheckResult(resource_id=url, url=url, verdict=verdict, network_failure=network)

    assert not network_usable([result("https://a.example/", True)])
    assert network_usable([result("https://a.example/", False)])
    mostly_down = [result(f"https://h{i}.example/", True) for i in range(9)]
    assert not network_usable([*mostly_down, result("https://up.example/", False)])
    half = [result(f"https://h{i}.example/", i % 2 == 0) for i in range(10)]
    assert network_usable(half)
    assert network_usable([])


async def test_a_crashing_checker_becomes_an_error(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Crashing(StrictChecker):
        async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
            raise RuntimeError("bug")

    monkeypatch.setattr(pipeline, "checker_for", lambda resource: Crashing())
    outcome = await check([resource(server.url("/"))], HttpEngine(settings()))
    assert outcome.results[0].verdict is Verdict.ERROR
    assert "RuntimeError: bug" in (outcome.results[0].error or "")


async def test_second_opinion_overlaps_other_hosts_first_pass(
    servers: list[LoopbackServer],
) -> None:
    fast, slow, _ = servers
    slow.routes["/slow"] = Reply(200, b"ok", delay_s=1.5)
    resources = [resource(fast.url("/gone")), resource(slow.url("/slow"))]
    started = time.monotonic()
    outcome = await check(resources, HttpEngine(settings(recheck_interval_ms=100)))
    rechecked_at = fast.requests[1].at
    assert rechecked_at - started < 1.2  # while the slow host was still answering
    assert outcome.results[0].note == "confirmed on second check"
    assert outcome.results[1].verdict is Verdict.OK
