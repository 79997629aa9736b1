"""`monitor fix --yes` killed between its two writes: a rerun completes the job (issue 12).

The catalog is written first, then the README. A `fix --yes` process SIGKILLs itself at the
moment it starts writing the README (a real kill -9: no cleanup runs), which leaves the
catalog with the new URL and the README with the old one. The rerun must derive the
unfinished move from the README and the catalog together and produce exactly the README an
uninterrupted run produces; it used to say "no moved links to apply".
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import load_catalog
from monitor.domain.models import CheckResult, Run, Verdict
from monitor.store.database import Store
from tests.conftest import REPO

OLD = "https://github.com/mlabonne/llm-course"
NEW = "https://github.com/mlabonne/llm-course-2"
EXTRA_README = f"""
See also the [course]({OLD} "LLM Course") and the [reference][llm].
Prose citing {OLD} without a link stays; <{OLD}> is an autolink.

[llm]: {OLD}
"""
AT = datetime(2026, 11, 1, 3, tzinfo=UTC)

# `monitor fix --yes`, killed with SIGKILL when it starts writing the README (its 2nd write).
KILLED_FIX = """
import os, signal, sys
import monitor.cli.fix as fix_cli
from monitor.cli.app import app

real = fix_cli.write_text_atomic
def write(path, text):
    if path.name == "README.md":
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, text)
fix_cli.write_text_atomic = write
sys.argv = ["monitor", *sys.argv[1:]]
app()
"""


def _project(folder: Path) -> tuple[Path, Path, str]:
    folder.mkdir()
    catalog = folder / "resources.toml"
    shutil.copy(REPO / "resources.toml", catalog)
    readme = folder / "README.md"
    readme.write_text((REPO / "README.md").read_text(encoding="utf-8") + EXTRA_README, "utf-8")
    db = str(folder / "m.sqlite")
    cat = load_catalog(catalog)
    moved = CheckResult("llm-course", OLD, Verdict.MOVED, status=301, moved_to=NEW, checked_at=AT)
    with Store.open(db) as store:
        store.record_run(Run(None, AT, AT), [moved], cat.resources)
    return catalog, readme, db


def _fix(catalog: Path, db: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["fix", "--yes", "--no-wayback", "--catalog", str(catalog), "--db", db]
    )
    return result.exit_code, result.output


def _killed_fix(catalog: Path, db: str) -> None:
    args = ["fix", "--yes", "--no-wayback", "--catalog", str(catalog), "--db", db]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_FIX, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(catalog, README) as an uninterrupted `fix --yes` leaves them."""
    catalog, readme, db = _project(tmp_path_factory.mktemp("control") / "p")
    code, output = _fix(catalog, db)
    assert code == 0, output
    return catalog.read_text(encoding="utf-8"), readme.read_text(encoding="utf-8")


@pytest.mark.parametrize("check_in_between", [False, True])
def test_a_rerun_after_a_kill_between_the_writes_completes_the_job(
    tmp_path: Path, finished: tuple[str, str], check_in_between: bool
) -> None:
    catalog, readme, db = _project(tmp_path / "p")
    readme_before = readme.read_bytes()
    _killed_fix(catalog, db)
    # The kill fell between the writes: the catalog has the new URL, the README the old.
    assert catalog.read_text(encoding="utf-8") == finished[0]
    assert readme.read_bytes() == readme_before
    assert [p.name for p in tmp_path.joinpath("p").iterdir() if p.suffix == ".tmp"] == []
    if check_in_between:
        # The nightly checked the catalog's new URL before anyone reran fix: the newest check
        # of the resource no longer says "moved", only its older check at the old URL does.
        later = AT + timedelta(days=1)
        cat = load_catalog(catalog)
        ok = CheckResult("llm-course", NEW, Verdict.OK, status=200, checked_at=later)
        with Store.open(db) as store:
            store.record_run(Run(None, later, later), [ok], cat.resources)

    code, output = _fix(catalog, db)
    assert code == 0, output
    assert "no moved links to apply" not in output
    assert "not yet in README.md" in output
    assert readme.read_text(encoding="utf-8") == finished[1]
    assert catalog.read_text(encoding="utf-8") == finished[0]
    assert f"[course]({NEW} " in finished[1] and f"[llm]: {NEW}" in finished[1]

    code, output = _fix(catalog, db)  # the job is done: nothing left
    assert code == 0 and "no moved links to apply" in output
    assert readme.read_text(encoding="utf-8") == finished[1]


def test_a_readme_link_outside_the_catalog_that_never_moved_is_left_alone(
    tmp_path: Path,
) -> None:
    """A README link the catalog lacks is rewritten only when the history shows it moved to
    the URL the catalog now holds for that same resource."""
    catalog, readme, db = _project(tmp_path / "p")
    other = "https://example.com/elsewhere"
    text = readme.read_text(encoding="utf-8") + f"\n[elsewhere]({other})\n"
    readme.write_text(text, encoding="utf-8")
    with Store.open(db) as store:  # once checked, moved to a URL the catalog never held
        earlier = AT - timedelta(days=1)
        store.record_run(
            Run(None, earlier, earlier),
            [
                CheckResult(
                    "llm-course", other, Verdict.MOVED, moved_to=NEW + "-x", checked_at=earlier
                )
            ],
            load_catalog(catalog).resources,
        )
    for _ in range(2):
        code, output = _fix(catalog, db)
        assert code == 0, output
        assert f"[elsewhere]({other})" in readme.read_text(encoding="utf-8")
    assert f"[course]({NEW} " in readme.read_text(encoding="utf-8")  # the real move applied
