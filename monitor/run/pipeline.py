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
import heapq
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from monitor.checkers import CHECKERS, CheckContext, checker_for
from monitor.domain.models import CheckResult, Resource, Run, Verdict, utcnow
from monitor.net.engine import Failure, HttpEngine
from monitor.run.evidence import (
    NETWORK_DOWN_MIN_HOSTS,
    NETWORK_DOWN_SHARE,
    Checked,
    Evidence,
    FetchNote,
    RecordingHttp,
    host_of,
    judge,
    network_usable,
    second_opinion,
    settle,
)
from monitor.run.inert import inert_result, known_secrets
from monitor.run.probe import with_known_good

# Verdicts that get a second opinion before they are recorded.
RECHECK_VERDICTS = frozenset({Verdict.BROKEN, Verdict.ERROR, Verdict.BLOCKED})

# Told of every finished check: (result, provisional). A provisional result is a first
# pass that failed and is (or, once the first pass shows the network works, will be) queued
# for a second opinion; the rest are the link's last check (the network-evidence stage may
# still turn a failure into `error` when the run ends).
ProgressCallback = Callable[[CheckResult, bool], None]


@dataclass(frozen=True)
class Outcome:
    run: Run
    results: tuple[CheckResult, ...]


def _host(resource: Resource) -> str:
    return (host_of(resource.url) or "").lower()


async def _check_one(resource: Resource, ctx: CheckContext) -> CheckResult:
    if resource.skip or resource.skip_reason:
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.SKIPPED,
            checker="none",
            note=resource.skip_reason or "skip = true in the catalog",
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
    secrets = known_secrets(ctx.http.settings.headers)
    try:
        return inert_result(await checker.check(resource, ctx), secrets)
    except Exception as exc:  # a checker bug must not sink a 10,000-link run
        crashed = CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.ERROR,
            checker=checker.name,
            error=f"checker {checker.name} crashed: {type(exc).__name__}: {exc}",
        )
        return inert_result(crashed, secrets)


class _Schedule:
    """Runs checks round-robin over hosts within per-host limits, and each failure's second
    opinion as soon as the failure is known.

    Pacing is about how often requests *start* on a host (the engine's per-host interval); a
    request that hangs costs the server nothing. So second opinions overlap, beside the
    host's first pass still running, within the same per-host limits. Those whose answer
    asked us to slow down (429, 502-504, a timeout) start `recheck_interval_ms` apart on
    their host, one interval after the answer, timeouts first; every other failure is
    rechecked at the host's own pace. Only while the run so far looks network-usable:
    otherwise the rechecks wait for the end of the first pass, and are dropped if the network
    is down.
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
        self.first: dict[str, deque[int]] = {}
        for index, resource in enumerate(resources):
            self.first.setdefault(_host(resource), deque()).append(index)
        # per host, a heap of second opinions: (not before, pace, order, index)
        self.again: dict[str, list[tuple[float, _Pace, int, int]]] = {h: [] for h in self.first}
        self.slow_next = dict.fromkeys(self.first, 0.0)  # the next slow recheck's earliest start
        self.slow_interval = http.settings.recheck_interval_ms / 1000
        self.wake: dict[str, asyncio.TimerHandle] = {}
        self.inflight = dict.fromkeys(self.first, 0)
        self.deferred: list[tuple[_Pace, int]] = []
        self.ready: asyncio.Queue[str | None] = asyncio.Queue()
        self.queued: set[str] = set()
        self.jobs, self.done, self.first_done, self.order = n, 0, 0, 0
        self.workers = min(http.settings.concurrency, n)
        # incremental network_usable(): host -> every result so far failed below HTTP
        self.host_down: dict[str, bool] = {}
        self.hosts_down = 0
        # failures whose second opinion was dropped because the network looked down
        self.dropped: list[int] = []

    def offer(self, host: str) -> None:
        """Hand the host to a worker if it has a job that may start now, else wake it later."""
        if host in self.queued or self.inflight[host] >= self.http.host_limits(host)[0]:
            return
        again = self.again[host]
        loop = asyncio.get_running_loop()
        if self.first[host] or (again and again[0][0] <= loop.time()):
            self.queued.add(host)
            self.ready.put_nowait(host)
        elif again and host not in self.wake:
            self.wake[host] = loop.call_at(again[0][0], self._woken, host)

    def _woken(self, host: str) -> None:
        del self.wake[host]
        self.offer(host)

    def take(self, host: str) -> tuple[int, bool]:
        """The host's next job: a second opinion that may start, else the next first check."""
        again = self.again[host]
        if again and again[0][0] <= asyncio.get_running_loop().time():
            return heapq.heappop(again)[3], True
        return self.first[host].popleft(), False

    def looks_usable(self) -> bool:
        answered = len(self.host_down) - self.hosts_down
        if answered == 0:
            return False
        if len(self.host_down) < NETWORK_DOWN_MIN_HOSTS:
            return True
        return self.hosts_down / len(self.host_down) < NETWORK_DOWN_SHARE

    def note_network(self, result: CheckResult) -> None:
        host = host_of(result.url)
        if not host or result.verdict is Verdict.SKIPPED:
            return
        down = result.network_failure
        if host not in self.host_down:
            self.host_down[host] = down
            self.hosts_down += down
        elif self.host_down[host] and not down:
            self.host_down[host] = False
            self.hosts_down -= 1

    def recheck_later(self, index: int, pace: _Pace) -> None:
        """Queue one second opinion: now, or at the host's slow pace when the answer asked."""
        host = _host(self.resources[index])
        not_before = asyncio.get_running_loop().time()
        if pace is not _Pace.HOST:  # one interval after the answer, and interval apart
            not_before = max(not_before + self.slow_interval, self.slow_next[host])
            self.slow_next[host] = not_before + self.slow_interval
        self.order += 1
        heapq.heappush(self.again[host], (not_before, pace, self.order, index))
        self.jobs += 1
        if self.on_recheck is not None:
            self.on_recheck(1)
        self.offer(host)

    def finished(self, index: int, second: bool, result: CheckResult, pace: _Pace) -> None:
        if second:
            first = self.results[index]
            assert first is not None
            self.results[index] = second_opinion(first, result)
        else:
            self.results[index] = result
            self.note_network(result)
            self.first_done += 1
            if result.verdict in RECHECK_VERDICTS and self.recheck:
                if self.looks_usable():
                    self.recheck_later(index, pace)
                else:
                    self.deferred.append((pace, index))
            if self.first_done == len(self.resources):
                done = [r for r in self.results if r is not None]
                if network_usable(done):
                    for waiting_pace, waiting in sorted(self.deferred):  # timeouts first
                        self.recheck_later(waiting, waiting_pace)
                else:
                    self.dropped = [waiting for _, waiting in sorted(self.deferred)]
                self.deferred = []
        if self.progress is not None:
            shown = self.results[index]
            assert shown is not None
            provisional = not second and result.verdict in RECHECK_VERDICTS and self.recheck
            self.progress(shown, provisional)

    async def worker(self) -> None:
        while (host := await self.ready.get()) is not None:
            self.queued.discard(host)
            index, second = self.take(host)
            self.inflight[host] += 1
            self.offer(host)
            # a second opinion is itself the retry: no transport-level retries inside it
            recorder = RecordingHttp(self.http, second=second)
            try:
                result = await _check_one(
                    self.resources[index], dataclasses.replace(self.ctx, http=recorder)
                )
            finally:
                self.inflight[host] -= 1
            checked = settle(Checked(result, Evidence.of(recorder.notes)))
            self.evidence[index] = checked.evidence
            self.finished(index, second, checked.result, _pace(result, recorder.notes))
            self.done += 1
            self.offer(host)
            if self.done == self.jobs:
                for _ in range(self.workers):
                    self.ready.put_nowait(None)

    async def run(self) -> list[Checked]:
        if not self.resources:
            return []
        for host in self.first:
            self.offer(host)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.workers):
                    group.create_task(self.worker())
        finally:
            for handle in self.wake.values():
                handle.cancel()
        return [
            Checked(result, evidence)
            for result, evidence in zip(self.results, self.evidence, strict=True)
            if result is not None
        ]


