"""PostgreSQL beyond the shared store tests (test_store.py runs those on both backends):
what the data looks like at rest, and the CLI end to end with a postgresql+psycopg URL."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.net import guard as netguard
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply
from tests.pg import SERVER_TIMEZONE, PgServer
from tests.report_fixture import fill_store, make_catalog

runner = CliRunner()


@pytest.fixture
def pg_url(postgres: PgServer) -> str:
    return postgres.new_database()


def test_the_server_is_real_and_not_on_utc(pg_url: str) -> None:
    """The premise of the time zone tests: a server whose default zone is not UTC."""
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW server_version_num")).scalar_one() >= "120000"
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == SERVER_TIMEZONE
    finally:
        engine.dispose()


def test_times_rest_as_utc_wall_time(pg_url: str) -> None:
    """Other tools (psql, a dashboard) read the same UTC times the reports show."""
    at = datetime(2026, 11, 1, 3, 4, 5, tzinfo=UTC)
    res = Resource("r", "https://r.example/", Kind.WEB, "s", "R")
    with Store.open(pg_url) as store:
        check = CheckResult("r", res.url, Verdict.OK, checked_at=at)
        store.record_run(Run(None, at, at, network_ok=True), [check], [res])
    engine = create_engine(pg_url)  # a plain session, in the server's own zone
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text('SELECT checked_at::text, partial, meta::text FROM "check"')
            ).one()
            started = conn.execute(text("SELECT started_at::text FROM run")).scalar_one()
    finally:
        engine.dispose()
    assert row == ("2026-11-01 03:04:05", False, "{}")
    assert started == "2026-11-01 03:04:05"


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_and_history_read_the_same_from_both_backends(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog(tmp_path)
    sqlite = str(tmp_path / "h.sqlite")
    for url in (sqlite, pg_url):
        with Store.open(url) as store:
            fill_store(store, catalog)
    common = ["--catalog", str(catalog.path)]
    report = ["report", *common, "--markdown", "-", "--now", "2026-11-06T12:00:00"]
    on_sqlite = _cli(*report, "--db", sqlite, "--out", str(tmp_path / "a"))
    on_pg = _cli(*report, "--db", pg_url, "--out", str(tmp_path / "b"))
    assert "Última verificação: 6 de nov. de 2026 03:00 UTC" in on_sqlite
    assert "**8/13**" in on_sqlite
    assert on_pg == on_sqlite
    assert (tmp_path / "b" / "index.html").read_bytes() == (
        tmp_path / "a" / "index.html"
    ).read_bytes()
    history = ["history", "repo-stars", *common]
    monkeypatch.setenv("MONITOR_DATABASE_URL", pg_url)  # the other way to name the database
    from_env = _cli(*history)
    assert "2026-11-01 03:00  ok" in from_env  # the timeline, in UTC
    assert from_env == _cli(*history, "--db", sqlite)
    # retention through the CLI (a smoke test: one check a day, so nothing to thin; Store.thin
    # itself runs on both in test_store.py). SQLite also reports its file size.
    prune = ["prune", *common, "--older-than", "1"]
    pruned_pg = _cli(*prune)
    pruned_sqlite = _cli(*prune, "--db", sqlite)
    assert "deleted 0 of 78 checks" in pruned_pg
    assert pruned_sqlite.startswith(pruned_pg) and "database file:" in pruned_sqlite
    assert _cli(*history) == _cli(*history, "--db", sqlite)


@pytest.fixture
def site(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    async def resolve(host: str, port: int) -> list[str]:  # never the internet
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "system_resolver", resolve)
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    server.routes["/old"] = Reply(301, headers={"Location": "/ok"})
    return server


def test_check_writes_runs_to_postgres_and_reuses_them(
    tmp_path: Path, site: LoopbackServer, pg_url: str
) -> None:
    links = tmp_path / "links.md"
    links.write_text(
        "# L\n\n" + "".join(f"- [{p}]({site.url('/' + p)})\n" for p in ("ok", "gone", "old"))
    )
    fast = ["--allow-private", "--recheck-interval", "0", "--quiet", "-f", "json"]
    first = runner.invoke(app, ["check", "-i", str(links), "--db", pg_url, *fast])
    assert first.exit_code == 1, first.output  # /gone is broken
    requests = len(site.requests)
    again = runner.invoke(
        app, ["check", "-i", str(links), "--db", pg_url, "--max-age", "6h", *fast]
    )
    assert again.exit_code == 1
    assert len(site.requests) == requests  # everything came from the store
    assert json.loads(again.stdout)["summary"] == json.loads(first.stdout)["summary"]
    with Store.open(pg_url) as store:
        runs = store.runs()
        assert [r.trigger for r in runs] == ["adhoc"]  # the reusing run recorded nothing
        stored = store.all_history()
        verdicts = sorted(s[-1].result.verdict.value for s in stored.values())
        assert verdicts == ["broken", "moved", "ok"]
        moved = next(s[-1].result for s in stored.values() if s[-1].result.verdict == "moved")
        assert [h.status for h in moved.redirects] == [301]


def test_an_unreachable_server_is_a_clean_error(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@/nowhere?host={tmp_path}&port=5432"
    result = runner.invoke(app, ["history", "x", "--db", url])
    assert result.exit_code == 2
    assert "cannot open the database" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_driver_is_a_clean_error() -> None:
    """A URL naming a driver monitor does not install (psycopg2): say what to do."""
    url = "postgresql+psycopg2://u@/db?host=/nowhere"
    result = runner.invoke(app, ["history", "x", "--db", url])
    assert result.exit_code == 2
    assert "driver psycopg2 is not installed" in result.stderr
    assert "postgresql+psycopg://" in result.stderr
