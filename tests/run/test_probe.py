"""Known-good probes: network usability judged from evidence, not from host counts.

Real engine, real web checker, loopback servers; names resolve through a fake DNS table
(everything else is NXDOMAIN), as a runner whose DNS works would answer.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest

from monitor.checkers import CheckContext
from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Kind, Resource, Verdict, utcnow
from monitor.net.engine import HttpEngine
from monitor.run import probe
from monitor.run.pipeline import Outcome, run_checks
from monitor.run.probe import known_good
from tests.conftest import LoopbackServer, Reply

FAST = {
    "allow_private": True,
    "backoff_s": 0.01,
    "backoff_max_s": 0.02,
    "min_interval_ms": 0,
    "recheck_interval_ms": 0,
    "retries": 0,
}


def engine(table: dict[str, str]) -> HttpEngine:
    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return [table[host]]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return HttpEngine(EngineSettings.model_validate(FAST), resolver=resolve)


def web(url: str) -> Resource:
    return Resource(id=url, url=url, kind=Kind.WEB, section="s", label=url)


async def check(resources: list[Resource], http: HttpEngine, probes: list[str]) -> Outcome:
    async with http:
        return await run_checks(resources, CheckContext(http=http), probes=probes)


def probe_hits(server: LoopbackServer) -> list[str]:
    return [r.path for r in server.requests if r.path == "/probe"]


async def test_one_typo_host_is_broken_when_a_known_good_host_answers(
    server: LoopbackServer,
) -> None:
    """The pull-request case: the run touches one host, a misspelled one."""
    server.routes["/probe"] = Reply(200, b"fine")
    typo = web(f"http://exmaple.test:{server.port}/page")
    outcome = await check(
        [typo],
        engine({"example.test": "127.0.0.1"}),
        [f"http://example.test:{server.port}/probe"],
    )
    assert outcome.run.network_ok
    (result,) = outcome.results
    assert result.verdict is Verdict.BROKEN
    assert "DNS" in (result.error or "")
    # the second opinion dropped while the network looked down runs once the probe proved it up
    assert "confirmed on second check" in (result.note or "")
    assert probe_hits(server) == ["/probe"]
    assert "known-good host" in outcome.run.note


async def test_without_an_answering_known_good_host_the_network_stays_unusable(
    server: LoopbackServer,
) -> None:
    typo = web(f"http://exmaple.test:{server.port}/page")
    dead = f"http://127.0.0.2:{server.port}/probe"  # nothing listens there: connect refused
    outcome = await check([typo], engine({}), [dead, "http://nowhere.test/"])
    assert not outcome.run.network_ok
    (result,) = outcome.results
    assert result.verdict is Verdict.ERROR
    assert "no known-good host answered (127.0.0.2, nowhere.test)" in outcome.run.note


async def test_any_http_answer_proves_the_network(server: LoopbackServer) -> None:
    """A 404 from the probe is an answer: the network works (the probe host rotted)."""
    dns = {"known.test": "127.0.0.1"}
    outcome = await check(
        [web(f"http://exmaple.test:{server.port}/")],
        engine(dns),
        [f"http://known.test:{server.port}/probe"],  # no route: 404
    )
    assert outcome.run.network_ok
    assert outcome.results[0].verdict is Verdict.BROKEN


async def test_an_ip_literal_probe_proves_the_network_but_not_dns(
    server: LoopbackServer,
) -> None:
    server.routes["/probe"] = Reply(200, b"fine")
    outcome = await check(
        [web(f"http://exmaple.test:{server.port}/page")], engine({}), [server.url("/probe")]
    )
    # Something answered over HTTP, but a missing name is no proof of a dead domain while
    # no name resolves: the run can judge nothing by name, so it is an outage (exit 3).
    assert not outcome.run.network_ok
    assert "no name resolved" in outcome.run.note
    (result,) = outcome.results
    assert result.verdict is Verdict.ERROR
    assert "not counted as broken" in (result.note or "")


async def test_a_healthy_run_asks_no_probe(server: LoopbackServer) -> None:
    server.routes["/probe"] = Reply(200, b"fine")
    server.routes["/a"] = Reply(200, b"a")
    outcome = await check(
        [web(f"http://good.test:{server.port}/a"), web(f"http://good.test:{server.port}/zz")],
        engine({"good.test": "127.0.0.1"}),
        [f"http://good.test:{server.port}/probe"],
    )
    assert outcome.run.network_ok
    assert [r.verdict for r in outcome.results] == [Verdict.OK, Verdict.BROKEN]
    assert probe_hits(server) == []


async def test_probe_skips_hosts_that_just_failed_and_asks_few(server: LoopbackServer) -> None:
    server.routes["/probe"] = Reply(200, b"fine")
    dns = {f"h{i}.test": "127.0.0.1" for i in range(6)}
    probes = [f"http://h{i}.test:{server.port}/probe" for i in range(6)]
    async with engine(dns) as http:
        asked, answered = await probe.probe(http, probes, failed_hosts=["h0.test"])
    assert asked == tuple(probes[1 : 1 + probe.PROBE_HOSTS])
    assert answered in asked
    assert len(probe_hits(server)) <= probe.PROBE_HOSTS


async def test_a_hanging_probe_gives_up_at_the_deadline(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "PROBE_DEADLINE_S", 0.5)
    server.routes["/probe"] = Reply(200, b"late", delay_s=2)
    start = time.monotonic()
    async with engine({}) as http:
        asked, answered = await probe.probe(http, [server.url("/probe")], [])
    assert answered is None and asked == (server.url("/probe"),)
    assert time.monotonic() - start < 3


def test_known_good_order_and_filter() -> None:
    def stored(
        url: str, status: int | None, minutes_ago: int, network: bool = False
    ) -> CheckResult:
        return CheckResult(
            resource_id=url,
            url=url,
            verdict=Verdict.OK if status == 200 else Verdict.ERROR,
            status=status,
            network_failure=network,
            checked_at=utcnow() - timedelta(minutes=minutes_ago),
        )

    previous = [
        stored("https://old.example/", 200, 90),
        stored("https://new.example/", 404, 5),  # an answer, even a 404
        stored("https://down.example/", None, 1, network=True),  # no answer: not known-good
    ]
    others = [web("https://other.example/"), web("notes.pdf"), web("https://new.example/")]
    assert known_good(["https://probe.example/"], previous, others) == [
        "https://probe.example/",
        "https://new.example/",
        "https://old.example/",
        "https://other.example/",
    ]
