"""`monitor fleet` and `monitor worker` refuse bad setups with exit 2 and a clear message;
`monitor fleet status` tells a partial run from a complete one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.domain.models import CheckResult, Kind, Resource, Verdict
from monitor.store.database import Store
from monitor.store.fleet import FleetStore, ShardTally

runner = CliRunner()
CATALOG = '[[sections]]\nid = "s"\ntitle = "S"\n\n[[resources]]\nurl = "https://a.example/"\nlabel = "A"\nsection = "s"\n'  # noqa: E501


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    (tmp_path / "a.toml").write_text(CATALOG)
    path = tmp_path / "fleet.toml"
    path.write_text('[[list]]\nname = "a"\ncatalog = "a.toml"\n')
    return path


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MONITOR_BROKER_URL", "MONITOR_DATABASE_URL", "MONITOR_SHARDS"):
        monkeypatch.delenv(name, raising=False)


def test_fleet_check_needs_a_shared_database(fleet_file: Path) -> None:
    result = runner.invoke(app, ["fleet", "check", str(fleet_file)])
    assert result.exit_code == 2
    assert "share one database" in result.output


def test_fleet_check_needs_a_broker(fleet_file: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    result = runner.invoke(app, ["fleet", "check", str(fleet_file), "--db", db])
    assert result.exit_code == 2
    assert "MONITOR_BROKER_URL" in result.output


def test_fleet_check_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.toml"
    bad.write_text('[[list]]\nname = "a"\ncatalog = "a.toml"\nbogus = true\n')
    result = runner.invoke(app, ["fleet", "check", str(bad), "--db", "sqlite:///x.sqlite"])
    assert result.exit_code == 2
    assert f"{bad}:4: list[0].bogus: unknown key 'bogus'" in result.output.replace("\n", "")


def test_fleet_check_will_not_overlap_an_incomplete_run(
    fleet_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    with Store.open(db) as store:
        run_id = FleetStore(store).start_run(["0", "3"], {"a": 1})
    monkeypatch.setenv("MONITOR_BROKER_URL", "redis://127.0.0.1:9/0")  # never reached
    result = runner.invoke(app, ["fleet", "check", str(fleet_file), "--db", db])
    assert result.exit_code == 2
    out = result.output.replace("\n", " ")
    assert f"fleet run {run_id} is still incomplete (missing shards: 0, 3)" in out


def test_worker_needs_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_BROKER_URL", "redis://127.0.0.1:9/0")
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "MONITOR_DATABASE_URL" in result.output


def test_status_tells_partial_from_complete(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    r = Resource("a", "https://a.example/", Kind.WEB, "s", "A")
    with Store.open(db) as store:
        fleet = FleetStore(store)
        run_id = fleet.start_run(["0", "1"], {"a": 1})
        fleet.record_shard(
            run_id, "0", [CheckResult("a", r.url, Verdict.OK)], [r], ShardTally(1, 0, True), "w1"
        )
    partial = runner.invoke(app, ["fleet", "status", "--db", db])
    assert partial.exit_code == 4
    assert "partial, 1/2 shards reported" in partial.output
    assert "shard 0: recorded by w1" in partial.output
    assert "shard 1: not reported" in partial.output
    with Store.open(db) as store:
        FleetStore(store).record_shard(run_id, "1", [], [], ShardTally(0, 0, True), "w2")
    complete = runner.invoke(app, ["fleet", "status", "--db", db])
    assert complete.exit_code == 0
    assert "complete, 2/2 shards reported" in complete.output


def test_status_without_fleet_runs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fleet", "status", "--db", f"sqlite:///{tmp_path / 'm.db'}"])
    assert result.exit_code == 2
    assert "no fleet run" in result.output


def test_publish_writes_each_list_page_from_the_shared_history(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(CATALOG)
    (tmp_path / "b.toml").write_text(
        CATALOG.replace("a.example", "b.example").replace('label = "A"', 'label = "B"')
    )
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        '[[list]]\nname = "a"\ncatalog = "a.toml"\npublish = "site/a"\n\n'
        '[[list]]\nname = "b"\ncatalog = "b.toml"\n'
    )
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    r = Resource("a", "https://a.example/", Kind.WEB, "s", "A")
    with Store.open(db) as store:
        fleet_store = FleetStore(store)
        run_id = fleet_store.start_run(["0"], {"a": 1})
        result = CheckResult("a", r.url, Verdict.BROKEN, status=404, error="HTTP 404")
        fleet_store.record_shard(run_id, "0", [result], [r], ShardTally(1, 0, True))
    out = runner.invoke(app, ["fleet", "publish", str(fleet), "--db", db])
    assert out.exit_code == 0, out.output
    assert "b: no publish folder, skipped" in out.output
    page = (tmp_path / "site" / "a" / "index.html").read_text()
    assert "https://a.example/" in page and 'href="r/a.html"' in page
    detail = (tmp_path / "site" / "a" / "r" / "a.html").read_text()  # the check's detail
    assert "https://a.example/" in detail and "404" in detail
    assert (tmp_path / "site" / "a" / "badge.svg").exists()
    assert "https://a.example/" in (tmp_path / "site" / "a" / "status.md").read_text()
