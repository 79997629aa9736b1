"""One shard's work: the message a worker receives, and running it.

The message carries everything a worker needs (the links with the list each belongs to, and
the fleet's politeness settings), so a worker needs only the broker and the database, never
the lists themselves. Secrets are not in it: each worker reads its own GITHUB_TOKEN.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.config.catalog import EngineSettings, GithubSettings, HostLimits, YoutubeSettings
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.run.session import Plan, Setup, run_session
from monitor.store.database import Store
from monitor.store.fleet import FleetStore, ShardTally

# (list name -> links checked so far), called at most every PROGRESS_EVERY_S
Progress = Callable[[Mapping[str, int]], None]
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class Item:
    list: str
    resource: Resource
    base_dir: str = ""  # only local files need it (checked by the coordinator)


@dataclass(frozen=True)
class ShardWork:
    run_id: int
    shard: str
    items: tuple[Item, ...]
    engine: EngineSettings = field(default_factory=EngineSettings)
    hosts: Mapping[str, HostLimits] = field(default_factory=dict)
    youtube: YoutubeSettings = field(default_factory=YoutubeSettings)
    github: GithubSettings = field(default_factory=GithubSettings)

    def to_message(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "shard": self.shard,
            "items": [_item_out(item) for item in self.items],
            "engine": self.engine.model_dump(mode="json"),
            "hosts": {h: v.model_dump(mode="json") for h, v in self.hosts.items()},
            "youtube": self.youtube.model_dump(mode="json"),
            "github": self.github.model_dump(mode="json"),
        }

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> ShardWork:
        return cls(
            run_id=int(data["run_id"]),
            shard=str(data["shard"]),
            items=tuple(_item_in(raw) for raw in data["items"]),
            engine=EngineSettings.model_validate(data["engine"]),
            hosts={h: HostLimits.model_validate(v) for h, v in data["hosts"].items()},
            youtube=YoutubeSettings.model_validate(data["youtube"]),
            github=GithubSettings.model_validate(data["github"]),
        )

    def per_list(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.list] = out.get(item.list, 0) + 1
        return out


def _item_out(item: Item) -> dict[str, Any]:
    r = item.resource
    return {
        "list": item.list,
        "base_dir": item.base_dir,
        "id": r.id,
        "url": r.url,
        "kind": r.kind.value,
        "section": r.section,
        "label": r.label,
        "line": r.line,
        "accept": list(r.accept),
        "skip": r.skip,
        "notes": r.notes,
    }


def _item_in(raw: Mapping[str, Any]) -> Item:
    resource = Resource(
        id=raw["id"],
        url=raw["url"],
        kind=Kind(raw["kind"]),
        section=raw["section"],
        label=raw["label"],
        line=raw["line"],
        accept=tuple(raw["accept"]),
        skip=bool(raw["skip"]),
        notes=raw["notes"],
    )
    return Item(list=raw["list"], resource=resource, base_dir=raw.get("base_dir", ""))


@dataclass(frozen=True)
class ShardOutcome:
    recorded: bool  # False: the shard had already reported for this run (a redelivery)
    results: tuple[CheckResult, ...]
    tally: ShardTally | None
    per_list: dict[str, int]


def tally(results: Sequence[CheckResult], network_ok: bool) -> ShardTally:
    """Hosts this shard checked, and how many failed only below HTTP (see run_usable)."""
    hosts: dict[str, bool] = {}
    for result in results:
        host = urlsplit(result.url).hostname
        if not host or result.verdict is Verdict.SKIPPED:
            continue
        hosts[host] = hosts.get(host, True) and result.network_failure
    return ShardTally(len(hosts), sum(hosts.values()), network_ok)


class _ShardHistory:
    """The session's history for one shard: reads as any session does; what the session
    records is kept, and written as the shard's part of the fleet run, once, by `commit`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.results: list[CheckResult] = []
        self.resources: list[Resource] = []
        self.network_ok = True

    def latest_many(
        self, resource_ids: Iterable[str], *, usable_only: bool = False
    ) -> dict[str, CheckResult]:
        return self.store.latest_many(resource_ids, usable_only=usable_only)

    def record_run(
        self, run: Run, results: Sequence[CheckResult], resources: Sequence[Resource]
    ) -> int:
        self.results.extend(results)
        self.resources.extend(resources)
        self.network_ok = self.network_ok and run.network_ok
        return 0

    def commit(self, work: ShardWork, worker: str) -> tuple[bool, ShardTally]:
        counts = tally(self.results, self.network_ok)
        recorded = FleetStore(self.store).record_shard(
            work.run_id, work.shard, self.results, self.resources, counts, worker
        )
        return recorded, counts


class _Counter:
    """The session's progress, as links checked per list, passed on at most once a second."""

    def __init__(self, work: ShardWork, report: Progress | None) -> None:
        self.lists = {item.resource.id: item.list for item in work.items}
        self.report = report
        self.done: dict[str, set[str]] = {}
        self.last = 0.0

    def start(self, total: int) -> None:
        pass

    def rechecking(self, count: int) -> None:
        pass

    def checked(self, result: CheckResult, provisional: bool = False) -> None:
        name = self.lists.get(result.resource_id)
        if name is not None:  # a second opinion is the same link again
            self.done.setdefault(name, set()).add(result.resource_id)
        now = time.monotonic()
        if self.report is not None and now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.report({list_name: len(ids) for list_name, ids in self.done.items()})


def execute(
    work: ShardWork, store: Store, *, worker: str = "", progress: Progress | None = None
) -> ShardOutcome:
    """Check a shard's links with the single-process check session and record them, once.

    Local files of several lists (the coordinator's shard) need each list's folder: one
    session per folder, recorded together."""
    if FleetStore(store).recorded(work.run_id, work.shard):  # redelivered after it was written
        return ShardOutcome(False, (), None, work.per_list())
    by_dir: dict[str, list[Resource]] = {}
    for item in work.items:
        by_dir.setdefault(item.base_dir, []).append(item.resource)
    counter = _Counter(work, progress)
    history = _ShardHistory(store)
    results: list[CheckResult] = []
    for base_dir, resources in by_dir.items():
        setup = Setup(
            engine=work.engine,
            hosts=work.hosts,
            base_dir=Path(base_dir) if base_dir else Path.cwd(),
            youtube=work.youtube,
            github=work.github,
        )
        plan = Plan(resources=resources, trigger="fleet")
        results.extend(run_session(plan, setup, history, progress=counter).results)
    recorded, counts = history.commit(work, worker)
    return ShardOutcome(recorded, tuple(results), counts, work.per_list())
