"""Run checkers over resources: polite scheduling and the second opinion's timing.

The check session (`monitor.run.session`) calls `run_checks`. What network evidence does to
a verdict (private-address skips, network-down and DNS demotions, how a second opinion is
merged) is decided in `monitor.run.evidence`; this module decides only when checks happen.

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
from monitor.net.engine import HttpEngine
from monitor.run.evidence import (
    NETWORK_DOWN_MIN_HOSTS,
    NETWORK_DOWN_SHARE,
    Checked,
    Evidence,
    RecordingHttp,
    RunEvidence,
    judge,
    network_usable,
    second_opinion,
    settle,
)

# Verdicts that get a second opinion before they are recorded.
RECHECK_VERDICTS = frozenset({Verdict.BROKEN, Verdict.ERROR, Verdict.BLOCKED})

ProgressCallback = Callable[[CheckResult], None]


@dataclass(frozen=True)
class Outcome:
    run: Run
    results: tuple[CheckResult, ...]


def _host(resource: Resource) -> str:
    return (urlsplit(resource.url).hostname or "").lower()


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
        http: HttpEngine,
        progress: ProgressCallback | None,
        on_recheck: Callable[[int], None] | None,
        recheck: bool,
    ) -> None:
        self.resources, self.ctx, self.http = resources, ctx, http
        self.progress, self.on_recheck, self.recheck = progress, on_recheck, recheck
        n = len(resources)
        self.results: list[CheckResult | None] = [None] * n
        self.evidence: list[Evidence] = [Evidence()] * n
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
            self.results[index] = second_opinion(first, result)
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
            recorder = RecordingHttp(self.http)
            try:
                result = await _check_one(
                    self.resources[index], dataclasses.replace(self.ctx, http=recorder)
                )
            finally:
                self.inflight[host] -= 1
                self.first_inflight[host] -= not second
            checked = settle(Checked(result, Evidence.of(recorder.notes)))
            self.evidence[index] = checked.evidence
            self.finished(host, index, second, checked.result)
            self.done += 1
            self.offer(host)
            if self.done == self.jobs:
                for _ in range(self.workers):
                    self.ready.put_nowait(None)

    async def run(self) -> list[Checked]:
        if not self.resources:
            return []
        for host in self.queues:
            self.offer(host)
        async with asyncio.TaskGroup() as group:
            for _ in range(self.workers):
                group.create_task(self.worker())
        return [
            Checked(result, evidence)
            for result, evidence in zip(self.results, self.evidence, strict=True)
            if result is not None
        ]


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

    `ctx.http` must be the engine itself: the schedule paces hosts through it, and each check
    sees it through the evidence stage's `RecordingHttp`.

    `trust_dns`: take "name not known" as proof the domain is gone even when no other name
    resolved in this run (for resolvers known to be authoritative, e.g. the benchmark's).
    """
    http = ctx.http
    if not isinstance(http, HttpEngine):
        raise TypeError("run_checks needs the HttpEngine itself as ctx.http")
    started = utcnow()
    await _prepare(resources, ctx)
    schedule = _Schedule(resources, ctx, http, progress, on_recheck, recheck)
    checked = await schedule.run()
    run_evidence = RunEvidence.of([c.result for c in checked], http.resolved_names, trust_dns)
    final = tuple(judge(c, run_evidence) for c in checked)
    usable = run_evidence.usable
    run = Run(
        id=None,
        started_at=started,
        finished_at=utcnow(),
        network_ok=usable,
        trigger=trigger,
        note="" if usable else "network unusable: nearly every host failed at DNS or connect",
    )
    return Outcome(run=run, results=final)
