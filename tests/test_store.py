from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from monitor.models import CheckResult, Hop, Kind, Metadata, Resource, Run, Verdict
from monitor.store import CheckRow, Store, database_url

RES = Resource(
    id="llm-course",
    url="https://github.com/mlabonne/llm-course",
    kind=Kind.GITHUB,
    section="resources",
    label="LLM Course",
)


def _run(at: datetime, ok: bool = True) -> Run:
    return Run(id=None, started_at=at, finished_at=at + timedelta(seconds=3), network_ok=ok)


def _result(at: datetime, verdict: Verdict = Verdict.OK) -> CheckResult:
    return CheckResult(
        resource_id=RES.id,
        url=RES.url,
        verdict=verdict,
        checker="github",
        status=200,
        final_url=RES.url,
        redirects=(Hop("http://github.com/x", 301),),
        elapsed_ms=120,
        meta=Metadata(title="llm-course", stars=41000, topics=("llm", "course")),
        checked_at=at,
    )


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert database_url(None) == "sqlite:///db/monitor.sqlite"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://u@h/db")
    assert database_url(None) == "postgresql://u@h/db"
    assert database_url("x.sqlite") == "sqlite:///x.sqlite"


def test_migrations_upgrade_from_empty_and_second_open_is_noop(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite"
    with Store.open(db) as store:
        tables = set(inspect(store.engine).get_table_names())
        assert {"resource", "run", "check", "alembic_version"} <= tables
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    mtime_schema = _schema(db)
    with Store.open(db) as store:
        with store.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [("0001",)]
    assert _schema(db) == mtime_schema


def _schema(db: Path) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_record_and_read_back(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 1, 3, tzinfo=UTC)
    with Store.open(tmp_path / "m.sqlite") as store:
        store.record_run(_run(t0), [_result(t0)], [RES])
        store.record_run(
            _run(t0 + timedelta(days=1), ok=False),
            [_result(t0 + timedelta(days=1), Verdict.ERROR)],
            [RES],
        )
        history = store.history(RES.id)
        assert [h.result.verdict for h in history] == [Verdict.ERROR, Verdict.OK]
        assert history[1].result.meta.stars == 41000
        assert history[1].result.meta.topics == ("llm", "course")
        assert history[1].result.redirects == (Hop("http://github.com/x", 301),)
        assert history[1].result.checked_at == t0
        latest = store.latest(RES.id, usable_only=True)
        assert latest is not None and latest.verdict is Verdict.OK
        assert store.runs()[0].network_ok is False


def test_a_run_that_fails_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = datetime(2026, 11, 1, 3, tzinfo=UTC)
    with Store.open(tmp_path / "m.sqlite") as store:
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
        with pytest.raises(RuntimeError):
            store.record_run(_run(t1), [_result(t1), _result(t1), _result(t1)], [RES])
        monkeypatch.undo()
        assert len(store.runs()) == 1
        assert len(store.history(RES.id)) == 1
