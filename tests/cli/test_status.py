from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.store.database import Store
from tests.report_fixture import fill_store, make_catalog

runner = CliRunner()


def _args(tmp_path: Path) -> list[str]:
    catalog = make_catalog(tmp_path)
    with Store.open(tmp_path / "h.sqlite") as store:
        fill_store(store, catalog)
    return [
        "--catalog",
        str(catalog.path),
        "--db",
        str(tmp_path / "h.sqlite"),
        "--now",
        "2026-11-06T12:00:00",
    ]


def test_status_json_problems_first(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--json", *_args(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["state"] for r in rows[:5]] == ["down", "flaky", "blocked", "failing", "moved"]
    down = rows[0]
    assert down["id"] == "video-private" and down["failures"] == 2
    assert down["since"] == "2026-11-06T03:00:05+00:00"
    assert down["detail"] == "video is private"
    assert rows[4]["moved_to"] == "https://github.com/new-owner/repo"
    assert rows[-1]["state"] == "unknown" and rows[-1]["since"] is None


def test_status_table(tmp_path: Path) -> None:
    """Not on a terminal (CliRunner): tab-separated lines; the Rich table on a terminal is
    tests/cli/test_screens.py's."""
    result = runner.invoke(app, ["status", *_args(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    title, header, *rows = result.output.splitlines()
    assert title == "monitor status · 8/13 healthy"
    assert header.split("\t") == ["state", "resource", "since", "uptime 7/30/90 d", "detail"]
    assert len(rows) == 14 and all(len(row.split("\t")) == 5 for row in rows)
    assert rows[0].split("\t")[0] == "down"
    assert "video is private" in rows[0]


def test_history_shows_states_and_timeline(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["history", "video-private", *_args(tmp_path)[:4]], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "(ignored)" in result.output  # the network-down run
    timeline = result.output.split("timeline")[1]
    assert timeline.index("down") < timeline.index("failing") < timeline.index(" ok ")
