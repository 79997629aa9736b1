"""Fleet runs in the store, on SQLite and PostgreSQL: a shard's results are written once
whatever the redeliveries, and a run is complete only when every shard reported."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from monitor.domain.models import CheckResult, Kind, Resource, Verdict, utcnow
from monitor.store.database import Store
from monitor.store.fleet import FleetStore, RunShardRow, ShardTally, run_usable


def _resources(prefix: str, n: int) -> list[Resource]:
    return [
        Resource(f"{prefix}{i}", f"https://{prefix}.example/{i}", Kind.WEB, "s", f"R {i}")
        for i in range(n)
    ]


def _results(resources: list[Resource], verdict: Verdict = Verdict.OK) -> list[CheckResult]:
    return [CheckResult(r.id, r.url, verdict, status=200) for r in resources]


OK_TALLY = ShardTally(hosts=1, hosts_down=0, network_ok=True)


def test_a_shard_is_recorded_once_whatever_the_redeliveries(db_url: str) -> None:
    a, b = _resources("a", 3), _resources("b", 2)
    with Store.open(db_url) as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0", "1"], {"list": 5})
        assert fleet.record_shard(run_id, "0", _results(a), a, OK_TALLY, worker="w1")
        # the broker hands the same shard out again (its worker died before the ack)
        assert not fleet.record_shard(
            run_id, "0", _results(a, Verdict.BROKEN), a, OK_TALLY, worker="w2"
        )
        assert fleet.record_shard(run_id, "1", _results(b), b, OK_TALLY, worker="w2")
        stored = fleet.results(run_id)
        state = fleet.state(run_id)
    assert Counter(r.resource_id for r in stored) == {r.id: 1 for r in a + b}
    assert {r.verdict for r in stored} == {Verdict.OK}  # the first write stands
    assert state is not None and state.reported == {"0": "w1", "1": "w2"}


def test_the_database_refuses_a_second_row_for_one_shard(db_url: str) -> None:
    """The key itself, not only the check before it: two writers racing cannot both land."""
    with Store.open(db_url) as store:
        run_id = FleetStore(store).start_run(["0"], {})
        row = {"run_id": run_id, "shard": "0", "reported_at": utcnow()}
        with Session(store.engine) as session:
            session.add(RunShardRow(**row))
            session.commit()
        with Session(store.engine) as session, pytest.raises(IntegrityError):
            session.add(RunShardRow(**row))
            session.commit()


def test_a_run_is_partial_until_every_shard_reported(db_url: str) -> None:
    a, b, c = _resources("a", 2), _resources("b", 2), _resources("c", 1)
    with Store.open(db_url) as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0", "1", "2"], {"x": 5})
        before = fleet.state(run_id)
        fleet.record_shard(run_id, "2", _results(c), c, OK_TALLY)
        fleet.record_shard(run_id, "0", _results(a), a, OK_TALLY)
        partial = fleet.state(run_id)
        newest = store.runs(limit=1)[0]
        fleet.record_shard(run_id, "1", _results(b), b, OK_TALLY)
        done = fleet.state(run_id)
        latest = fleet.latest_run()
    assert before is not None and before.missing == ("0", "1", "2") and not before.complete
    assert partial is not None and partial.missing == ("1",) and not partial.complete
    assert partial.run.finished_at is None
    assert newest.note == "partial: 2 of 3 shards reported (missing: 1)"
    assert done is not None and done.complete and done.run.finished_at is not None
    assert done.run.note == ""
    assert latest is not None and latest.run.id == run_id


def test_a_shard_the_run_does_not_expect_is_refused(db_url: str) -> None:
    a = _resources("a", 1)
    with Store.open(db_url) as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0"], {})
        with pytest.raises(ValueError, match="expects no shard '7'"):
            fleet.record_shard(run_id, "7", _results(a), a, OK_TALLY)
        with pytest.raises(LookupError):
            fleet.record_shard(run_id + 100, "0", _results(a), a, OK_TALLY)


def test_the_run_network_verdict_sums_the_shards_hosts(db_url: str) -> None:
    a, b = _resources("a", 1), _resources("b", 1)
    with Store.open(db_url) as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0", "1"], {})
        # shard 0 saw 5 hosts all down; shard 1 saw 5 answer: 50 % down, usable
        fleet.record_shard(run_id, "0", _results(a, Verdict.ERROR), a, ShardTally(5, 5, False))
        fleet.record_shard(run_id, "1", _results(b), b, ShardTally(5, 0, True))
        mixed = fleet.state(run_id)
        second = fleet.start_run(["0", "1"], {})
        fleet.record_shard(second, "0", _results(a, Verdict.ERROR), a, ShardTally(5, 5, False))
        fleet.record_shard(second, "1", _results(b, Verdict.ERROR), b, ShardTally(5, 4, True))
        down = fleet.state(second)
    assert mixed is not None and mixed.run.network_ok
    assert down is not None and not down.run.network_ok  # 9 of 10 hosts down
    assert down.run.note.startswith("network unusable")


def test_run_usable_follows_the_single_process_rule() -> None:
    assert run_usable([ShardTally(0, 0, True)])
    assert not run_usable([ShardTally(1, 1, False)])  # nothing answered at all
    assert run_usable([ShardTally(1, 0, True)])
    assert run_usable([ShardTally(10, 7, True)])  # 70 % < 80 %
    assert not run_usable([ShardTally(6, 4, True), ShardTally(4, 4, False)])  # 80 %
