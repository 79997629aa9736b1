"""The state summaries (monitor/store/summary.py) stay what the Python state machine says
across the ways a history changes besides a run appended in order: migration 0004 filling
them from an existing history, a fleet run whose network verdict turns after some shards
reported, and a prune. (Runs appended in order, out of order and another `down_after`:
tests/store/test_queries.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.domain.state import replay, timeline
from monitor.store.database import Store, migrations_dir
from monitor.store.errors import SCHEMA_HEAD
from monitor.store.fleet import FleetStore, ShardTally
from monitor.store.retention import prune
from monitor.store.summary import load_all

T0 = datetime(2026, 1, 1, 3, tzinfo=UTC)
RES = [Resource(f"r{i}", f"https://example.com/{i}", Kind.WEB, "s", f"R {i}") for i in range(4)]
# one verdict a night per resource: healthy, down then back, flaky, blocked then skipped
NIGHTS = [
    [Verdict.OK, Verdict.BROKEN, Verdict.ERROR, Verdict.BLOCKED],
    [Verdict.OK, Verdict.BROKEN, Verdict.OK, Verdict.BLOCKED],
    [Verdict.MOVED, Verdict.BROKEN, Verdict.ERROR, Verdict.SKIPPED],
    [Verdict.OK, Verdict.OK, Verdict.OK, Verdict.SKIPPED],
    [Verdict.OK, Verdict.OK, Verdict.ERROR, Verdict.OK],
]


def _night(store: Store, day: float, verdicts: list[Verdict], network_ok: bool = True) -> None:
    at = T0 + timedelta(days=day)
    results = [
        CheckResult(r.id, r.url, v, status=200, elapsed_ms=day, checked_at=at)
        for r, v in zip(RES, verdicts, strict=True)
    ]
    store.record_run(Run(None, at, network_ok=network_ok), results, RES)


def _expected(store: Store) -> dict[str, list[tuple[datetime, str]]]:
    return {
        r.id: [
            (t.at, t.state.value) for t in timeline(replay(list(reversed(store.history(r.id))), 2))
        ]
        for r in RES
    }


def _kept(store: Store) -> dict[str, list[tuple[datetime, str]]]:
    snap = store.snapshot(T0 + timedelta(days=30))
    return {r.id: [(c.at, c.state) for c in snap.get(r.id).changes] for r in RES}


def test_the_schema_head_constant_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_migration_0004_fills_the_summaries_from_the_stored_history(db_url: str) -> None:
    with Store.open(db_url) as store:
        for day, night in enumerate(NIGHTS):
            _night(store, day, night, network_ok=day != 3)
        kept = _kept(store)
        assert kept == _expected(store)
        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        with store.engine.connect() as conn:
            tables = conn.execute(text("SELECT * FROM alembic_version")).scalar()
        assert tables == "0003"
    with Store.open(db_url) as store:  # opening upgrades, filling the summaries
        assert _kept(store) == kept
        with store.engine.connect() as conn:
            summaries = load_all(conn)
        assert summaries["r1"].ignored == 1 and summaries["r1"].usable == 4


def test_a_fleet_run_whose_network_turns_unusable_takes_back_its_first_shards(
    db_url: str,
) -> None:
    """Shard 0 reports a working network and its checks move the states; shard 1 then
    finds nearly every host down, so the run did not have a usable network after all."""
    with Store.open(db_url) as store:
        _night(store, 0, NIGHTS[3])
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0", "1"], {"list": 4})
        first = [CheckResult(r.id, r.url, Verdict.BROKEN, checked_at=T0 + timedelta(days=1))
                 for r in RES[:2]]  # fmt: skip
        fleet.record_shard(run_id, "0", first, RES[:2], ShardTally(2, 0, True))
        assert [c.state for c in store.snapshot(T0).get("r0").changes] == ["ok", "failing"]
        rest = [CheckResult(r.id, r.url, Verdict.ERROR, checked_at=T0 + timedelta(days=1))
                for r in RES[2:]]  # fmt: skip
        fleet.record_shard(run_id, "1", rest, RES[2:], ShardTally(20, 20, False))
        assert _kept(store) == _expected(store)
        assert [c.state for c in store.snapshot(T0).get("r0").changes] == ["ok"]


def test_prune_keeps_the_states_and_counts_what_is_left(db_url: str) -> None:
    with Store.open(db_url) as store:
        for run in range(80):  # two runs a day: a prune keeps one
            _night(store, run / 2, NIGHTS[run % len(NIGHTS)], network_ok=run % 7 != 6)
        before = _kept(store)
        report = prune(store, 10, now=T0 + timedelta(days=40))
        assert report.checks_deleted > 0
        snap = store.snapshot(T0 + timedelta(days=40))
        # the changes were derived from the whole history: a prune takes none back
        assert _kept(store) == before
        for r in RES:
            left = store.history(r.id)
            usable = [h for h in left if h.run.network_ok]
            assert snap.get(r.id).usable == len(usable)
            assert snap.get(r.id).ignored == len(left) - len(usable)
            assert [c.result.checked_at for c in snap.get(r.id).recent] == sorted(
                h.result.checked_at for h in usable
            )[-3:]


def test_the_pages_response_times_are_first_attempts_else_the_whole_check(db_url: str) -> None:
    """Checks recorded before the first attempt was (none in `first_ms`) keep their whole
    time; newer ones show the first attempt's, not the retries'."""
    with Store.open(db_url) as store:
        for day, first in enumerate([None, None, 40, 41]):
            at = T0 + timedelta(days=day)
            result = CheckResult("r0", RES[0].url, Verdict.OK, elapsed_ms=1000 + day,
                                 first_ms=first, checked_at=at)  # fmt: skip
            store.record_run(Run(None, at), [result], RES[:1])
        snap = store.snapshot(T0 + timedelta(days=5)).get("r0")
    assert snap.response_ms == (1000, 1001, 40, 41)
    assert [line.elapsed_ms for line in snap.lines] == [41, 40, 1001, 1000]
