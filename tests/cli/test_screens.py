"""Screens of `check`, `status` and an error in a real terminal (tmux), at 80 and 120 columns.

Kept in test-artifacts/screens/ for a person to look at; the test asserts what must hold on
any width: nothing wider than the terminal, no traceback, the summary and its counts there.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply
from tests.report_fixture import fill_store, make_catalog

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "screens"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _screen(command: list[str], cwd: Path, columns: int, name: str) -> str:
    """Run `command` in a detached tmux window of `columns` x 50; return what it shows, and
    its exit status as a last line `exit=N`."""
    session = f"monitor-screen-{name}-{columns}-{os.getpid()}"  # one tmux server per test run
    done = cwd / f".{session}.done"
    shell = f"cd {shlex.quote(str(cwd))} && {shlex.join(command)}; echo exit=$? > {done}"
    socket = ["-L", session]
    subprocess.run(
        ["tmux", *socket, "new-session", "-d", "-s", session, "-x", str(columns), "-y", "50"],
        check=True,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": str(cwd)},
    )
    try:
        subprocess.run(
            ["tmux", *socket, "set-option", "-t", session, "remain-on-exit", "on"], check=True
        )
        subprocess.run(["tmux", *socket, "send-keys", "-t", session, shell, "Enter"], check=True)
        deadline = time.monotonic() + 120
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.exists(), "the command did not finish in 120 s"
        shown = subprocess.run(
            ["tmux", *socket, "capture-pane", "-p", "-J", "-t", session, "-S", "-200"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        subprocess.run(["tmux", *socket, "kill-server"], check=False, capture_output=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}-{columns}.txt").write_text(shown, encoding="utf-8")
    return shown.rstrip("\n") + "\n" + done.read_text(encoding="utf-8")


def _assert_fits(shown: str, columns: int) -> None:
    """Tables fit the terminal (a cut border would show as a broken box). Messages are
    printed as one logical line that the terminal wraps (capture-pane -J joins it back),
    so a path in them can be copied whole."""
    tables = [line for line in shown.splitlines() if line[:1] in set("┏┃┡│└")]
    assert all(len(line) <= columns for line in tables), max(tables, key=len)
    assert "Traceback" not in shown


@pytest.mark.parametrize("columns", [80, 120])
def test_check_status_and_an_error_on_screen(
    tmp_path: Path, server: LoopbackServer, columns: int
) -> None:
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    server.routes["/gone"] = Reply(404, b"no")
    links = tmp_path / "links.md"
    links.write_text(
        f"- [ok]({server.url('/ok')})\n- [gone]({server.url('/gone')})\n", encoding="utf-8"
    )
    monitor = [sys.executable, "-m", "monitor"]
    env_py = ["env", f"PYTHONPATH={REPO}"]

    check = _screen(
        [*env_py, *monitor, "check", "-i", str(links), "--allow-private"],
        tmp_path,
        columns,
        "check",
    )
    _assert_fits(check, columns)
    assert "2 links: 1 broken, 1 ok" in check and "exit=1" in check
    assert "/gone" in check

    catalog = make_catalog(tmp_path)
    with Store.open(tmp_path / "h.sqlite") as store:
        fill_store(store, catalog)
    status = _screen(
        [*env_py, *monitor, "status", "--catalog", str(catalog.path), "--db", "h.sqlite"],
        tmp_path,
        columns,
        "status",
    )
    _assert_fits(status, columns)
    assert "exit=" in status

    error = _screen(
        [*env_py, *monitor, "report", "--catalog", str(catalog.path), "--db", "typo.sqlite"],
        tmp_path,
        columns,
        "error",
    )
    _assert_fits(error, columns)
    assert "typo.sqlite does not exist" in error.replace("\n", "") and "exit=2" in error
