"""`monitor fleet check`: split the lists into one task per shard, start the run, wait.

The coordinator owns no state the run needs: the run row and the shards it waits for are in
the database before any task is sent, and each shard completes the run when it records, so a
coordinator that dies leaves a run that still completes. Local files (shard `local`) are
checked here, where the lists are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from celery import Celery

from monitor.fleet.app import TASK
from monitor.fleet.config import Fleet
from monitor.fleet.lists import LoadedList, unique_resources
from monitor.fleet.shards import LOCAL, queue, shard_for
from monitor.fleet.work import Item, ShardWork, execute
from monitor.store.database import Store
from monitor.store.fleet import FleetRunState, FleetStore

POLL_S = 1.0  # the coordinator only waits: one look per second


@dataclass(frozen=True)
class Plan:
    works: dict[str, ShardWork]  # shard -> its work (run_id 0 until the run starts)
    lists: dict[str, int]  # list -> links (unique resources)

    @property
    def shards(self) -> list[str]:
        return sorted(self.works, key=lambda s: (s == LOCAL, int(s) if s.isdigit() else 0))


def plan(fleet: Fleet, lists: list[LoadedList], shards: int) -> Plan:
    grouped: dict[str, list[Item]] = {}
    per_list: dict[str, int] = {item.name: 0 for item in lists}
    for name, resource, base_dir in unique_resources(lists):
        shard = shard_for(resource, shards)
        grouped.setdefault(shard, []).append(
            Item(name, resource, str(base_dir) if shard == LOCAL else "")
        )
        per_list[name] += 1
    works = {
        shard: ShardWork(
            run_id=0,
            shard=shard,
            items=tuple(items),
            engine=fleet.engine,
            hosts=fleet.hosts,
            youtube=fleet.youtube,
            github=fleet.github,
        )
        for shard, items in grouped.items()
    }
    return Plan(works, per_list)


def task_id(run_id: int, shard: str) -> str:
    """Deterministic, so a redelivered task keeps its id and its progress."""
    return f"monitor-fleet-{run_id}-{shard}"


def uncovered(app: Celery, shards: list[str], timeout: float = 2.0) -> list[str] | None:
    """Shard queues no running worker consumes (None: no worker answered at all)."""
    answers = app.control.inspect(timeout=timeout).active_queues() or {}
    if not answers:
        return None
    consumed = {q["name"] for queues in answers.values() for q in queues}
    return [s for s in shards if s != LOCAL and queue(s) not in consumed]


def start(app: Celery, store: Store, the_plan: Plan) -> int:
    """Record the run and the shards it waits for, then send one task per network shard."""
    fleet = FleetStore(store)
    run_id = fleet.start_run(the_plan.shards, the_plan.lists)
    for shard in the_plan.shards:
        if shard == LOCAL:
            continue
        work = the_plan.works[shard]
        message = ShardWork(
            run_id, shard, work.items, work.engine, work.hosts, work.youtube, work.github
        ).to_message()
        app.send_task(TASK, args=[message], queue=queue(shard), task_id=task_id(run_id, shard))
    return run_id


def check_local(store: Store, the_plan: Plan, run_id: int) -> None:
    work = the_plan.works.get(LOCAL)
    if work is None:
        return
    local = ShardWork(run_id, LOCAL, work.items, work.engine, work.hosts, work.youtube, work.github)
    execute(local, store, worker="coordinator")


@dataclass(frozen=True)
class Progress:
    state: FleetRunState
    done: dict[str, int]  # list -> links checked so far
    failed: dict[str, str]  # shard -> why its task failed (it will not report)


def _progress(app: Celery, run_id: int, the_plan: Plan, state: FleetRunState) -> Progress:
    done = dict.fromkeys(the_plan.lists, 0)
    failed: dict[str, str] = {}
    for shard, work in the_plan.works.items():
        counts: Mapping[str, Any] = {}
        if shard in state.reported:
            counts = work.per_list()
        elif shard != LOCAL:
            result = app.AsyncResult(task_id(run_id, shard))
            info = result.info
            if result.state == "FAILURE":
                failed[shard] = f"{type(info).__name__}: {info}"
            elif isinstance(info, dict):
                counts = info.get("done", {})
        for name, n in counts.items():
            if name in done:
                done[name] += int(n)
    return Progress(state, done, failed)


def wait(
    app: Celery,
    store: Store,
    the_plan: Plan,
    run_id: int,
    on_progress: Callable[[Progress], None],
    timeout: float | None = None,
) -> Progress:
    """Poll the store (the truth: which shards recorded) and the tasks' progress until the
    run is complete, a shard's task failed for good, or `timeout` seconds pass."""
    fleet = FleetStore(store)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = fleet.state(run_id)
        assert state is not None
        progress = _progress(app, run_id, the_plan, state)
        on_progress(progress)
        if state.complete or progress.failed:
            return progress
        if deadline is not None and time.monotonic() >= deadline:
            return progress
        time.sleep(POLL_S)
