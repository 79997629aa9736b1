"""Every command is documented (sqlite-utils style): --help works and shows examples.

The commands are read from the Typer app itself, so a new command is covered the day it
is registered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from monitor.cli import app

runner = CliRunner()


def _walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in sorted(subcommands.items()):
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(get_command(app)))


def test_the_known_commands_are_registered() -> None:
    assert {"check", "import", "resources", "history"} <= {p[0] for p in COMMANDS}


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_help_exits_0_and_has_examples(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert f"monitor {' '.join(path)}" in result.output  # an example runs this command


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_option_and_argument_has_help(path: tuple[str, ...]) -> None:
    params = getattr(COMMANDS[path], "params", [])
    undocumented = [
        p.name for p in params if not (getattr(p, "help", None) or "").strip() and p.name != "help"
    ]
    assert undocumented == []


def test_top_level_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=120)
    assert result.exit_code == 0
    for path in COMMANDS:
        assert path[0] in result.output


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [], terminal_width=120)
    assert "Usage" in result.output
    assert all(path[0] in result.output for path in COMMANDS)
