"""The store's behaviours, each run against SQLite and a real PostgreSQL (`db_url`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from monitor.domain.models import CheckResult, Hop, Kind, Metadata, Resource, Run, Verdict
from monitor.store.database import CheckRow, Store, database_url, migrations_dir
from monitor.store.retention import prune

RES = Resource(
    id="llm-course",
    url="https://github.com/mlabonne/llm-course",
    kind=Kind.GITHUB,
    section="resources",
    label="LLM Course",
)
META = Metadata(
    title="Introdução ao llm-course — “cursos” 🚀",
    description='quotes " and \\ backslashes, newline\nand a tab\t',
    stars=41000,
    archived=False,
    topics=("llm", "course"),
    instructors=("Maxime Labonne",),
)
HOPS = (Hop("http://github.com/x", 301), Hop("https://github.com/x", 302))


def _run(at: datetime, ok: bool = True) -> Run:
    return Run(id=None, started_at=at, finished_at=at + timedelta(seconds=3), network_ok=ok)


def _result(at: datetime, verdict: Verdict = Verdict.OK, meta: Metadata = META) -> CheckResult:
    return CheckResult(
        resource_id=RES.id,
        url=RES.url,
        verdict=verdict,
        checker="github",
        status=200,
        final_url=RES.url,
        redirects=HOPS,
        elapsed_ms=120,
        partial=verdict is Verdict.ERROR,
        meta=meta,
        checked_at=at,
    )


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _schema(engine: Engine) -> dict[str, Any]:
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(
                (i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)
            ),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert database_url(None) == "sqlite:///db/monitor.sqlite"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://u@h/db")
    assert database_url(None) == "postgresql://u@h/db"
    assert database_url("x.sqlite") == "sqlite:///x.sqlite"


def test_migrations_upgrade_from_empty_and_second_open_is_noop(db_url: str) -> None:
    with Store.open(db_url) as store:
        schema = _schema(store.engine)
        assert {"resource", "run", "check", "alembic_version"} <= set(schema)
        assert "partial" in [c[0] for c in schema["check"][0]]
    with Store.open(db_url) as store:
        with store.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(_head(),)]
        assert _schema(store.engine) == schema


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    with Store.open(tmp_path / "m.sqlite") as store, store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_record_and_read_back(db_url: str) -> None:
    t0 = datetime(2026, 11, 1, 3, tzinfo=UTC)  # 00:00 in São Paulo: a day apart from UTC
    t1 = t0 + timedelta(days=1, minutes=30)
    with Store.open(db_url) as store:
        first = store.record_run(_run(t0), [_result(t0)], [RES])
        second = store.record_run(
            _run(t1, ok=False), [_result(t1, Verdict.ERROR, Metadata())], [RES]
        )
        assert second > first
        history = store.history(RES.id)
        assert [h.result.verdict for h in history] == [Verdict.ERROR, Verdict.OK]
        old = history[1].result
        assert old == _result(t0)  # every field, the JSON metadata and the hops included
        assert old.checked_at == t0 and old.checked_at.utcoffset() == timedelta(0)
        assert old.meta.archived is False and old.meta.topics == ("llm", "course")
        assert history[0].result.meta == Metadata() and history[0].result.partial is True
        assert history[1].run == Run(first, t0, t0 + timedelta(seconds=3), network_ok=True)
        latest = store.latest(RES.id, usable_only=True)
        assert latest is not None and latest.checked_at == t0
        newest = store.latest(RES.id)
        assert newest is not None and newest.verdict is Verdict.ERROR
        assert [r.network_ok for r in store.runs()] == [False, True]
        assert store.resource_ids() == {RES.id: RES.url}
        everything = store.all_history()
        assert [s.result.checked_at for s in everything[RES.id]] == [t0, t1]
        since = store.all_history(since=t1)
        assert [s.result.checked_at for s in since[RES.id]] == [t1]
        assert store.all_history(since=t1 + timedelta(seconds=1)) == {}


def test_a_run_that_fails_midway_leaves_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = datetime(2026, 11, 1, 3, tzinfo=UTC)
    with Store.open(db_url) as store:
        store.record_run(_run(t0), [_result(t0)], [RES])
        calls = 0
        original = CheckRow.__init__

        def exploding(self: CheckRow, **kwargs: object) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RuntimeError("crash in the middle of writing a run")
            original(self, **kwargs)

        monkeypatch.setattr(CheckRow, "__init__", exploding)
        t1 = t0 + timedelta(days=1)
        other = Resource("other", "https://other.example/", Kind.WEB, "s", "Other")
        with pytest.raises(RuntimeError):
            store.record_run(_run(t1), [_result(t1), _result(t1), _result(t1)], [RES, other])
        monkeypatch.undo()
        assert len(store.runs()) == 1
        assert len(store.history(RES.id)) == 1
        assert store.resource_ids() == {RES.id: RES.url}
        # and the store still takes the next run
        store.record_run(_run(t1), [_result(t1)], [RES])
        assert len(store.history(RES.id)) == 2


def test_thin_keeps_one_check_per_utc_day_and_compacts(db_url: str) -> None:
    """Retention through `Store.thin`: days are UTC days, whatever the server's zone."""
    now = datetime(2026, 11, 26, 3, tzinfo=UTC)
    day = datetime(2026, 6, 10, tzinfo=UTC)  # long past the 90-day cutoff
    old = [day - timedelta(hours=4), day - timedelta(hours=2), day + timedelta(hours=1)]
    old.append(day + timedelta(hours=2))
    with Store.open(db_url) as store:
        for at in old:
            store.record_run(_run(at), [_result(at)], [RES])
        store.record_run(_run(day, ok=False), [_result(day, Verdict.ERROR)], [RES])
        store.record_run(_run(now), [_result(now)], [RES])
        dry = prune(store, 90, now=now, dry_run=True)
        assert (dry.checks_deleted, dry.runs_deleted) == (2, 2)
        assert len(store.history(RES.id)) == 6
        report = prune(store, 90, now=now)
        assert (report.checks_before, report.checks_after) == (6, 4)
        assert (report.runs_before, report.runs_after) == (6, 4)
        assert report.compacted == 3
        history = store.history(RES.id)
        # the first check ever, each UTC day's last usable check, the newest one
        assert [h.result.checked_at for h in history] == [now, old[3], old[1], old[0]]
        assert history[0].result.meta == META
        assert history[1].result.meta == Metadata(title=META.title, stars=41000, archived=False)
        again = prune(store, 90, now=now)
        assert (again.checks_deleted, again.runs_deleted, again.compacted) == (0, 0, 0)


