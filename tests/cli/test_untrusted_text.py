"""Untrusted text is inert wherever it lands: terminal, Markdown, the store (issue 16).

Each test is one finding of the hostile-contributor review, run end to end through the CLI
against pages served on loopback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import common
from monitor.cli.app import app
from monitor.domain.models import CheckResult, Verdict
from monitor.reports.formats import to_markdown
from monitor.reports.markdown import md_escape
from monitor.run.inert import inert_result
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

TOKEN = "ghp_s3cretT0kenValue1234567890abcdef"
CATALOG = """\
[engine]
allow_private = true
retries = 0
recheck_interval_ms = 0

[[sections]]
id = "s"
title = "S"

[[resources]]
id = "a"
url = "{url}"
label = "{label}"
section = "s"
"""


def _catalog(tmp_path: Path, url: str, label: str = "A", extra: str = "") -> Path:
    path = tmp_path / "resources.toml"
    path.write_text(CATALOG.format(url=url, label=label) + extra, encoding="utf-8")
    (tmp_path / "README.md").write_text("# R\n", encoding="utf-8")
    return path


def _check(catalog: Path, *more: str) -> tuple[int, str]:
    db = str(catalog.parent / "m.sqlite")
    result = CliRunner().invoke(app, ["check", "--catalog", str(catalog), "--db", db, *more])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def page(title: str) -> Reply:
    body = f"<html><head><title>{title}</title></head><body>x</body></html>"
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def test_unclosed_ipv6_bracket_in_input_does_not_crash(tmp_path: Path) -> None:
    source = tmp_path / "links.md"
    source.write_text("[x](https://[)\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--input", str(source), "-q"])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_rich_markup_in_a_title_is_printed_not_interpreted(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the Rich summary table is what a terminal gets: pretend to be one, without colours
    monkeypatch.setattr(common.console, "_force_terminal", True)
    monkeypatch.setattr(common.console, "_color_system", None)
    monkeypatch.setattr(common.console, "_width", 400)
    server.routes["/p"] = page("Page not found | [/bold] [link=https://evil.example]x[/link]")
    code, output = _check(_catalog(tmp_path, server.url("/p")), "-q")
    assert code == 1, output  # a soft-404, reported with its title
    assert "┃ verdict" in output  # the table was printed
    flat = output.replace("\n", "")
    assert "[/bold]" in flat and "[link=https://evil.example]x[/link]" in flat


def test_terminal_escape_sequences_never_reach_the_terminal(
    tmp_path: Path, server: LoopbackServer
) -> None:
    osc8 = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
    server.routes["/p"] = page(f"Page not found | {osc8}\x07\x9b31m")
    code, output = _check(_catalog(tmp_path, server.url("/p")), "-q")
    assert code == 1, output
    assert "click me" in output
    assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output


def test_file_line_is_not_read_as_an_emoji_code(tmp_path: Path) -> None:
    catalog = tmp_path / "resources.toml"
    catalog.write_text("\n" * 99 + "bad = [\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--catalog", str(catalog)])
    assert result.exit_code == 2
    assert "resources.toml:100:" in result.output.replace("\n", "")
    assert "💯" not in result.output


def test_a_huge_value_is_not_echoed_whole(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "ftp://" + "a" * 200_000)
    result = CliRunner().invoke(app, ["check", "--catalog", str(catalog)])
    assert result.exit_code == 2
    assert "resources.toml:12:" in result.output.replace("\n", "")
    assert len(result.output) < 3000
    assert "characters)" in result.output


def test_bidi_override_never_reaches_markdown(tmp_path: Path, server: LoopbackServer) -> None:
    rlo = "\u202e"
    label_catalog = _catalog(tmp_path, "https://example.org/", label=f"harmless{rlo}exe.pdf")
    result = CliRunner().invoke(app, ["check", "--catalog", str(label_catalog)])
    assert result.exit_code == 2 and "U+202E" in result.output
    assert "resources.toml:13:" in result.output.replace("\n", "")
    # scraped text: stripped before it is stored, and by every Markdown writer anyway
    server.routes["/p"] = page(f"Page not found | evil{rlo}fdp.exe")
    catalog = _catalog(tmp_path, server.url("/p"))
    _check(catalog, "-q")
    with Store.open(str(tmp_path / "m.sqlite")) as store:
        stored = store.latest("a")
    assert stored is not None and rlo not in (stored.error or "") + (stored.meta.title or "")
    old = CheckResult("a", "https://x.example/", Verdict.BROKEN, error=f"evil{rlo}fdp.exe")
    assert rlo not in to_markdown([old], network_ok=True)
    assert rlo not in md_escape(f"evil{rlo}fdp.exe")


def test_a_long_title_does_not_hide_its_soft_404(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/p"] = page("x" * 10_000 + " | 404 Not Found")
    code, output = _check(_catalog(tmp_path, server.url("/p")), "-q", "--format", "json")
    assert code == 1, output
    (result,) = json.loads(output)["results"]
    assert result["verdict"] == "broken" and "soft-404" in result["error"]
    assert len(result["error"]) <= 1100


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_infinite_deadline_is_a_catalog_error(tmp_path: Path, value: str) -> None:
    catalog = tmp_path / "resources.toml"
    catalog.write_text(f"[engine]\ndeadline_s = {value}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--catalog", str(catalog)])
    assert result.exit_code == 2
    assert "resources.toml:2:" in result.output.replace("\n", "")


def test_a_token_echoed_by_the_server_is_never_printed_or_stored(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("MONITOR_GITHUB_API_URL", server.url(""))
    echo = json.dumps({"message": f"Bad credentials: Bearer {TOKEN}"}).encode()
    server.routes["/repos/o/r"] = Reply(401, echo, {"Content-Type": "application/json"})
    catalog = _catalog(tmp_path, "https://github.com/o/r")
    _, output = _check(catalog, "-q", "--format", "json")
    assert server.requests and server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in output and "[redacted]" in output
    with Store.open(str(tmp_path / "m.sqlite")) as store:
        stored = store.latest("a")
    assert stored is not None and TOKEN not in (stored.error or "")
    assert TOKEN not in (tmp_path / "m.sqlite").read_bytes().decode("latin-1")
    assert inert_result(CheckResult("a", "u", Verdict.ERROR, error=TOKEN), (TOKEN,)).error == (
        "[redacted]"
    )
