"""CLI conventions users bring from lychee: --version, several inputs (files, '-', URLs),
--dump, the source of every result, plain output for pipes, --x/--no-x flags with defaults,
images checked unless --no-images."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.net import guard as netguard
from tests.conftest import LoopbackServer, Reply

runner = CliRunner()
OK = Reply(200, b"<html><title>fine</title></html>")


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the internet: every name but localhost is unknown."""

    async def resolve(host: str, port: int) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "system_resolver", resolve)


# No waiting in tests: the second opinion runs at full speed.
FAST = ["--allow-private", "--recheck-interval", "0", "--quiet"]


def _inputs(tmp_path: Path, server: LoopbackServer) -> tuple[Path, Path]:
    server.routes["/a"] = OK
    server.routes["/b"] = OK
    server.routes["/pic.png"] = Reply(200, b"\x89PNG", {"Content-Type": "image/png"})
    first = tmp_path / "first.md"
    first.write_text(
        f"# One\n\n- [A]({server.url('/a')}) - fine\n- [Gone]({server.url('/gone')})\n"
        f"\n![shot]({server.url('/missing.png')})\n",
        encoding="utf-8",
    )
    second = tmp_path / "second.md"
    second.write_text(
        f"# Two\n\n[B]({server.url('/b')}) and [A again]({server.url('/a')})\n"
        f'<img src="{server.url("/pic.png")}" alt="pic">\n',
        encoding="utf-8",
    )
    return first, second


def _json(args: list[str], stdin: str | None = None) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["check", *args, "--format", "json"], input=stdin)
    assert result.exit_code in (0, 1), result.output
    return {r["url"]: r for r in json.loads(result.stdout)["results"]}


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("monitor ")


def test_several_inputs_each_result_with_its_source(tmp_path: Path, server: LoopbackServer) -> None:
    first, second = _inputs(tmp_path, server)
    stdin = f"{server.url('/from-stdin')}\n"
    server.routes["/from-stdin"] = OK
    server.routes["/list.md"] = Reply(
        200,
        f"* [Remote]({server.url('/b')})\n* [Rel](/a)\n".encode(),
        {"Content-Type": "text/markdown"},
    )
    results = _json(
        [
            str(first),
            "--input",
            str(second),
            "-i",
            "-",
            "-i",
            server.url("/list.md"),
            *FAST,
        ],
        stdin=stdin,
    )
    a, b = server.url("/a"), server.url("/b")
    assert results[a]["source"] == f"{first}:3"  # the first place wins
    assert results[a]["label"] == "A"
    assert results[server.url("/gone")]["verdict"] == "broken"
    assert results[b]["source"] == f"{second}:3"
    assert results[server.url("/pic.png")]["source"] == f"{second}:4"
    assert results[server.url("/missing.png")]["verdict"] == "broken"  # images are checked
    assert results[server.url("/from-stdin")]["source"] == "-:1"
    assert set(results) == {
        a,
        b,
        server.url("/gone"),
        server.url("/missing.png"),
        server.url("/pic.png"),
        server.url("/from-stdin"),
    }  # the remote list's links were already found, one check each


def test_no_images(tmp_path: Path, server: LoopbackServer) -> None:
    first, second = _inputs(tmp_path, server)
    results = _json([str(first), str(second), "--no-images", *FAST])
    assert server.url("/missing.png") not in results and server.url("/pic.png") not in results
    assert server.url("/a") in results


def test_plain_output_when_piped(tmp_path: Path, server: LoopbackServer) -> None:
    first, _ = _inputs(tmp_path, server)
    result = runner.invoke(app, ["check", str(first), *FAST])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # one per link, nothing else
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 4 for f in fields)
    assert fields[0][:3] == ["broken", server.url("/gone"), f"{first}:4"]
    assert "HTTP 404" in fields[0][3]
    assert ["ok", server.url("/a"), f"{first}:3", ""] in fields
    assert "3 links: 2 broken, 1 ok" in result.stderr


