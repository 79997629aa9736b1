"""A shard's work: the message round trip, and running it through the check session into the
store (here the coordinator's `local` shard of files, no broker needed)."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.config.catalog import EngineSettings, GithubSettings, HostLimits
from monitor.domain.models import Kind, Resource, Verdict
from monitor.fleet.work import Item, ShardWork, execute
from monitor.store.database import Store
from monitor.store.fleet import FleetStore


def test_the_message_is_json_and_round_trips() -> None:
    work = ShardWork(
        run_id=7,
        shard="3",
        items=(
            Item("a", Resource("r1", "https://a.example/x", Kind.WEB, "s", "X", line=4,
                               accept=(403,), skip=True, notes="n")),
            Item("b", Resource("r2", "https://github.com/o/r", Kind.GITHUB, "t", "R")),
        ),
        engine=EngineSettings(per_host_concurrency=3, min_interval_ms=70),
        hosts={"a.example": HostLimits(concurrency=1)},
        github=GithubSettings(),
    )  # fmt: skip
    message = json.loads(json.dumps(work.to_message()))
    assert ShardWork.from_message(message) == work
    assert work.per_list() == {"a": 1, "b": 1}


def test_local_files_are_checked_per_list_folder_and_recorded_once(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "guide.pdf").write_bytes(b"%PDF-1.4")
    items = (
        Item("one", Resource("g1", "guide.pdf", Kind.FILE, "s", "G"), str(one)),
        Item("two", Resource("g2", "guide.pdf", Kind.FILE, "s", "G"), str(two)),
    )
    with Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}") as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["local"], {"one": 1, "two": 1})
        work = ShardWork(run_id=run_id, shard="local", items=items)
        first = execute(work, store, worker="coordinator")
        again = execute(work, store, worker="coordinator")
        stored = {r.resource_id: r.verdict for r in fleet.results(run_id)}
        state = fleet.state(run_id)
    # the same relative path exists in one list's folder and not in the other's
    assert stored == {"g1": Verdict.OK, "g2": Verdict.BROKEN}
    assert first.recorded and not again.recorded
    assert state is not None and state.complete and state.reported == {"local": "coordinator"}
