"""`.github/scripts/data-branch.sh` keeps the history database on the `monitor-data` branch.

Run for real against temporary bare repositories: a remote that answers without the branch
(fresh start), a remote that cannot be read (`git ls-remote` exit 128: the job must stop, never
start fresh and overwrite), and saves that would replace a history with a shorter one.
The databases are real monitor databases: the schema comes from one `monitor check` run, the
extra runs are rows of its `run` table.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / ".github" / "scripts" / "data-branch.sh"
DB = "db/monitor.sqlite"

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


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _run(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def schema_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monitor database with one real run, made by the CLI."""
    work = tmp_path_factory.mktemp("schema")
    (work / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    (work / "notes.pdf").write_text("notes\n", encoding="utf-8")
    db = work / "monitor.sqlite"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "monitor"),
            "check",
            "--catalog",
            "catalog.toml",
            "--db",
            str(db),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return db


def _history(schema_db: Path, dest: Path, nights: int, *, first_days_ago: int = 0) -> Path:
    """A copy of the schema database holding `nights` more nightly runs, one per day,
    the newest `first_days_ago` days ago."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(schema_db, dest)
    now = datetime.now(UTC).replace(tzinfo=None)
    con = sqlite3.connect(dest)
    with con:
        for night in range(nights, 0, -1):
            start = now - timedelta(days=first_days_ago + night)
            con.execute(
                "INSERT INTO run (started_at, finished_at, network_ok, trigger, note)"
                " VALUES (?, ?, 1, 'nightly', '')",
                (start.isoformat(" "), (start + timedelta(minutes=3)).isoformat(" ")),
            )
    con.close()
    return dest


def _add_run(db: Path, when: datetime) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "INSERT INTO run (started_at, network_ok, trigger, note) VALUES (?, 1, 'cli', '')",
            (when.replace(tzinfo=None).isoformat(" "),),
        )
    con.close()


def _runs(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM run").fetchone()[0])
    finally:
        con.close()


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """(bare remote, clone of it) with one commit on main and no data branch."""
    remote = tmp_path / "remote.git"
    remote.mkdir()
    _git(remote, "init", "-q", "--bare", "-b", "main")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Maintainer")
    _git(repo, "config", "user.email", "maintainer@example.com")
    (repo / "README.md").write_text("x\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main")
    return remote, repo


def _branch_runs(remote: Path, tmp_path: Path) -> int:
    out = tmp_path / "on-branch.sqlite"
    blob = subprocess.run(
        ["git", "cat-file", "blob", f"monitor-data:{DB}"],
        cwd=remote,
        capture_output=True,
        check=True,
    ).stdout
    out.write_bytes(blob)
    return _runs(out)


def test_round_trip_one_commit_no_parent(
    repos: tuple[Path, Path], schema_db: Path, tmp_path: Path
) -> None:
    remote, repo = repos
    done = _run(repo, "restore", DB)
    assert done.returncode == 0, done.stderr
    assert "starting with a fresh database" in done.stdout
    assert not (repo / DB).exists()

    _history(schema_db, repo / DB, 1)
    for runs in (2, 3):
        done = _run(repo, "save", DB)
        assert done.returncode == 0, done.stderr
        assert f"saved {DB} to monitor-data ({runs} runs)" in done.stdout
        _add_run(repo / DB, datetime.now(UTC))  # the next night
    # one commit, one file, no parent: the branch never piles up old copies
    assert _git(remote, "rev-list", "--count", "monitor-data") == "1"
    assert _git(remote, "ls-tree", "-r", "--name-only", "monitor-data") == DB
    assert _git(repo, "status", "--porcelain") == "?? db/"  # main's tree untouched

    fresh = tmp_path / "fresh"  # shallow, as actions/checkout leaves it
    _git(tmp_path, "clone", "-q", "--depth=1", f"file://{remote}", str(fresh))
    done = _run(fresh, "restore", DB)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout
    on_branch = subprocess.run(
        ["git", "cat-file", "blob", f"monitor-data:{DB}"],
        cwd=remote,
        capture_output=True,
        check=True,
    ).stdout
    assert (fresh / DB).read_bytes() == on_branch
    assert _runs(fresh / DB) == 3
    assert _runs(repo / DB) == 4  # the night after the last save stays local

    # The next night, from the shallow clone: restore, one more run, save, twice.
    for runs in (4, 5):
        _add_run(fresh / DB, datetime.now(UTC))
        done = _run(fresh, "save", DB)
        assert done.returncode == 0, done.stderr
        assert _branch_runs(remote, tmp_path) == runs
        assert _run(fresh, "restore", DB).returncode == 0
    assert _git(remote, "rev-list", "--count", "monitor-data") == "1"


def test_unreadable_remote_stops_restore_and_save(
    repos: tuple[Path, Path], schema_db: Path, tmp_path: Path
) -> None:
    """The replayed incident: ten nights on the branch, then a run whose `git ls-remote`
    fails. Restore must not start fresh; save must not overwrite; the ten nights survive."""
    remote, repo = repos
    _history(schema_db, repo / DB, 10)
    assert _run(repo, "save", DB).returncode == 0
    assert _branch_runs(remote, tmp_path) == 11

    runner = tmp_path / "runner"
    _git(tmp_path, "clone", "-q", str(remote), str(runner))
    away = remote.with_name("remote-away.git")
    remote.rename(away)  # the remote cannot be read: git ls-remote exits 128
    try:
        probe = subprocess.run(
            ["git", "ls-remote", "--exit-code", "origin"],
            cwd=runner,
            capture_output=True,
            check=False,
        )
        assert probe.returncode == 128  # the fault we simulate is the real one
        done = _run(runner, "restore", DB)
        assert done.returncode != 0
        assert "exit 128" in done.stderr
        assert "fresh" not in done.stdout
        assert not (runner / DB).exists()

        # Even if a job went on and made a one-run database, save refuses to push it blind.
        _history(schema_db, runner / DB, 0)
        done = _run(runner, "save", DB)
        assert done.returncode != 0
        assert "saved" not in done.stdout
    finally:
        away.rename(remote)
    assert _branch_runs(remote, tmp_path) == 11


def test_save_refuses_a_shorter_history_unless_forced(
    repos: tuple[Path, Path], schema_db: Path, tmp_path: Path
) -> None:
    remote, repo = repos
    _history(schema_db, repo / DB, 10)
    assert _run(repo, "save", DB).returncode == 0
    head = _git(remote, "rev-parse", "monitor-data")

    _history(schema_db, repo / DB, 0)  # a fresh one-run database over the ten nights
    done = _run(repo, "save", DB)
    assert done.returncode == 1
    assert "has 1 runs and lacks 10 of the 11 runs" in done.stderr
    assert "--force" in done.stderr
    assert _git(remote, "rev-parse", "monitor-data") == head

    done = _run(repo, "save", "--force", DB)
    assert done.returncode == 0, done.stderr
    assert _branch_runs(remote, tmp_path) == 1

    _history(schema_db, repo / DB, 4)
    assert _run(repo, "save", DB).returncode == 0
    _history(schema_db, repo / DB, 0)
    done = _run(repo, "save", DB, env={"DATA_BRANCH_FORCE": "1"})
    assert done.returncode == 0, done.stderr
    assert _branch_runs(remote, tmp_path) == 1


def test_save_accepts_runs_pruned_past_the_retention_age(
    repos: tuple[Path, Path], schema_db: Path, tmp_path: Path
) -> None:
    """`monitor prune` may remove runs older than the retention age: not a lost history."""
    remote, repo = repos
    db = repo / DB
    _history(schema_db, db, 5, first_days_ago=100)  # five nights more than 100 days ago
    _add_run(db, datetime.now(UTC) - timedelta(hours=1))
    assert _run(repo, "save", DB).returncode == 0
    assert _branch_runs(remote, tmp_path) == 7

    con = sqlite3.connect(db)
    with con:  # as prune would: two of the old nights go
        con.execute("DELETE FROM run WHERE id IN (2, 3)")
    con.close()
    done = _run(repo, "save", DB)
    assert done.returncode == 0, done.stderr
    assert _branch_runs(remote, tmp_path) == 5

    # With a retention age longer than their age, the same loss is refused.
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM run WHERE id = 4")
    con.close()
    done = _run(repo, "save", DB, env={"DATA_RETENTION_DAYS": "365"})
    assert done.returncode == 1
    assert _branch_runs(remote, tmp_path) == 5


def test_save_refuses_a_file_that_is_not_a_sound_database(repos: tuple[Path, Path]) -> None:
    _, repo = repos
    db = repo / DB
    db.parent.mkdir()
    db.write_bytes(b"night 2 \x00 not sqlite")
    done = _run(repo, "save", DB)
    assert done.returncode == 1
    assert "not a valid database" in done.stderr
    assert "saved" not in done.stdout
