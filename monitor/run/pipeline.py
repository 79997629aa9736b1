"""Run checkers over resources: polite scheduling, a second opinion, network-down detection.

Sync code (the CLI, the scheduler) calls `check_resources`; everything below it is async.

Scheduling: a fixed pool of workers (the global concurrency) takes resources round-robin
across hosts, never more at once for one host than the engine's per-host limit. So a slow or
rate-limited host holds at most its own share of workers, and 10,000 links cost 128 tasks,
not 10,000.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.checkers import CHECKERS, CheckContext, checker_for
from monitor.domain.models import CheckResult, Resource, Run, Verdict, utcnow
from monitor.net.engine import FETCH_TRACE, Failure, FetchNote

# The network counts as unusable when at least this share of distinct hosts failed below
# HTTP (DNS, connect) and at least MIN_HOSTS hosts were tried, or when no host at all
# answered over HTTP and some failed below it.
NETWORK_DOWN_SHARE = 0.8
NETWORK_DOWN_MIN_HOSTS = 2
# Verdicts that get a second opinion before they are recorded.
RECHECK_VERDICTS = frozenset({Verdict.BROKEN, Verdict.ERROR, Verdict.BLOCKED})
# Names that resolve without DNS (/etc/hosts): their success proves nothing about DNS.
LOCAL_NAMES = ("localhost",)

ProgressCallback = Callable[[CheckResult], None]


@dataclass(frozen=True)
class Outcome:
    run: Run
    results: tuple[CheckResult, ...]


@dataclass(frozen=True)
class _Evidence:
    """What the engine saw while one resource was checked (from FETCH_TRACE)."""

    refused: FetchNote | None = None  # a connection refused by the private-address guard
    network: bool = False  # some fetch failed at DNS or connect level
    dns: bool = False  # some fetch failed at DNS level


def _evidence(notes: Sequence[FetchNote]) -> _Evidence:
    refused = next((n for n in notes if n.failure is Failure.PRIVATE), None)
    network = any(n.failure is not None and n.failure.network_level for n in notes)
    dns = any(n.failure is Failure.DNS for n in notes)
    return _Evidence(refused, network, dns)


def _host(resource: Resource) -> str:
    return (urlsplit(resource.url).hostname or "").lower()


def network_usable(results: Sequence[CheckResult]) -> bool:
    """False when nearly every distinct host failed at the network level."""
    hosts: dict[str, bool] = {}
    for result in results:
        host = urlsplit(result.url).hostname
        if not host or result.verdict is Verdict.SKIPPED:
            continue
        hosts[host] = hosts.get(host, True) and result.network_failure
    if not hosts:
        return True
    failed = sum(hosts.values())
    if failed == len(hosts):
        return False  # nothing answered at all: we cannot tell a dead link from a dead network
    if len(hosts) < NETWORK_DOWN_MIN_HOSTS:
        return True
    return failed / len(hosts) < NETWORK_DOWN_SHARE


async def _check_one(resource: Resource, ctx: CheckContext) -> CheckResult:
    if resource.skip:
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.SKIPPED,
            checker="none",
            note="skip = true in the catalog",
        )
    checker = checker_for(resource)
    if checker is None:
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.SKIPPED,
            checker="none",
            note=f"no checker handles kind {resource.kind.value!r} yet",
        )
    try:
        return await checker.check(resource, ctx)
    except Exception as exc:  # a checker bug must not sink a 10,000-link run
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.ERROR,
            checker=checker.name,
            error=f"checker {checker.name} crashed: {type(exc).__name__}: {exc}",
        )


def _settle(result: CheckResult, evidence: _Evidence) -> CheckResult:
    """Apply what the engine saw: refused private addresses are skipped, not failures."""
    if evidence.refused is not None and result.verdict is not Verdict.OK:
        return dataclasses.replace(
            result,
            verdict=Verdict.SKIPPED,
            error=None,
            network_failure=False,
            note=f"{evidence.refused.error} (private addresses are not checked; "
            "--allow-private lifts this)",
        )
    if evidence.network and result.verdict.is_failure and not result.network_failure:
        return dataclasses.replace(result, network_failure=True)
    return result


class _Schedule:
    """Runs checks round-robin over hosts within per-host limits, then second opinions.

    A host's failures are rechecked as soon as that host's first pass is over (one at a time,
    `recheck_interval_ms` apart), while other hosts are still being checked, so the second
    opinion costs little wall time. Only when the run so far looks network-usable: otherwise
    the rechecks wait for the end of the first pass, and are dropped if the network is down.
    """

    def __init__(
        self,
        resources: Sequence[Resource],
        ctx: CheckContext,
        progress: ProgressCallback | None,
        on_recheck: Callable[[int], None] | None,
        recheck: bool,
    ) -> None:
        self.resources, self.ctx, self.http = resources, ctx, ctx.http
        self.progress, self.on_recheck, self.recheck = progress, on_recheck, recheck
        n = len(resources)
        self.results: list[CheckResult | None] = [None] * n
        self.evidence: list[_Evidence] = [_Evidence()] * n
        self.queues: dict[str, deque[tuple[int, bool]]] = {}
        for index, resource in enumerate(resources):
            self.queues.setdefault(_host(resource), deque()).append((index, False))
        self.first_left = {host: len(queue) for host, queue in self.queues.items()}
        self.inflight = dict.fromkeys(self.queues, 0)
        self.first_inflight = dict.fromkeys(self.queues, 0)
        self.failed: dict[str, list[int]] = {host: [] for host in self.queues}
        self.deferred: set[str] = set()
        self.slow: set[str] = set()
        self.quick_left = dict.fromkeys(self.queues, 0)  # 404/410 rechecks not yet done
        self.slow_later: dict[str, list[int]] = {host: [] for host in self.queues}
        self.ready: asyncio.Queue[str | None] = asyncio.Queue()
        self.queued: set[str] = set()
        self.jobs, self.done, self.first_done = n, 0, 0
        self.workers = min(self.http.settings.concurrency, n)
        # incremental network_usable(): host -> every result so far failed below HTTP
        self.host_down: dict[str, bool] = {}
        self.hosts_down = 0

    def cap(self, host: str) -> int:
        if host in self.slow:  # one recheck at a time, beside first checks still running
            return 1 + self.first_inflight[host]
        return self.http.host_limits(host)[0]

    def offer(self, host: str) -> None:
        if self.queues[host] and host not in self.queued and self.inflight[host] < self.cap(host):
            self.queued.add(host)
            self.ready.put_nowait(host)

    def looks_usable(self) -> bool:
        answered = len(self.host_down) - self.hosts_down
        if answered == 0:
            return False
        if len(self.host_down) < NETWORK_DOWN_MIN_HOSTS:
            return True
        return self.hosts_down / len(self.host_down) < NETWORK_DOWN_SHARE

    def note_network(self, result: CheckResult) -> None:
        host = urlsplit(result.url).hostname
        if not host or result.verdict is Verdict.SKIPPED:
            return
        down = result.network_failure
        if host not in self.host_down:
            self.host_down[host] = down
            self.hosts_down += down
        elif self.host_down[host] and not down:
            self.host_down[host] = False
            self.hosts_down -= 1

    def start_recheck(self, host: str) -> None:
        """Queue the host's second opinions: definitive 404/410 answers first, at the host's
        own pace (a 404 is the server's considered answer, not a symptom of our pace), then
        every other failure at the slow `recheck_interval_ms` pace, one at a time."""
        again, self.failed[host] = self.failed[host], []
        if not again:
            return
        self.jobs += len(again)
        if self.on_recheck is not None:
            self.on_recheck(len(again))
        quick = [i for i in again if host not in self.slow and self._definitive(i)]
        rest = [i for i in again if i not in quick]
        self.slow_later[host].extend(rest)
        if quick:
            self.quick_left[host] += len(quick)
            self.queues[host].extend((index, True) for index in quick)
            self.offer(host)
        elif not self.quick_left[host]:  # else the last quick recheck starts the slow ones
            self.start_slow(host)

    def _definitive(self, index: int) -> bool:
        result = self.results[index]
        return (
            result is not None
            and result.verdict is Verdict.BROKEN
            and result.status
            in (
                404,
                410,
            )
        )

    def start_slow(self, host: str) -> None:
        later, self.slow_later[host] = self.slow_later[host], []
        if not later:
            return
        if host not in self.slow:
            self.http.slow_down(host, min_interval_ms=self.http.settings.recheck_interval_ms)
            self.slow.add(host)
        self.queues[host].extend((index, True) for index in later)
        self.offer(host)

    def finished(self, host: str, index: int, second: bool, result: CheckResult) -> None:
        if second:
            first = self.results[index]
            assert first is not None
            self.results[index] = _second_opinion(first, result)
            if self.quick_left[host]:
                self.quick_left[host] -= 1
                if not self.quick_left[host]:
                    self.start_slow(host)
        else:
            self.results[index] = result
            self.note_network(result)
            self.first_left[host] -= 1
            self.first_done += 1
            if result.verdict in RECHECK_VERDICTS and self.recheck:
                self.failed[host].append(index)
            # nothing of this host's first pass is queued any more (some may be in flight)
            if self.first_left[host] == self.first_inflight[host] and self.failed[host]:
                if self.looks_usable():
                    self.start_recheck(host)
                else:
                    self.deferred.add(host)
            if self.first_done == len(self.resources):
                done = [r for r in self.results if r is not None]
                if network_usable(done):
                    for waiting in sorted(self.deferred):
                        self.start_recheck(waiting)
                self.deferred = set()
        if self.progress is not None:
            shown = self.results[index]
            assert shown is not None
            self.progress(shown)

    async def worker(self) -> None:
        while (host := await self.ready.get()) is not None:
            self.queued.discard(host)
            index, second = self.queues[host].popleft()
            self.inflight[host] += 1
            self.first_inflight[host] += not second
            self.offer(host)
            notes: list[FetchNote] = []
            token = FETCH_TRACE.set(notes)
            try:
                result = await _check_one(self.resources[index], self.ctx)
            finally:
                FETCH_TRACE.reset(token)
                self.inflight[host] -= 1
                self.first_inflight[host] -= not second
            evidence = _evidence(notes)
            self.evidence[index] = evidence
            self.finished(host, index, second, _settle(result, evidence))
            self.done += 1
            self.offer(host)
            if self.done == self.jobs:
                for _ in range(self.workers):
                    self.ready.put_nowait(None)

    async def run(self) -> tuple[list[CheckResult], list[_Evidence]]:
        if not self.resources:
            return [], []
        for host in self.queues:
            self.offer(host)
        async with asyncio.TaskGroup() as group:
            for _ in range(self.workers):
                group.create_task(self.worker())
        return [r for r in self.results if r is not None], self.evidence


def _second_opinion(first: CheckResult, second: CheckResult) -> CheckResult:
    def why(result: CheckResult) -> str:
        detail = result.error or (f"HTTP {result.status}" if result.status else "")
        return f"{result.verdict.value}, {detail}" if detail else result.verdict.value

    if not second.verdict.is_failure:
        note = f"recovered on second check (first: {why(first)})"
    elif second.verdict is first.verdict:
        note = "confirmed on second check"
    else:
        note = f"second check (first: {why(first)})"
    return dataclasses.replace(second, note=f"{second.note}; {note}" if second.note else note)


def _demote(
    result: CheckResult, evidence: _Evidence, usable: bool, dns_proven: bool
) -> CheckResult:
    """No link is broken because of our network; a DNS failure is NXDOMAIN only if DNS works."""
    if result.verdict is not Verdict.BROKEN or not (result.network_failure or evidence.network):
        return result
    if not usable:
        note = "not counted as broken: the network was unusable during this run"
    elif evidence.dns and not dns_proven:
        note = (
            "not counted as broken: no other name resolved in this run, so a missing "
            "domain cannot be told from a DNS outage"
        )
    else:
        return result
    return dataclasses.replace(
        result,
        verdict=Verdict.ERROR,
        network_failure=True,
        note=f"{result.note}; {note}" if result.note else note,
    )


async def _prepare(resources: Sequence[Resource], ctx: CheckContext) -> None:
    """Let a checker see all its resources first (GitHub batches them into one GraphQL query).

    `prepare(resources, ctx)` is optional on a checker; see `monitor.checkers.base`.
    """
    for checker in CHECKERS:
        prepare = getattr(checker, "prepare", None)
        if prepare is None:
            continue
        mine = [r for r in resources if not r.skip and checker_for(r) is checker]
        if mine:
            await prepare(mine, ctx)


async def run_checks(
    resources: Sequence[Resource],
    ctx: CheckContext,
    *,
    progress: ProgressCallback | None = None,
    trigger: str = "cli",
    recheck: bool = True,
    on_recheck: Callable[[int], None] | None = None,
    trust_dns: bool = False,
) -> Outcome:
    """Check `resources`; failures get a slower second opinion, which is the one kept.

    `trust_dns`: take "name not known" as proof the domain is gone even when no other name
    resolved in this run (for resolvers known to be authoritative, e.g. the benchmark's).
    """
    started = utcnow()
    http = ctx.http
    await _prepare(resources, ctx)
    schedule = _Schedule(resources, ctx, progress, on_recheck, recheck)
    checked, evidence = await schedule.run()
    usable = network_usable(checked)
    dns_proven = trust_dns or any(
        not (name in LOCAL_NAMES or name.endswith(".localhost")) for name in http.resolved_names
    )
    final = tuple(
        _demote(result, ev, usable, dns_proven)
        for result, ev in zip(checked, evidence, strict=True)
    )
    run = Run(
        id=None,
        started_at=started,
        finished_at=utcnow(),
        network_ok=usable,
        trigger=trigger,
        note="" if usable else "network unusable: nearly every host failed at DNS or connect",
    )
    return Outcome(run=run, results=final)