class _Pace(IntEnum):
    """How soon a failure's second opinion may start on its host (lower: sooner)."""

    TIMEOUT = 0  # the host was silent: slow pace, and first in line (the longest to answer)
    SLOW = 1  # the host asked us to slow down or was overloaded (429, 502-504)
    HOST = 2  # any other failure: the host's own pace


# Answers that ask for a slower second opinion; every other failure gets the host's own pace.
SLOW_STATUSES = frozenset({429, 502, 503, 504})


def _pace(result: CheckResult, notes: Sequence[FetchNote]) -> _Pace:
    if any(n.failure in (Failure.TIMEOUT, Failure.DEADLINE) for n in notes):
        return _Pace.TIMEOUT
    if result.status in SLOW_STATUSES:
        return _Pace.SLOW
    return _Pace.HOST


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
    probes: Sequence[str] = (),
) -> Outcome:
    """Check `resources`; failures get a second opinion, which is the one kept.

    `ctx.http` must be the engine itself: the schedule paces hosts through it, and each check
    sees it through the evidence stage's `RecordingHttp`.

    `trust_dns`: take "name not known" as proof the domain is gone even when no other name
    resolved in this run (for resolvers known to be authoritative, e.g. the benchmark's).
    `probes`: known-good URLs asked when the results alone cannot show that the network and
    DNS work (`monitor.run.probe`).
    """
    http = ctx.http
    if not isinstance(http, HttpEngine):
        raise TypeError("run_checks needs the HttpEngine itself as ctx.http")
    started = utcnow()
    await _prepare(resources, ctx)
    schedule = _Schedule(resources, ctx, http, progress, on_recheck, recheck)
    checked = await schedule.run()
    run_evidence, note = await with_known_good(checked, http, probes, trust_dns)
    if run_evidence.usable and schedule.dropped:
        checked = await _late_second_opinions(
            resources, ctx, http, schedule.dropped, checked, progress, on_recheck
        )
    final = tuple(judge(c, run_evidence) for c in checked)
    usable = run_evidence.usable
    run = Run(
        id=None,
        started_at=started,
        finished_at=utcnow(),
        network_ok=usable,
        trigger=trigger,
        note=note,
    )
    return Outcome(run=run, results=final)


async def _late_second_opinions(
    resources: Sequence[Resource],
    ctx: CheckContext,
    http: HttpEngine,
    dropped: Sequence[int],
    checked: Sequence[Checked],
    progress: ProgressCallback | None,
    on_recheck: Callable[[int], None] | None,
) -> list[Checked]:
    """The second opinions the schedule dropped while the network looked down, once a
    known-good host showed it up (they failed below HTTP: the host's own pace will do)."""
    if on_recheck is not None:
        on_recheck(len(dropped))
    again = _Schedule([resources[i] for i in dropped], ctx, http, progress, None, recheck=False)
    out = list(checked)
    for index, second in zip(dropped, await again.run(), strict=True):
        merged = second_opinion(out[index].result, second.result)
        out[index] = Checked(merged, second.evidence)
    return out
