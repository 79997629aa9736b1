"""Every command is documented (sqlite-utils style): --help works and shows examples.

The expected commands are those the README's maintainer table documents, not the ones the
app happens to register: a command dropped from the app, or added without documentation,
fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from monitor.cli.app import app

runner = CliRunner()


def _walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in sorted(subcommands.items()):
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(get_command(app)))
README = Path(__file__).resolve().parents[2] / "README.md"


def _documented() -> list[tuple[str, ...]]:
    """Command paths the README documents: its command table's rows ("| `monitor check
    --input FILE` |"), and for a group ("| `monitor fleet check FLEET.toml` |") every
    `monitor fleet SUB` the README mentions."""
    text = README.read_text("utf-8")
    rows = re.findall(r"^\| `monitor ([a-z][a-z-]*)(?: ([a-z][a-z-]*)\b)?", text, re.MULTILINE)
    groups = {name for name, sub in rows if sub}
    paths = {(name,) for name, _ in rows if name not in groups}
    for group in groups:
        paths |= {(group, sub) for sub in re.findall(rf"monitor {group} ([a-z][a-z-]*)", text)}
    return sorted(paths)


DOCUMENTED = _documented()


def test_the_app_registers_exactly_the_documented_commands() -> None:
    assert len(DOCUMENTED) >= 12  # the table was found and read
    assert sorted(COMMANDS) == DOCUMENTED


@pytest.mark.parametrize("path", DOCUMENTED, ids=" ".join)
def test_help_exits_0_and_has_examples(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert f"monitor {' '.join(path)}" in result.output  # an example runs this command


@pytest.mark.parametrize("path", DOCUMENTED, ids=" ".join)
def test_every_option_and_argument_has_help(path: tuple[str, ...]) -> None:
    assert path in COMMANDS, f"monitor {' '.join(path)} is documented but not registered"
    params = getattr(COMMANDS[path], "params", [])
    undocumented = [
        p.name for p in params if not (getattr(p, "help", None) or "").strip() and p.name != "help"
    ]
    assert undocumented == []


def test_top_level_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=120)
    assert result.exit_code == 0
    for path in DOCUMENTED:
        assert path[0] in result.output


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [], terminal_width=120)
    assert "Usage" in result.output
    assert all(path[0] in result.output for path in DOCUMENTED)


HEAVY_MODULES = ("sqlalchemy", "alembic", "sqlmodel", "yt_dlp", "jinja2", "apscheduler")


def test_importing_the_cli_loads_no_heavy_module(tmp_path: Path) -> None:
    """`monitor --help` and `monitor check --input` must start fast: the store, yt-dlp and the
    templates load only in the commands that use them."""
    links = tmp_path / "links.md"
    links.write_text("nothing to check here\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from monitor.cli.app import app\n"
        f"loaded = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "CliRunner().invoke(app, ['--help'])\n"
        f"CliRunner().invoke(app, ['check', '--input', {str(links)!r}])\n"
        f"loaded += [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print(','.join(sorted(set(loaded))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
    # the probe itself can see a heavy import: loading the store puts sqlalchemy in sys.modules
    with_store = probe.replace(
        "from monitor.cli.app", "import monitor.store.database\nfrom monitor.cli.app"
    )
    seen = subprocess.run(
        [sys.executable, "-c", with_store], capture_output=True, text=True, check=True, timeout=60
    )
    assert "sqlalchemy" in seen.stdout
