"""`make fetch-history`: the nightly's history, from the data branch to a laptop's db/."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from monitor.domain.models import Run
from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _checkout(path: Path, remote: Path) -> Path:
    """A clone of `remote` holding the Makefile and the data-branch script, as main does."""
    _git(path.parent, "clone", "-q", str(remote), str(path))
    _git(path, "config", "user.name", "Maintainer")
    _git(path, "config", "user.email", "maintainer@example.com")
    return path


def _make(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "fetch-history", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": "python3"},
        check=False,
    )


def test_fetch_history_brings_the_nightly_database_and_never_replaces_a_local_one(
    tmp_path: Path,
) -> None:
    remote = tmp_path / "remote.git"
    remote.mkdir()
    _git(remote, "init", "-q", "--bare", "-b", "main")
    seed = tmp_path / "seed"
    seed.mkdir()
    _git(seed, "init", "-q", "-b", "main")
    (seed / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", seed / "Makefile")
    shutil.copy(REPO / ".github" / "scripts" / "data-branch.sh", seed / ".github" / "scripts")
    _git(seed, "add", ".")
    _git(seed, "-c", "user.name=M", "-c", "user.email=m@example.com", "commit", "-qm", "base")
    _git(seed, "push", "-q", str(remote), "main")

    laptop = _checkout(tmp_path / "laptop", remote)
    missing = _make(laptop)  # no data branch yet: says so, creates nothing useful
    assert missing.returncode == 0, missing.stderr
    assert "no monitor-data branch" in missing.stdout

    nightly = _checkout(tmp_path / "nightly", remote)
    now = datetime.now(UTC)
    with Store.open(nightly / "db" / "monitor.sqlite") as store:
        for _ in range(3):
            store.record_run(Run(id=None, started_at=now, finished_at=now, network_ok=True), [], [])
    saved = subprocess.run(
        ["bash", ".github/scripts/data-branch.sh", "save", "db/monitor.sqlite"],
        cwd=nightly,
        capture_output=True,
        text=True,
        check=False,
    )
    assert saved.returncode == 0, saved.stderr

    fetched = _make(laptop)
    assert fetched.returncode == 0, fetched.stderr
    local = laptop / "db" / "monitor.sqlite"
    assert local.read_bytes() == (nightly / "db" / "monitor.sqlite").read_bytes()
    with Store.open(local) as store:
        assert len(store.runs()) == 3

    local.write_bytes(b"my own experiments")
    refused = _make(laptop)
    assert refused.returncode != 0
    assert "db/monitor.sqlite exists: not replacing it" in refused.stderr
    assert local.read_bytes() == b"my own experiments"
    forced = _make(laptop, "FORCE=1")
    assert forced.returncode == 0, forced.stderr
    assert local.read_bytes() == (nightly / "db" / "monitor.sqlite").read_bytes()
