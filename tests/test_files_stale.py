"""Temporary files left by a writer killed between the write and the rename are cleaned by
the next write of the same file, and a live writer's are never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.files import clean_stale_temps, write_atomic, write_if_changed

# Writes the temporary file as write_atomic does, then waits to be killed before the rename.
STUCK_WRITER = """
import os, sys, tempfile, time
path = sys.argv[1]
d, n = os.path.split(path)
fd, name = tempfile.mkstemp(dir=d, prefix=f".{n}.{os.getpid()}.", suffix=".tmp")
os.write(fd, b"half of the new bytes")
os.close(fd)
print(name, flush=True)
time.sleep(60)
"""


def _stuck(path: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_bytes(b"old bytes\n")
    proc, tmp = _stuck(page)
    try:
        assert tmp.exists()
        assert clean_stale_temps(page) == []  # its writer is alive: left alone
        assert tmp.exists()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert page.read_bytes() == b"old bytes\n"  # the kill left the old bytes whole
    assert write_if_changed(page, b"old bytes\n") is False  # no change, but cleaned
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_write_atomic_cleans_leftovers_of_its_own_target_only(tmp_path: Path) -> None:
    page, other = tmp_path / "index.html", tmp_path / "badge.svg"
    dead = 2**22 + 12345  # beyond pid_max on Linux by default: no such process
    leftover = tmp_path / f".index.html.{dead}.abcd1234.tmp"
    leftover.write_bytes(b"partial")
    old_style = tmp_path / ".index.html.xyz123.tmp"  # no pid: stale after a minute
    old_style.write_bytes(b"partial")
    past = time.time() - 3600
    os.utime(old_style, (past, past))
    others = tmp_path / f".badge.svg.{dead}.abcd1234.tmp"
    others.write_bytes(b"partial")
    write_atomic(page, b"<html>new</html>")
    assert page.read_bytes() == b"<html>new</html>"
    assert not leftover.exists() and not old_style.exists()
    assert others.exists()  # another file's leftover waits for that file's next write
    write_atomic(other, b"<svg/>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["badge.svg", "index.html"]


def test_readme_and_fix_clean_leftovers_even_when_nothing_changes(tmp_path: Path) -> None:
    """The next `monitor readme` or `fix --yes` removes what a killed one left beside the
    README and the catalog, also when it has nothing new to write."""
    from typer.testing import CliRunner

    from monitor.cli.app import app
    from monitor.store.database import Store

    catalog, readme = tmp_path / "resources.toml", tmp_path / "README.md"
    catalog.write_text(
        '[[sections]]\nid = "s"\ntitle = "S"\n\n[[resources]]\nid = "a"\n'
        'url = "https://a.example/"\nlabel = "A"\nsection = "s"\n',
        encoding="utf-8",
    )
    readme.write_text("# R\n\n<!-- monitor:begin section=s -->\n<!-- monitor:end -->\n", "utf-8")
    Store.open(tmp_path / "h.sqlite").close()
    args = ["--catalog", str(catalog), "--db", str(tmp_path / "h.sqlite")]
    assert CliRunner().invoke(app, ["readme", *args]).exit_code == 0
    dead = 2**22 + 12345  # no such process
    leftovers = [
        tmp_path / f".{name}.{dead}.abcd1234.tmp" for name in ("README.md", "resources.toml")
    ]
    for leftover in leftovers:
        leftover.write_bytes(b"partial")
    result = CliRunner().invoke(app, ["readme", *args])
    assert result.exit_code == 0 and "up to date" in " ".join(result.output.split())
    assert not leftovers[0].exists() and leftovers[1].exists()
    result = CliRunner().invoke(app, ["fix", "--yes", "--no-wayback", *args])
    assert result.exit_code == 0 and "no moved links to apply" in result.output
    assert not leftovers[1].exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
