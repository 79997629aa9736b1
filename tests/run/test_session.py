"""The check session against a real loopback server and a real SQLite store: reuse, exclude,
record, and a stop request that abandons the run."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.run.session import Abandoned, Plan, Setup, run_session, select
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

SETUP = Setup(
    engine=EngineSettings(allow_private=True, retries=0, recheck_interval_ms=0, min_interval_ms=0)
)


def res(server: LoopbackServer, name: str) -> Resource:
    return Resource(id=name, url=server.url(f"/{name}"), kind=Kind.WEB, section="s", label=name)


def paths(server: LoopbackServer) -> set[str]:
    return {seen.path for seen in server.requests}


def test_checks_excludes_and_records_one_run(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/a"] = Reply(200, b"<title>A</title>")
    server.routes["/b"] = Reply(200, b"<title>B</title>")
    resources = [res(server, "a"), res(server, "b")]
    plan = Plan(resources, exclude=[re.compile(r"/b$")])
    with Store.open(tmp_path / "m.sqlite") as store:
        done = run_session(plan, SETUP, store)
        assert [r.resource_id for r in done.results] == ["a", "b"]
        assert [r.verdict for r in done.results] == [Verdict.OK, Verdict.SKIPPED]
        assert done.results[1].note == "excluded by --exclude"
        assert done.checked == 1 and done.recorded
        assert paths(server) == {"/a"}
        stored = store.latest_many(["a", "b"])
        assert stored["b"].verdict is Verdict.SKIPPED
        assert len(store.runs()) == 1


def test_max_age_reuses_fresh_results_but_never_errors(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.routes["/fresh"] = Reply(200, b"<title>F</title>")
    server.routes["/old"] = Reply(200, b"<title>O</title>")
    server.routes["/flaky"] = Reply(200, b"<title>E</title>")
    fresh, old, flaky = (res(server, n) for n in ("fresh", "old", "flaky"))
    now = datetime.now(UTC)
    with Store.open(tmp_path / "m.sqlite") as store:
        for at, verdicts in (
            (now - timedelta(days=2), [(old, Verdict.OK)]),
            (now - timedelta(minutes=5), [(fresh, Verdict.OK), (flaky, Verdict.ERROR)]),
        ):
            store.record_run(
                Run(None, at, at),
                [CheckResult(r.id, r.url, v, checked_at=at) for r, v in verdicts],
                [r for r, _ in verdicts],
            )
        chosen = select(Plan([fresh, old, flaky], max_age=timedelta(hours=1)), store)
        assert [r.id for r in chosen.to_check] == ["old", "flaky"]
        assert set(chosen.previous) == {"fresh", "old", "flaky"}
        done = run_session(Plan([fresh, old, flaky], max_age=timedelta(hours=1)), SETUP, store)
        assert paths(server) == {"/old", "/flaky"}
        reused = done.results[0]
        assert reused.checked_at < now and "(--max-age)" in (reused.note or "")
        assert [r.verdict for r in done.results] == [Verdict.OK] * 3
        assert len(store.runs()) == 3


def test_a_session_that_only_reuses_records_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    a = res(server, "a")
    at = datetime.now(UTC)
    with Store.open(tmp_path / "m.sqlite") as store:
        store.record_run(Run(None, at, at), [CheckResult("a", a.url, Verdict.OK)], [a])
        done = run_session(Plan([a], max_age=timedelta(hours=1)), SETUP, store)
        assert not done.recorded and done.checked == 0
        assert len(store.runs()) == 1
    assert server.requests == []


def test_stop_abandons_the_run_and_records_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    stop = threading.Event()

    def slow(_seen: object) -> Reply:
        stop.set()
        return Reply(200, b"late", delay_s=2)

    server.routes["/slow"] = slow
    with Store.open(tmp_path / "m.sqlite") as store:
        with pytest.raises(Abandoned):
            run_session(Plan([res(server, "slow")]), SETUP, store, stop=stop)
        assert store.runs() == []
