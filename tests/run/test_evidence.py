"""The evidence stage: what the engine saw while a resource was checked, and each link of the
chains that turn it into verdict changes (each link tested on its own, then in order)."""

from __future__ import annotations

import socket

from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Verdict
from monitor.net.engine import Failure, HttpEngine
from monitor.run.evidence import (
    Checked,
    Evidence,
    FetchNote,
    RecordingHttp,
    RunEvidence,
    demote_unproven_dns,
    demote_when_network_unusable,
    judge,
    mark_network_failure,
    second_opinion,
    settle,
    skip_refused_private,
)
from tests.conftest import LoopbackServer, Reply

URL = "https://gone.example/page"
REFUSED = FetchNote(URL, Failure.PRIVATE, "refused to connect: 10.0.0.1 is private")
DNS = FetchNote(URL, Failure.DNS, "DNS lookup failed: Name or service not known")
CONNECT = FetchNote(URL, Failure.CONNECT, "connection failed: refused")
ANSWERED = FetchNote(URL, None, None)
USABLE = RunEvidence(usable=True, dns_proven=True)


def result(verdict: Verdict, **kw: object) -> CheckResult:
    return CheckResult("r", URL, verdict, **kw)  # type: ignore[arg-type]


def test_evidence_sums_up_the_fetches() -> None:
    assert Evidence.of([ANSWERED]) == Evidence()
    assert Evidence.of([ANSWERED, REFUSED]) == Evidence(refused=REFUSED)
    assert Evidence.of([CONNECT]) == Evidence(network=True)
    assert Evidence.of([ANSWERED, DNS]) == Evidence(network=True, dns=True)


def test_refused_private_address_is_skipped_not_failed() -> None:
    got = skip_refused_private(result(Verdict.BROKEN, error="x"), Evidence(refused=REFUSED))
    assert got.verdict is Verdict.SKIPPED and got.error is None
    assert got.note is not None and "--allow-private" in got.note
    ok = result(Verdict.OK)
    assert skip_refused_private(ok, Evidence(refused=REFUSED)) is ok
    broken = result(Verdict.BROKEN)
    assert skip_refused_private(broken, Evidence()) is broken


def test_network_failure_is_marked_from_the_engine_not_the_checker() -> None:
    got = mark_network_failure(result(Verdict.ERROR), Evidence(network=True))
    assert got.network_failure
    assert not mark_network_failure(result(Verdict.ERROR), Evidence()).network_failure
    assert not mark_network_failure(result(Verdict.OK), Evidence(network=True)).network_failure


def test_settle_runs_the_after_check_chain() -> None:
    settled = settle(Checked(result(Verdict.BROKEN), Evidence(refused=REFUSED, network=True)))
    assert settled.result.verdict is Verdict.SKIPPED
    assert not settled.result.network_failure  # the skip link ran first, the mark saw a skip


def test_broken_by_our_network_is_an_error() -> None:
    broken = result(Verdict.BROKEN, network_failure=True)
    down = RunEvidence(usable=False, dns_proven=True)
    got = demote_when_network_unusable(broken, Evidence(network=True), down)
    assert got.verdict is Verdict.ERROR and "network was unusable" in (got.note or "")
    assert demote_when_network_unusable(broken, Evidence(network=True), USABLE) is broken
    plain_404 = result(Verdict.BROKEN, status=404)
    assert demote_when_network_unusable(plain_404, Evidence(), down) is plain_404


def test_nxdomain_counts_only_when_dns_is_shown_to_work() -> None:
    broken = result(Verdict.BROKEN, network_failure=True)
    unproven = RunEvidence(usable=True, dns_proven=False)
    got = demote_unproven_dns(broken, Evidence(network=True, dns=True), unproven)
    assert got.verdict is Verdict.ERROR and "no other name resolved" in (got.note or "")
    assert demote_unproven_dns(broken, Evidence(network=True, dns=True), USABLE) is broken
    connect = Evidence(network=True)  # refused, not DNS: DNS proof is not needed
    assert demote_unproven_dns(broken, connect, unproven) is broken


def test_judge_gives_one_reason_when_both_apply() -> None:
    broken = result(Verdict.BROKEN, network_failure=True)
    got = judge(Checked(broken, Evidence(network=True, dns=True)), RunEvidence(False, False))
    assert got.verdict is Verdict.ERROR
    assert got.note == "not counted as broken: the network was unusable during this run"


def test_run_evidence_dns_proof_ignores_local_names() -> None:
    results = [result(Verdict.OK)]
    assert not RunEvidence.of(results, {"localhost", "a.localhost"}, trust_dns=False).dns_proven
    assert RunEvidence.of(results, {"localhost", "example.org"}, trust_dns=False).dns_proven
    assert RunEvidence.of(results, set(), trust_dns=True).dns_proven


def test_second_opinion_keeps_the_recheck_and_says_what_the_first_found() -> None:
    first = result(Verdict.BROKEN, status=404)
    recovered = second_opinion(first, result(Verdict.OK, note="n"))
    assert recovered.verdict is Verdict.OK
    assert recovered.note == "n; recovered on second check (first: broken, HTTP 404)"
    assert second_opinion(first, first).note == "confirmed on second check"
    other = second_opinion(first, result(Verdict.ERROR, error="timed out"))
    assert other.note == "second check (first: broken, HTTP 404)"


async def test_recording_http_notes_every_fetch(server: LoopbackServer) -> None:
    server.routes["/ok"] = Reply(200, b"ok")
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings = EngineSettings(allow_private=True, retries=0)
    async with HttpEngine(settings) as engine:
        recorder = RecordingHttp(engine)
        assert recorder.settings is engine.settings
        assert (await recorder.fetch(server.url("/ok"))).status == 200
        await recorder.fetch(f"http://127.0.0.1:{closed}/")
    assert [n.failure for n in recorder.notes] == [None, Failure.CONNECT]
    assert Evidence.of(recorder.notes).network
    async with HttpEngine(EngineSettings(retries=0)) as guarded:  # private addresses refused
        recorder = RecordingHttp(guarded)
        await recorder.fetch(server.url("/ok"))
    assert Evidence.of(recorder.notes).refused is not None
