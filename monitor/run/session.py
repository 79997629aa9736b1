"""The check session: the one use case behind `monitor check`, the scheduler and the tests.

    select -> reuse (--max-age) -> exclude -> check (+ second opinion) -> record

One call, `run_session(plan, setup, history)`. The steps in order:

- select: the resources of the `Plan` (the catalog, an `--input` file's links, the links a
  diff changed, or `select_failing`'s re-check list);
- reuse: a stored result younger than `Plan.max_age` stands in for a new check (never an
  error: those are always rechecked); the newest results of all resources come from the
  history in one batched query and also reach the checkers as `CheckContext.previous`;
- exclude: resources matching a `Plan.exclude` pattern become `skipped` results;
- check: `monitor.run.pipeline.run_checks` (scheduling, the second opinion) with
  `monitor.run.evidence` judging network evidence;
- record: checked and excluded results are written as one run when a history is given
  (a session that only reused results adds nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from monitor.checkers import CheckContext
from monitor.config.catalog import EngineSettings, GithubSettings, HostLimits, YoutubeSettings
from monitor.domain.models import CheckResult, Resource, Run, StoredCheck, Verdict, utcnow
from monitor.net.engine import HttpEngine
from monitor.run.pipeline import Outcome, run_checks
from monitor.run.probe import known_good

if TYPE_CHECKING:
    from monitor.config.catalog import Catalog

# How often a stop request is looked at while checks run (the scheduler's shutdown).
_POLL_S = 0.2


class History(Protocol):
    """What a session needs of the store (`monitor.store.database.Store` is one)."""

    def latest_many(
        self, resource_ids: Iterable[str], *, usable_only: bool = False
    ) -> dict[str, CheckResult]: ...

    def record_run(
        self, run: Run, results: Sequence[CheckResult], resources: Sequence[Resource]
    ) -> int: ...


class Progress(Protocol):
    """Told as the session goes (the CLI's progress bar or log lines)."""

    def start(self, total: int) -> None:
        """`total` resources are about to be checked (the reused and excluded are not)."""

    def checked(self, result: CheckResult, provisional: bool) -> None:
        """One check finished. `provisional`: a failed first pass queued for a second
        opinion, whose result comes later; otherwise the link's last check of the run."""

    def rechecking(self, count: int) -> None:
        """`count` failed links were queued for a second opinion."""


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def checked(self, result: CheckResult, provisional: bool) -> None:
        pass

    def rechecking(self, count: int) -> None:
        pass


@dataclass(frozen=True)
class Setup:
    """How to reach the network and what checkers need besides a resource."""

    engine: EngineSettings = field(default_factory=EngineSettings)
    hosts: Mapping[str, HostLimits] = field(default_factory=dict)
    remap: Sequence[tuple[re.Pattern[str], str]] = ()
    base_dir: Path = field(default_factory=Path.cwd)
    youtube: YoutubeSettings = field(default_factory=YoutubeSettings)
    github: GithubSettings = field(default_factory=GithubSettings)
    want_metadata: bool = True  # False for `--input`: existence only

    @classmethod
    def of_catalog(cls, cat: Catalog) -> Setup:
        return cls(
            engine=cat.engine,
            hosts=dict(cat.hosts),
            base_dir=cat.links_dir,
            youtube=cat.youtube,
            github=cat.github,
        )


@dataclass(frozen=True)
class Plan:
    """What one session checks and how."""

    resources: Sequence[Resource]
    exclude: Sequence[re.Pattern[str]] = ()
    max_age: timedelta | None = None  # reuse stored results younger than this
    trigger: str = "cli"  # recorded on the run: cli, adhoc, schedule, schedule-failing
    trust_dns: bool = False  # see `monitor.run.pipeline.run_checks`
    # Catalog links this session does not check, asked as known-good hosts only when the
    # results cannot show that the network works (`monitor.run.probe`): --changed-since.
    known_good: Sequence[Resource] = ()


@dataclass(frozen=True)
class Selection:
    """The plan split against history: what to check, what to reuse, what to skip."""

    to_check: tuple[Resource, ...]
    reused: Mapping[str, CheckResult]  # resource id -> stored result, with a note
    excluded: tuple[Resource, ...]
    previous: Mapping[str, CheckResult]  # resource id -> newest usable stored result


@dataclass(frozen=True)
class Session:
    """What a session found: one result per planned resource, in the plan's order."""

    run: Run
    results: tuple[CheckResult, ...]
    checked: int  # resources checked now (the rest were reused or excluded)
    recorded: bool  # written to the history as one run


class Abandoned(Exception):
    """A stop request arrived while checking: nothing was recorded."""


def select(plan: Plan, history: History | None, now: datetime | None = None) -> Selection:
    """Split the plan: reuse fresh stored results, exclude by pattern, check the rest."""
    previous: dict[str, CheckResult] = {}
    if history is not None:
        previous = history.latest_many([r.id for r in plan.resources], usable_only=True)
    reused: dict[str, CheckResult] = {}
    if plan.max_age is not None:
        when = now or utcnow()
        for resource in plan.resources:
            latest = previous.get(resource.id)
            if latest is not None and _fresh(latest, plan.max_age, when):
                note = f"reused result of {latest.checked_at:%Y-%m-%d %H:%M} UTC (--max-age)"
                reused[resource.id] = _with_note(latest, note)
    excluded = tuple(r for r in plan.resources if any(x.search(r.url) for x in plan.exclude))
    skipped = {r.id for r in excluded}
    to_check = tuple(r for r in plan.resources if r.id not in skipped and r.id not in reused)
    return Selection(to_check=to_check, reused=reused, excluded=excluded, previous=previous)


def select_failing(
    history: Mapping[str, Sequence[StoredCheck]], resources: Sequence[Resource], down_after: int
) -> list[Resource]:
    """Resources whose latest usable checks failed (a failure streak, `monitor.domain.state`):
    the scheduler re-checks them soon, to confirm them as down or to clear them."""
    from monitor.domain.state import derive

    states = derive(resources, history, utcnow(), down_after)
    return [r for r in resources if not r.skip and states[r.id].failures > 0]


def run_session(
    plan: Plan,
    setup: Setup,
    history: History | None = None,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Session:
    """Select, reuse, exclude, check and record; raises `Abandoned` when `stop` is set."""
    chosen = select(plan, history)
    shown = progress or NoProgress()
    shown.start(len(chosen.to_check))
    outcome = asyncio.run(_check(chosen, plan, setup, shown, stop))
    if outcome is None or (stop is not None and stop.is_set()):
        raise Abandoned
    fresh = {r.resource_id: r for r in outcome.results}
    for resource in chosen.excluded:
        fresh[resource.id] = CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=Verdict.SKIPPED,
            checker="none",
            note="excluded by --exclude",
        )
    recorded = [fresh[r.id] for r in plan.resources if r.id in fresh]
    stored = history is not None and bool(recorded)  # only reused results: nothing new
    if history is not None and recorded:
        history.record_run(outcome.run, recorded, plan.resources)
    results = tuple(fresh.get(r.id) or chosen.reused[r.id] for r in plan.resources)
    return Session(run=outcome.run, results=results, checked=len(chosen.to_check), recorded=stored)


async def _check(
    chosen: Selection,
    plan: Plan,
    setup: Setup,
    progress: Progress,
    stop: threading.Event | None,
) -> Outcome | None:
    async with HttpEngine(setup.engine, dict(setup.hosts), remap=setup.remap) as http:
        ctx = CheckContext(
            http=http,
            base_dir=setup.base_dir,
            youtube=setup.youtube,
            github=setup.github,
            previous=chosen.previous,
            want_metadata=setup.want_metadata,
        )
        checks = run_checks(
            chosen.to_check,
            ctx,
            progress=progress.checked,
            trigger=plan.trigger,
            on_recheck=progress.rechecking,
            trust_dns=plan.trust_dns,
            probes=known_good(
                setup.engine.network_probes, chosen.previous.values(), plan.known_good
            ),
        )
        if stop is None:
            return await checks
        task = asyncio.create_task(checks)
        while not task.done():
            if stop.is_set():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            await asyncio.wait({task}, timeout=_POLL_S)
        return task.result()


def _fresh(result: CheckResult, age: timedelta, now: datetime) -> bool:
    return result.verdict is not Verdict.ERROR and now - result.checked_at <= age


def _with_note(result: CheckResult, note: str) -> CheckResult:
    return dataclasses.replace(result, note=f"{result.note}; {note}" if result.note else note)
