from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import load_catalog
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.run.jobs import check_and_record, publish
from monitor.run.scheduler import Job, MonitorScheduler, cron
from monitor.run.session import select_failing
from monitor.store.database import Store
from tests.conftest import REPO, LoopbackServer, Reply


def _every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds)


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Tracker:
    """Fake job bodies that count runs and the most runs ever in progress at once."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        self.sleep_s = sleep_s
        self.calls: dict[str, int] = {}
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def job(self, name: str) -> Callable[[threading.Event], str]:
        def body(stop: threading.Event) -> str:
            with self._lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            try:
                stop.wait(self.sleep_s)
                with self._lock:
                    self.calls[name] = self.calls.get(name, 0) + 1
                return "done"
            finally:
                with self._lock:
                    self.active -= 1

        return body


def test_jobs_fire_on_their_triggers() -> None:
    tracker = Tracker()
    sched = MonitorScheduler(
        [
            Job("full", _every(0.1), tracker.job("full")),
            Job("failing", _every(0.15), tracker.job("failing")),
        ]
    )
    sched.start()
    try:
        assert _wait_for(
            lambda: tracker.calls.get("full", 0) >= 3 and tracker.calls.get("failing", 0) >= 3
        )
    finally:
        sched.shutdown()
    assert sched.runs["full"] >= 3 and sched.runs["failing"] >= 3


def test_jobs_never_overlap() -> None:
    tracker = Tracker(sleep_s=0.12)
    sched = MonitorScheduler(
        [
            Job("full", _every(0.05), tracker.job("full"), wait_if_busy=True),
            Job("failing", _every(0.05), tracker.job("failing"), wait_if_busy=True),
        ]
    )
    sched.start()
    try:
        assert _wait_for(
            lambda: tracker.calls.get("full", 0) >= 3 and tracker.calls.get("failing", 0) >= 3
        )
    finally:
        sched.shutdown()
    assert tracker.max_active == 1


def test_failing_recheck_skipped_while_full_check_runs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor.schedule")
    tracker = Tracker(sleep_s=0.5)
    sched = MonitorScheduler(
        [
            Job("full", _every(60), tracker.job("full"), wait_if_busy=True, run_now=True),
            Job("failing", _every(0.05), tracker.job("failing")),
        ]
    )
    sched.start()
    try:
        assert _wait_for(lambda: tracker.calls.get("full", 0) == 1)
    finally:
        sched.shutdown()
    assert tracker.max_active == 1
    assert any("failing: skipped, another run is in progress" in m for m in caplog.messages)
    assert any(m.startswith("full: done (") for m in caplog.messages)  # the per-run log line


def test_misfires_are_coalesced() -> None:
    tracker = Tracker()
    sched = MonitorScheduler([Job("full", _every(0.3), tracker.job("full"))])
    sched.scheduler.start(paused=True)
    try:
        time.sleep(2.0)  # about six fire times missed while paused (machine asleep)
        sched.scheduler.resume()
        assert _wait_for(lambda: tracker.calls.get("full", 0) >= 1)
        time.sleep(0.1)
        ran = tracker.calls["full"]
    finally:
        sched.shutdown()
    assert ran <= 2  # one coalesced run (plus at most one regular fire), not six


def test_stop_abandons_the_run_in_progress() -> None:
    seen: list[str] = []

    def slow(stop: threading.Event) -> str:
        seen.append("started")
        if stop.wait(30):
            seen.append("abandoned")
            return "abandoned"
        return "finished"

    sched = MonitorScheduler([Job("full", _every(60), slow, run_now=True)])
    sched.start()
    assert _wait_for(lambda: seen == ["started"])
    started = time.monotonic()
    sched.request_stop()
    sched.shutdown()
    assert seen == ["started", "abandoned"]
    assert time.monotonic() - started < 10


def test_cron_lines_validated() -> None:
    trigger = cron("0 3 * * *")
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert fire == datetime(2026, 1, 2, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        cron("0 25 * * *")


def test_schedule_command_rejects_a_bad_cron_line(tmp_path: Path) -> None:
    catalog = tmp_path / "resources.toml"
    catalog.write_text('[schedule]\nfull_check = "every night"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["schedule", "--catalog", str(catalog)])
    assert result.exit_code == 2
    assert "invalid cron line" in result.output
    assert "Examples" in CliRunner().invoke(app, ["schedule", "--help"]).output


def _catalog(tmp_path: Path, urls: dict[str, str], read_timeout: float = 5.0) -> Path:
    lines = [
        "[engine]",
        "allow_private = true",
        "retries = 0",
        f"read_timeout_s = {read_timeout}",
        f"deadline_s = {read_timeout * 2}",
        '[[sections]]\nid = "s"\ntitle = "S"',
    ]
    for rid, url in urls.items():
        lines.append(
            f'[[resources]]\nid = "{rid}"\nurl = "{url}"\nlabel = "{rid}"\n'
            'section = "s"\nkind = "web"'
        )
    path = tmp_path / "resources.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_real_jobs_record_runs_and_recheck_only_failing(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.routes["/good"] = Reply(200, b"<html><title>Good</title></html>")
    server.routes["/gone"] = Reply(404, b"<html><title>404</title></html>")
    catalog = _catalog(tmp_path, {"good": server.url("/good"), "gone": server.url("/gone")})
    db = str(tmp_path / "m.sqlite")
    stop = threading.Event()
    summary = check_and_record(catalog, db, stop)
    assert summary.startswith("2 checked")
    with Store.open(db) as store:
        assert len(store.runs()) == 1
        failing = select_failing(store.all_history(), load_catalog(catalog).resources, 2)
        assert [r.id for r in failing] == ["gone"]
    before = len(server.requests)
    summary = check_and_record(catalog, db, stop, only_failing=True)
    assert summary.startswith("1 checked")
    assert {r.path for r in server.requests[before:]} == {"/gone"}
    with Store.open(db) as store:
        assert [r.trigger for r in store.runs()] == ["schedule-failing", "schedule"]


def test_full_job_publishes_reports_and_readme(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/good"] = Reply(200, b"<html><title>Good</title></html>")
    catalog = _catalog(tmp_path, {"good": server.url("/good")})
    readme = tmp_path / "README.md"
    prose = "# List\n\nProse stays.\n\n"
    readme.write_text(
        prose + "<!-- monitor:begin section=s -->\n<!-- monitor:end -->\n", encoding="utf-8"
    )
    summary = check_and_record(
        catalog, str(tmp_path / "m.sqlite"), threading.Event(), after=[publish]
    )
    assert "README updated" in summary
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "status.md").exists()
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(prose) and server.url("/good") in text


def test_select_failing_ignores_network_down_runs(tmp_path: Path) -> None:
    res = Resource("a", "https://a.example/", Kind.WEB, "s", "A")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with Store.open(tmp_path / "f.sqlite") as store:
        store.record_run(
            Run(None, at, at), [CheckResult("a", res.url, Verdict.OK, checked_at=at)], [res]
        )
        later = at + timedelta(days=1)
        store.record_run(
            Run(None, later, later, network_ok=False),
            [CheckResult("a", res.url, Verdict.ERROR, checked_at=later)],
            [res],
        )
        assert select_failing(store.all_history(), [res], 2) == []


def test_sigterm_mid_run_leaves_the_store_consistent(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """A real `monitor schedule` process, stopped while its check waits on a slow server."""
    server.routes["/slow"] = Reply(200, b"<html><title>late</title></html>", delay_s=20)
    server.routes["/fast"] = Reply(200, b"<html><title>ok</title></html>")
    catalog = _catalog(
        tmp_path, {"slow": server.url("/slow"), "fast": server.url("/fast")}, read_timeout=25
    )
    db = tmp_path / "m.sqlite"
    res = Resource("fast", server.url("/fast"), Kind.WEB, "s", "fast")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with Store.open(db) as store:  # one earlier run, which must survive intact
        store.record_run(
            Run(None, at, at), [CheckResult("fast", res.url, Verdict.OK, checked_at=at)], [res]
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "schedule",
            "--run-now",
            "--catalog",
            str(catalog),
            "--db",
            str(db),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: any(r.path == "/slow" for r in server.requests), timeout=30)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "received SIGTERM: stopping" in err
    assert "full-check: abandoned on shutdown, nothing recorded" in err
    with Store.open(db) as store:
        runs = store.runs()
        assert len(runs) == 1 and runs[0].started_at == at
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            checks = conn.execute(text('SELECT count(*) FROM "check"')).scalar()
            orphans = conn.execute(
                text('SELECT count(*) FROM "check" WHERE run_id NOT IN (SELECT id FROM run)')
            ).scalar()
        assert checks == 1 and orphans == 0
