"""One shard's work: the message a worker receives, and running it.

The message carries everything a worker needs (the links with the list each belongs to, and
the fleet's politeness settings), so a worker needs only the broker and the database, never
the lists themselves. Secrets are not in it: each worker reads its own GITHUB_TOKEN.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.checkers import CheckContext
from monitor.config.catalog import EngineSettings, GithubSettings, HostLimits, YoutubeSettings
from monitor.domain.models import CheckResult, Kind, Resource, Verdict
from monitor.net.engine import HttpEngine
from monitor.run.pipeline import run_checks
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


def tally(results: tuple[CheckResult, ...], network_ok: bool) -> ShardTally:
    """Hosts this shard checked, and how many failed only below HTTP (see run_usable)."""
    hosts: dict[str, bool] = {}
    for result in results:
        host = urlsplit(result.url).hostname
        if not host or result.verdict is Verdict.SKIPPED:
            continue
        hosts[host] = hosts.get(host, True) and result.network_failure
    return ShardTally(len(hosts), sum(hosts.values()), network_ok)


async def _check(
    work: ShardWork, previous: Mapping[str, CheckResult], progress: Progress | None
) -> tuple[tuple[CheckResult, ...], bool]:
    lists = {item.resource.id: item.list for item in work.items}
    done: dict[str, int] = {}
    last = 0.0

    def on_result(result: CheckResult) -> None:
        nonlocal last
        name = lists.get(result.resource_id)
        if name is not None:
            done[name] = done.get(name, 0) + 1
        now = time.monotonic()
        if progress is not None and now - last >= PROGRESS_EVERY_S:
            last = now
            progress(dict(done))

    results: list[CheckResult] = []
    usable = True
    by_dir: dict[str, list[Resource]] = {}
    for item in work.items:  # one group unless local files of several lists
        by_dir.setdefault(item.base_dir, []).append(item.resource)
    for base_dir, resources in by_dir.items():
        async with HttpEngine(work.engine, dict(work.hosts)) as http:
            ctx = CheckContext(
                http=http,
                base_dir=Path(base_dir) if base_dir else Path.cwd(),
                youtube=work.youtube,
                github=work.github,
                previous=previous,
                want_metadata=True,
            )
            outcome = await run_checks(resources, ctx, progress=on_result, trigger="fleet")
        results.extend(outcome.results)
        usable = usable and outcome.run.network_ok
    return tuple(results), usable


def execute(
    work: ShardWork, store: Store, *, worker: str = "", progress: Progress | None = None
) -> ShardOutcome:
    """Check a shard's links with the single-process engine and record them, once."""
    fleet = FleetStore(store)
    if fleet.recorded(work.run_id, work.shard):  # a redelivery after the work was written
        return ShardOutcome(False, (), None, work.per_list())
    previous = fleet.latest_usable([item.resource.id for item in work.items])
    results, usable = asyncio.run(_check(work, previous, progress))
    counts = tally(results, usable)
    recorded = fleet.record_shard(
        work.run_id,
        work.shard,
        results,
        [item.resource for item in work.items],
        counts,
        worker=worker,
    )
    return ShardOutcome(recorded, results, counts, work.per_list())
