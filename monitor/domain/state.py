"""State across runs, derived from the stored history (never stored twice).

One check is noisy: a site times out, a CDN answers 503 for a minute. The state machine
debounces: a resource is `down` only after failing on `down_after` consecutive usable
checks. Runs whose network was unusable (`Run.network_ok` False) are ignored, so a dead
Wi-Fi never marks anything down nor clears it; only checks that needed no network (local
files, `StoredCheck.usable`) count from such runs.

Verdict classes, as the state machine sees them:
- good: `ok`, `moved` (the link works);
- bad: `broken`, `error` (counts toward `down`);
- `blocked`: the site refused us, we cannot tell (docs/architecture.md). It never counts toward
  `down` and never breaks a failure streak; the resource shows `blocked` while it lasts;
- `skipped`: excluded by configuration; shows `skipped`, changes nothing else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from monitor.domain.models import CheckResult, Metadata, Resource, Run, StoredCheck, Verdict
from monitor.domain.snapshot import HistorySnapshot, ResourceHistory

# Flaky: at least FLAKY_TRANSITIONS good<->bad flips among the last FLAKY_WINDOW good/bad
# checks. ok,bad,ok (one blip, recovered) is 2 flips and not flaky; ok,bad,ok,bad is.
FLAKY_WINDOW = 8
FLAKY_TRANSITIONS = 3
UPTIME_WINDOWS_DAYS = (7, 30, 90)
# How many recent usable checks the response-time sparkline shows.
SPARK_POINTS = 20

GOOD = frozenset({Verdict.OK, Verdict.MOVED})
BAD = frozenset({Verdict.BROKEN, Verdict.ERROR})


class State(StrEnum):
    """A resource's state across runs; the one list every report and command uses."""

    DOWN = "down"
    FLAKY = "flaky"
    BLOCKED = "blocked"
    FAILING = "failing"
    MOVED = "moved"
    RECOVERED = "recovered"
    OK = "ok"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        """Sort key: problems first (lower is worse), in declaration order."""
        return list(State).index(self)

    @property
    def is_problem(self) -> bool:
        return self in PROBLEM_STATES

    @property
    def is_healthy(self) -> bool:
        """Counted as healthy on the badge: the link works today."""
        return self in (State.OK, State.MOVED, State.RECOVERED)


# What a maintainer should look at: down, moved (update the link), blocked, flaky, failing.
PROBLEM_STATES = frozenset({State.DOWN, State.FLAKY, State.BLOCKED, State.FAILING, State.MOVED})


@dataclass(frozen=True)
class Step:
    """One usable check and the state the resource was in right after it."""

    check: StoredCheck
    state: State

    @property
    def at(self) -> datetime:
        return self.check.result.checked_at


@dataclass(frozen=True)
class Transition:
    """The resource entered `state` at `at` (first check in that state)."""

    at: datetime
    state: State
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class Change:
    """A difference between the last two usable checks of a resource."""

    field: str  # title, duration, stars, archived, final_url, verdict
    old: str | int | bool | None
    new: str | int | bool | None
    delta: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ResourceState:
    """Everything reports need about one resource, derived from its history."""

    resource_id: str
    state: State
    since: datetime | None
    latest: CheckResult | None  # latest usable check
    latest_run: Run | None
    previous: CheckResult | None  # the usable check before it
    meta: Metadata  # latest metadata, gaps filled from older checks
    failures: int  # current streak of bad checks
    uptime: Mapping[int, float | None]  # days -> share of good checks, None when no data
    changes: tuple[Change, ...]
    timeline: tuple[Transition, ...]
    steps: tuple[Step, ...]  # usable checks with their state, oldest first
    ignored: int = 0  # checks from runs whose network was unusable
    response_ms: tuple[int | None, ...] = field(default=())
    first_usable: datetime | None = None  # the oldest usable check: how far history goes


def _flips(window: Iterable[bool]) -> int:
    return sum(1 for a, b in pairwise(window) if a != b)


def replay(checks: Sequence[StoredCheck], down_after: int = 2) -> list[Step]:
    """Fold the state machine over a history (oldest first); network-down runs are dropped."""
    steps: list[Step] = []
    streak = 0
    window: deque[bool] = deque(maxlen=FLAKY_WINDOW)
    for check in checks:
        if not check.usable:
            continue
        verdict = check.result.verdict
        if verdict is Verdict.SKIPPED:
            state = State.SKIPPED
        elif verdict is Verdict.BLOCKED:
            state = State.BLOCKED
        elif verdict in BAD:
            streak += 1
            window.append(False)
            if streak >= down_after:
                state = State.DOWN
            elif _flips(window) >= FLAKY_TRANSITIONS:
                state = State.FLAKY
            else:
                state = State.FAILING
        else:
            was_down = streak >= down_after
            streak = 0
            window.append(True)
            if was_down:
                state = State.RECOVERED
            elif _flips(window) >= FLAKY_TRANSITIONS:
                state = State.FLAKY
            else:
                state = State.MOVED if verdict is Verdict.MOVED else State.OK
        steps.append(Step(check, state))
    return steps


def failure_streak(steps: Sequence[Step]) -> int:
    streak = 0
    for step in reversed(steps):
        verdict = step.check.result.verdict
        if verdict in BAD:
            streak += 1
        elif verdict in GOOD:
            break
    return streak


def _detail(result: CheckResult) -> str:
    if result.verdict is Verdict.MOVED and result.moved_to:
        return result.moved_to
    return result.reason() or result.note or ""


