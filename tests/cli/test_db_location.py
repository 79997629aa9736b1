"""Without --db, the history lives beside the catalog, wherever the command is run from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app

CATALOG = """\
[[sections]]
id = "s"
title = "S"

[[resources]]
id = "notes"
url = "notes.pdf"
label = "Notes"
section = "s"
kind = "file"
"""


@pytest.fixture
def roadmap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    folder = tmp_path / "roadmap"
    folder.mkdir()
    (folder / "resources.toml").write_text(CATALOG, encoding="utf-8")
    (folder / "notes.pdf").write_text("notes\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return folder


def test_default_database_is_beside_the_catalog(
    roadmap: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = str(roadmap / "resources.toml")
    done = CliRunner().invoke(app, ["check", "--catalog", catalog, "--quiet"])
    assert done.exit_code == 0, done.output
    assert (roadmap / "db" / "monitor.sqlite").is_file()
    assert not Path("db").exists()  # nothing in the folder it was run from

    # A reader from a third folder finds the same history.
    (roadmap.parent / "third").mkdir()
    monkeypatch.chdir(roadmap.parent / "third")
    status = CliRunner().invoke(
        app, ["status", "--catalog", catalog, "--json"], catch_exceptions=False
    )
    assert status.exit_code == 0, status.output
    assert '"notes"' in status.stdout and '"ok"' in status.stdout


def test_explicit_db_and_environment_still_win(
    roadmap: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = str(roadmap / "resources.toml")
    mine = tmp_path / "mine.sqlite"
    done = CliRunner().invoke(app, ["check", "--catalog", catalog, "--db", str(mine), "-q"])
    assert done.exit_code == 0, done.output
    assert mine.is_file()
    env_db = tmp_path / "env.sqlite"
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{env_db}")
    done = CliRunner().invoke(app, ["check", "--catalog", catalog, "-q"])
    assert done.exit_code == 0, done.output
    assert env_db.is_file()
    assert not (roadmap / "db").exists()