def test_latest_many_is_one_query_per_chunk_and_picks_each_newest(db_url: str) -> None:
    """The newest check of each of many resources in one query (not one per resource); a
    network-down run is passed over with usable_only, unknown ids are absent."""
    from sqlalchemy import event

    day = datetime(2026, 3, 1, tzinfo=UTC)
    resources = [
        Resource(id=f"r{i}", url=f"https://e{i}.example/", kind=Kind.WEB, section="s", label="x")
        for i in range(30)
    ]

    def results(at: datetime, verdict: Verdict) -> list[CheckResult]:
        return [CheckResult(r.id, r.url, verdict, checked_at=at) for r in resources]

    with Store.open(db_url) as store:
        store.record_run(_run(day), results(day, Verdict.OK), resources)
        later = day + timedelta(hours=1)
        store.record_run(_run(later), results(later, Verdict.BROKEN), resources)
        down = day + timedelta(hours=2)
        store.record_run(_run(down, ok=False), results(down, Verdict.ERROR), resources)
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        usable = store.latest_many([r.id for r in resources] + ["unknown"], usable_only=True)
        assert len(statements) == 1
        newest = store.latest_many([r.id for r in resources])
    assert set(usable) == {r.id for r in resources}
    assert {r.verdict for r in usable.values()} == {Verdict.BROKEN}
    assert {r.checked_at for r in usable.values()} == {later}
    assert {r.verdict for r in newest.values()} == {Verdict.ERROR}


def test_latest_many_beyond_one_chunk(tmp_path: Path) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    resources = [
        Resource(id=f"r{i:04}", url=f"https://e{i}.example/", kind=Kind.WEB, section="s", label="x")
        for i in range(1203)
    ]
    with Store.open(tmp_path / "m.sqlite") as store:
        store.record_run(
            _run(at),
            [CheckResult(r.id, r.url, Verdict.OK, checked_at=at) for r in resources],
            resources,
        )
        found = store.latest_many(r.id for r in resources)
    assert sorted(found) == [r.id for r in resources]


def test_latest_at_finds_the_newest_usable_check_made_at_a_url(db_url: str) -> None:
    """Whichever resource it was checked for (`monitor fix` finding where an old link went);
    a network-down run is passed over; a URL never checked is absent."""
    day = datetime(2026, 3, 1, tzinfo=UTC)
    old, new = "https://old.example/", "https://new.example/"
    res = Resource(id="r", url=old, kind=Kind.WEB, section="s", label="x")
    moved = Resource(id="r", url=new, kind=Kind.WEB, section="s", label="x")
    with Store.open(db_url) as store:
        store.record_run(_run(day), [CheckResult("r", old, Verdict.OK, checked_at=day)], [res])
        later = day + timedelta(hours=1)
        store.record_run(
            _run(later),
            [CheckResult("r", old, Verdict.MOVED, moved_to=new, checked_at=later)],
            [res],
        )
        down = day + timedelta(hours=2)
        store.record_run(
            _run(down, ok=False), [CheckResult("r", old, Verdict.ERROR, checked_at=down)], [res]
        )
        after = day + timedelta(hours=3)
        store.record_run(
            _run(after), [CheckResult("r", new, Verdict.OK, checked_at=after)], [moved]
        )
        found = store.latest_at([old, "https://never.example/"])
    assert set(found) == {old}
    assert found[old].verdict is Verdict.MOVED and found[old].moved_to == new
    assert found[old].resource_id == "r" and found[old].checked_at == later