def timeline(steps: Sequence[Step]) -> list[Transition]:
    """State transitions: one entry each time the state differs from the one before."""
    out: list[Transition] = []
    for step in steps:
        if not out or out[-1].state is not step.state:
            r = step.check.result
            out.append(Transition(step.at, step.state, r.verdict, _detail(r)))
    return out


def uptime(steps: Sequence[Step], now: datetime, days: int) -> float | None:
    """Share of good checks among the checks that could tell (blocked and skipped can't)."""
    start = now - timedelta(days=days)
    told = [s for s in steps if s.at > start and s.check.result.verdict in GOOD | BAD]
    if not told:
        return None
    return sum(1 for s in told if s.check.result.verdict in GOOD) / len(told)


def changes(old: CheckResult, new: CheckResult) -> list[Change]:
    """What differs between two checks. Unknown (None) metadata is not a change: a
    partial or blocked check knows less, it does not mean the title vanished."""
    out: list[Change] = []
    if old.verdict is not new.verdict:
        reason = _detail(new) if new.verdict is not Verdict.OK else None
        out.append(Change("verdict", old.verdict.value, new.verdict.value, reason=reason or None))
    a, b = old.meta, new.meta
    if a.title is not None and b.title is not None and a.title != b.title:
        out.append(Change("title", a.title, b.title))
    if a.duration_s is not None and b.duration_s is not None and a.duration_s != b.duration_s:
        out.append(Change("duration", a.duration_s, b.duration_s, b.duration_s - a.duration_s))
    if a.stars is not None and b.stars is not None and a.stars != b.stars:
        out.append(Change("stars", a.stars, b.stars, b.stars - a.stars))
    if a.archived is not None and b.archived is not None and a.archived != b.archived:
        out.append(Change("archived", a.archived, b.archived))
    if old.final_url and new.final_url and old.final_url != new.final_url:
        out.append(Change("final_url", old.final_url, new.final_url))
    return out


def unknown_state(resource_id: str, ignored: int) -> ResourceState:
    """A resource with no usable check yet (`ignored`: checks from unusable-network runs)."""
    return ResourceState(
        resource_id=resource_id,
        state=State.UNKNOWN,
        since=None,
        latest=None,
        latest_run=None,
        previous=None,
        meta=Metadata(),
        failures=0,
        uptime={d: None for d in UPTIME_WINDOWS_DAYS},
        changes=(),
        timeline=(),
        steps=(),
        ignored=ignored,
    )


def resource_state(
    resource_id: str,
    checks: Sequence[StoredCheck],
    now: datetime,
    down_after: int = 2,
) -> ResourceState:
    """The current state of one resource from its checks (oldest first)."""
    steps = replay(checks, down_after)
    ignored = len(checks) - len(steps)
    if not steps:
        return unknown_state(resource_id, ignored)
    trans = timeline(steps)
    latest = steps[-1].check
    previous = steps[-2].check.result if len(steps) > 1 else None
    meta = latest.result.meta
    for step in reversed(steps[:-1]):
        meta = meta.merged(step.check.result.meta)
    return ResourceState(
        resource_id=resource_id,
        state=steps[-1].state,
        since=trans[-1].at,
        latest=latest.result,
        latest_run=latest.run,
        previous=previous,
        meta=meta,
        failures=failure_streak(steps),
        uptime={d: uptime(steps, now, d) for d in UPTIME_WINDOWS_DAYS},
        changes=tuple(changes(previous, latest.result)) if previous else (),
        timeline=tuple(trans),
        steps=tuple(steps),
        ignored=ignored,
        response_ms=tuple(s.check.result.elapsed_ms for s in steps[-SPARK_POINTS:]),
    )


def derive(
    resources: Sequence[Resource],
    history: Mapping[str, Sequence[StoredCheck]],
    now: datetime,
    down_after: int = 2,
) -> dict[str, ResourceState]:
    """States of the catalog's resources (in catalog order) from `Store.all_history()`."""
    return {r.id: resource_state(r.id, history.get(r.id, ()), now, down_after) for r in resources}


def state_from_history(resource_id: str, h: ResourceHistory) -> ResourceState:
    """The current state of one resource from its snapshot (the store ran `replay` in SQL:
    the state is that of the last change, which lasts until the next one)."""
    if not h.recent or not h.changes:
        return unknown_state(resource_id, h.ignored)
    latest = h.recent[-1]
    previous = h.recent[-2].result if len(h.recent) > 1 else None
    meta = latest.result.meta
    for check in reversed(h.recent[:-1]):
        meta = meta.merged(check.result.meta)
    trans = tuple(Transition(c.at, State(c.state), c.verdict, c.detail) for c in h.changes)
    return ResourceState(
        resource_id=resource_id,
        state=trans[-1].state,
        since=trans[-1].at,
        latest=latest.result,
        latest_run=latest.run,
        previous=previous,
        meta=meta,
        failures=h.failures,
        uptime={d: None for d in UPTIME_WINDOWS_DAYS} | {w.days: w.share for w in h.windows},
        changes=tuple(changes(previous, latest.result)) if previous else (),
        timeline=trans,
        steps=(),
        ignored=h.ignored,
        response_ms=h.response_ms,
        first_usable=h.first_usable,
    )


def derive_snapshot(
    resources: Sequence[Resource], snapshot: HistorySnapshot
) -> dict[str, ResourceState]:
    """States of the catalog's resources (in catalog order) from a history snapshot."""
    return {r.id: state_from_history(r.id, snapshot.get(r.id)) for r in resources}


def check_detail(result: CheckResult) -> str:
    """What a timeline entry says about the check that started it."""
    return _detail(result)
