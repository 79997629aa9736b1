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
from monitor.http import FETCH_TRACE, Failure, FetchNote
from monitor.models import CheckResult, Resource, Run, Verdict, utcnow

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


async def _run_pass(
    resources: Sequence[Resource],
    ctx: CheckContext,
    per_host: Callable[[str], int],
    progress: ProgressCallback | None,
) -> list[tuple[CheckResult, _Evidence]]:
    """Check every resource once, round-robin over hosts, within per-host limits."""
    results: list[tuple[CheckResult, _Evidence] | None] = [None] * len(resources)
    if not resources:
        return []
    queues: dict[str, deque[int]] = {}
    for index, resource in enumerate(resources):
        queues.setdefault(_host(resource), deque()).append(index)
    inflight = dict.fromkeys(queues, 0)
    ready: asyncio.Queue[str | None] = asyncio.Queue()
    queued: set[str] = set()
    workers = min(ctx.http.settings.concurrency, len(resources))
    finished = 0

    def offer(host: str) -> None:
        if queues[host] and host not in queued and inflight[host] < per_host(host):
            queued.add(host)
            ready.put_nowait(host)

    for host in queues:
        offer(host)

    async def worker() -> None:
        nonlocal finished
        while (host := await ready.get()) is not None:
            queued.discard(host)
            index = queues[host].popleft()
            inflight[host] += 1
            offer(host)
            notes: list[FetchNote] = []
            token = FETCH_TRACE.set(notes)
            try:
                result = await _check_one(resources[index], ctx)
            finally:
                FETCH_TRACE.reset(token)
                inflight[host] -= 1
            evidence = _evidence(notes)
            result = _settle(result, evidence)
            results[index] = (result, evidence)
            if progress is not None:
                progress(result)
            finished += 1
            offer(host)
            if finished == len(resources):
                for _ in range(workers):
                    ready.put_nowait(None)

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
    return [r for r in results if r is not None]


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
) -> Outcome:
    """Check `resources`; failures get a slower second opinion, which is the one kept."""
    started = utcnow()
    http = ctx.http
    await _prepare(resources, ctx)
    first = await _run_pass(resources, ctx, lambda h: http.host_limits(h)[0], progress)
    checked = [result for result, _ in first]
    evidence = [ev for _, ev in first]
    usable = network_usable(checked)
    again = [i for i, r in enumerate(checked) if r.verdict in RECHECK_VERDICTS]
    if recheck and usable and again:
        if on_recheck is not None:
            on_recheck(len(again))
        http.slow_down(concurrency=1, min_interval_ms=http.settings.recheck_interval_ms)
        second = await _run_pass([resources[i] for i in again], ctx, lambda h: 1, progress)
        for i, (result, ev) in zip(again, second, strict=True):
            checked[i], evidence[i] = _second_opinion(checked[i], result), ev
        usable = network_usable(checked)
    dns_proven = any(
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