def test_markdown_and_text_reports_carry_the_source(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inputs(tmp_path, server)
    monkeypatch.chdir(tmp_path)
    first = "first.md"
    md = runner.invoke(app, ["check", first, *FAST, "-f", "markdown"])
    assert "| verdict | link | source | detail |" in md.stdout
    assert f"| broken | <{server.url('/gone')}> | {first}:4 (Gone) |" in md.stdout
    out = tmp_path / "report.txt"
    runner.invoke(app, ["check", first, *FAST, "-o", str(out)])
    assert f"{server.url('/gone')}  {first}:4 (Gone)  HTTP 404" in out.read_text(encoding="utf-8")


def test_dump_lists_and_checks_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    first, _ = _inputs(tmp_path, server)
    result = runner.invoke(app, ["check", str(first), "--dump"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{server.url('/a')}\t{first}:3\tA",
        f"{server.url('/gone')}\t{first}:4\tGone",
        f"{server.url('/missing.png')}\t{first}:6\tshot",
    ]
    assert server.requests == []


def test_catalog_results_name_their_readme_line(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/a"] = OK
    (tmp_path / "README.md").write_text(
        "# L\n\n## S\n\n<!-- monitor:begin section=s mode=list -->\n"
        f"- [A]({server.url('/a')})\n- [Gone]({server.url('/gone')})\n<!-- monitor:end -->\n",
        encoding="utf-8",
    )
    catalog = tmp_path / "resources.toml"
    catalog.write_text(
        '[settings]\nlocale = "en"\n\n[engine]\nallow_private = true\n\n'
        '[[sections]]\nid = "s"\ntitle = "S"\n\n'
        f'[[resources]]\nurl = "{server.url("/a")}"\nlabel = "A"\nsection = "s"\n\n'
        f'[[resources]]\nurl = "{server.url("/orphan")}"\nlabel = "Orphan"\nsection = "s"\n\n'
        f'[[resources]]\nurl = "{server.url("/gone")}"\nlabel = "Gone"\nsection = "s"\n',
        encoding="utf-8",
    )
    dump = runner.invoke(app, ["check", "--catalog", str(catalog), "--dump"])
    readme = tmp_path / "README.md"
    places = [line.split("\t")[1] for line in dump.stdout.splitlines()]
    # README lines, and the catalog entry for a link the README does not have
    assert places[0].endswith("README.md:6") and places[2].endswith("README.md:7")
    assert places[1].endswith("resources.toml:16")
    assert readme.exists()


def _bool_options() -> list[tuple[str, Any]]:
    command: Any = typer.main.get_command(app)
    out = []
    for name, sub in command.commands.items():
        for param in sub.params:
            if getattr(param, "is_flag", False) and param.name != "help":
                if param.is_eager:  # --version: an action, not a setting
                    continue
                out.append((name, param))
    return out


def test_boolean_flags_read_as_x_and_no_x() -> None:
    flags = _bool_options()
    assert len(flags) > 5
    single = [f"{name} {p.opts[0]}" for name, p in flags if not p.secondary_opts]
    assert single == []


def test_help_shows_defaults() -> None:
    result = runner.invoke(app, ["check", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "--images" in line)
    images = " ".join(lines[at : at + 2])  # the default may follow on the row's next line
    assert "--no-images" in lines[at] and "[default: images]" in images
    assert "[default: broken]" in result.stdout
    assert (
        "[default: $MONITOR_DATABASE_URL, else db/monitor.sqlite beside the catalog]"
        in result.stdout
    )
    assert "[default: [engine] concurrency, 128]" in result.stdout
    # defaults written in help texts are not eaten as markup, nor are markers or tables
    for command, needle in (
        ("readme", "<!-- monitor:begin section=ID -->"),
        ("import", "[settings] readme"),
        ("report", "[default: the current time]"),
        ("prune", "[default: settings.retention_days, 90]"),
        ("readme", "[default: settings.readme]"),
    ):
        shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        assert needle in shown, command
