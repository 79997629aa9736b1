"""Run checkers over resources: bounded concurrency, network-down detection, one entry point.

Sync code (the CLI, the scheduler) calls `check_resources`; everything below it is async.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.checkers import CHECKERS, CheckContext, checker_for
from monitor.models import CheckResult, Resource, Run, Verdict, utcnow

# The network counts as unusable when at least this share of distinct hosts failed below
# HTTP (DNS, connect) and at least MIN_HOSTS hosts were tried.
NETWORK_DOWN_SHARE = 0.8
NETWORK_DOWN_MIN_HOSTS = 2

ProgressCallback = Callable[[CheckResult], None]


@dataclass(frozen=True)
class Outcome:
    run: Run
    results: tuple[CheckResult, ...]


def network_usable(results: Sequence[CheckResult]) -> bool:
    """False when nearly every distinct host failed at the network level."""
    hosts: dict[str, bool] = {}
    for result in results:
        host = urlsplit(result.url).hostname
        if not host or result.verdict is Verdict.SKIPPED:
            continue
        hosts[host] = hosts.get(host, True) and result.network_failure
    if len(hosts) < NETWORK_DOWN_MIN_HOSTS:
        return True
    failed = sum(hosts.values())
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
    return await checker.check(resource, ctx)


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
) -> Outcome:
    started = utcnow()
    limit = asyncio.Semaphore(ctx.http.settings.concurrency)

    async def bounded(resource: Resource) -> CheckResult:
        async with limit:
            result = await _check_one(resource, ctx)
        if progress is not None:
            progress(result)
        return result

    await _prepare(resources, ctx)
    results = await asyncio.gather(*(bounded(r) for r in resources))
    usable = network_usable(results)
    run = Run(
        id=None,
        started_at=started,
        finished_at=utcnow(),
        network_ok=usable,
        trigger=trigger,
        note="" if usable else "network unusable: nearly every host failed at DNS or connect",
    )
    return Outcome(run=run, results=tuple(results))
