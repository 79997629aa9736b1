"""A crash (a bug) never exits 1, which would mean "links are broken" to the nightly."""

from __future__ import annotations

import subprocess
import sys

CRASH = """
from monitor.cli import app as cli

@cli.app.command("crash-for-test")
def crash() -> None:
    raise RuntimeError("boom")

cli.main()
"""


def test_an_unexpected_exception_exits_70_not_1() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH, "crash-for-test"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 70, done.stderr
    assert "RuntimeError: boom" in done.stderr  # the traceback, for the bug report
    assert "internal error (RuntimeError): this is a bug in monitor" in done.stderr


def test_usage_errors_keep_their_code() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH, "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
