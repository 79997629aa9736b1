"""A maintainer adopts monitor in an awesome list, end to end.

A realistic awesome-style README (bullet lists with descriptions and secondary links, a
nested item, headings with the same title in two chapters, a URL under two headings, a
marker example in a code block) in a temporary git repository: `monitor init --mode list`,
a check against loopback servers, `monitor readme` twice. Every byte the author wrote stays,
each item carries the right suffix, the second run changes nothing, the code block is
untouched, and the generated workflow passes actionlint.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import load_catalog
from monitor.reports.readme import SUFFIX
from tests.conftest import FIXTURES, LoopbackServer, Reply

runner = CliRunner()
BIN = Path(sys.executable).parent
OK = Reply(200, b"<html><head><title>A project</title></head><body>fine</body></html>")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def _monitor(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.fixture
def repo(tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    for path in ("nextcloud", "nextcloud-demo", "seafile", "seafile-client", "syncthing"):
        server.routes[f"/{path}"] = OK
    for path in ("django", "flask", "caddy", "pydio-new", "go.svg"):
        server.routes[f"/{path}"] = OK
    server.routes["/pydio"] = Reply(301, headers={"Location": server.url("/pydio-new")})
    server.routes["/oldbox"] = Reply(410, b"<html><title>Gone</title></html>")
    # /nextcloud-source is not routed: 404
    root = tmp_path / "awesome-selfhosted"
    root.mkdir()
    text = (FIXTURES / "awesome.md").read_text(encoding="utf-8")
    (root / "README.md").write_text(text.replace("{BASE}", server.url("")), "utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Maintainer")
    _git(root, "config", "user.email", "m@example.com")
    _git(root, "add", "README.md")
    _git(root, "commit", "-q", "-m", "the list")
    monkeypatch.chdir(root)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return root


def _items(text: str) -> list[str]:
    """Every line of every list item (bullets, ordered, nested, continuation lines)."""
    body = text.split("```")[0]
    return [
        line
        for line in body.splitlines(keepends=True)
        if re.match(r"^\s*(?:[-*]|\d+\.)\s|^  \S", line) and "](#" not in line
    ]


def test_a_maintainer_adopts_monitor(repo: Path, server: LoopbackServer) -> None:
    original = (repo / "README.md").read_text(encoding="utf-8")
    base = server.url("")

    out = _monitor("init", "--mode", "list")
    assert "Next steps:" in out and "monitor check" in out
    readme = (repo / "README.md").read_text(encoding="utf-8")
    marker_lines = [ln for ln in readme.splitlines(keepends=True) if "<!-- monitor:" in ln]
    # init only added whole marker lines around the lists (the code block's stay its own)
    assert "".join(ln for ln in readme.splitlines(keepends=True) if ln not in marker_lines) == (
        "".join(ln for ln in original.splitlines(keepends=True) if ln not in marker_lines)
    )
    assert [ln.strip() for ln in marker_lines if "section=" in ln] == [
        "<!-- monitor:begin section=file-sharing mode=list -->",
        "<!-- monitor:begin section=file-sharing-other mode=list -->",
        "<!-- monitor:begin section=frameworks mode=list -->",
        "<!-- monitor:begin section=web-other mode=list -->",
        "<!-- monitor:begin section=file-sharing mode=list -->",  # the example, in the fence
        "<!-- monitor:begin section=indented-example -->",  # an indented code block
    ]
    catalog = load_catalog(repo / "resources.toml")
    assert catalog.settings.locale == "en"
    assert [(s.id, s.title) for s in catalog.sections] == [
        ("file-sharing", "File Sharing"),
        ("file-sharing-other", "File Sharing › Other"),
        ("frameworks", "Frameworks"),
        ("web-other", "Web › Other"),
    ]
    labels = [(r.label, r.section) for r in catalog.resources]
    assert labels[:4] == [
        ("Nextcloud", "file-sharing"),
        ("Nextcloud — Demo", "file-sharing"),
        ("Nextcloud — Source Code", "file-sharing"),
        ("Seafile", "file-sharing"),
    ]
    assert [r.section for r in catalog.resources if r.url == f"{base}/django"] == [
        "frameworks",
        "web-other",
    ]
    urls = {r.url for r in catalog.resources}
    assert f"{base}/example" not in urls  # the example in the code block
    assert "https://example.org/contributing" not in urls  # prose outside the lists
    assert "line =" not in (repo / "resources.toml").read_text(encoding="utf-8")

    workflow = repo / ".github" / "workflows" / "monitor.yml"
    lint = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "mode: nightly" in workflow.read_text(encoding="utf-8")

    # init again: nothing changes
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "adopt monitor")
    assert "nothing to do" in _monitor("init", "--mode", "list")
    assert _git(repo, "status", "--porcelain") == ""

    result = runner.invoke(app, ["check", "--allow-private", "--quiet"])
    assert result.exit_code == 1, result.output  # one broken link: /oldbox (410)
    assert (repo / "db" / "monitor.sqlite").exists()

    assert "updated README.md" in _monitor("readme")
    first = (repo / "README.md").read_bytes()
    assert "README.md is up to date" in _monitor("readme")
    assert (repo / "README.md").read_bytes() == first
    final = first.decode("utf-8")

    # every byte the author wrote is still there: only suffixes were added
    assert SUFFIX.sub("", final) == readme
    for line in _items(original):
        assert line.rstrip(" \n") in final, line
    # the code block is untouched
    fence = original[original.index("```markdown") : original.rindex("```") + 3]
    assert fence in final and "<!--monitor-->" not in final[final.index("```markdown") :]

    def suffix_of(start: str) -> str:
        line = next(ln for ln in final.splitlines() if ln.lstrip().startswith(start))
        found = re.search(r"<!--monitor-->(.*?)<!--/monitor-->", line)
        return found.group(1) if found else ""

    # one run: a failure is "failing" until it fails again (down_after = 2)
    assert suffix_of("- [Nextcloud]") == "✅ · Source Code ⚠️"
    assert suffix_of("- [Seafile]") == "✅"
    assert suffix_of("- [Seafile Client]") == "✅"
    assert suffix_of("- [Pydio]") == "↪️"
    assert suffix_of("- ~~[OldBox]") == "⚠️"
    assert suffix_of("across your devices") == "✅"  # a wrapped item: at its end
    assert suffix_of("1. [Django]") == "✅"
    assert suffix_of("- [Django]") == "✅"  # the same URL's second place has its own row
    assert suffix_of("- [Caddy]") == "✅"
    # the author's trailing spaces stay after the suffix
    assert re.search(r"system\. <!--monitor-->↪️<!--/monitor-->   \n", final)
    _git(repo, "commit", "-q", "-am", "status")

    # a contributor adds an item and edits another; the nightly import + readme keep both
    edited = final.replace(
        "2. [Flask]", f"2. [Falcon]({base}/falcon) - Minimalist REST framework.\n3. [Flask]"
    ).replace("A microframework based on", "A lightweight microframework based on")
    (repo / "README.md").write_text(edited, encoding="utf-8")
    _monitor("import", "README.md")
    catalog = load_catalog(repo / "resources.toml")
    urls_in_order = [r.url for r in catalog.resources]
    falcon = urls_in_order.index(f"{base}/falcon")
    assert urls_in_order[falcon - 1 : falcon + 2] == [
        f"{base}/django",
        f"{base}/falcon",
        f"{base}/flask",
    ]
    _monitor("readme")
    again = (repo / "README.md").read_text(encoding="utf-8")
    assert "A lightweight microframework based on Werkzeug & Jinja2. <!--monitor-->✅" in again
    assert f"2. [Falcon]({base}/falcon) - Minimalist REST framework.\n" in again  # not checked yet


def test_readme_without_markers_exits_1_and_writes_nothing(repo: Path) -> None:
    (repo / "resources.toml").write_text('[settings]\nlocale = "en"\n', encoding="utf-8")
    before = (repo / "README.md").read_bytes()
    result = runner.invoke(app, ["readme"])
    assert result.exit_code == 1
    assert "no <!-- monitor:begin section=ID --> markers" in result.output
    assert "monitor init" in result.output
    assert (repo / "README.md").read_bytes() == before
    assert not (repo / "db").exists()  # no database created as a side effect


def test_table_mode_keeps_every_items_words(repo: Path, server: LoopbackServer) -> None:
    """A table replaces the lists it is made from: the words each item had beside its link
    live on in the catalog (`description`) and in the table's Description column."""
    out = _monitor("init", "--mode", "table", "--dry-run")
    assert "kept in resources.toml for the table's Description column: 11" in out
    assert not (repo / "resources.toml").exists()
    _monitor("init", "--mode", "table")
    catalog = load_catalog(repo / "resources.toml")
    described = {(r.label, r.section): r.description for r in catalog.resources}
    assert described == {
        ("Nextcloud", "file-sharing"): (
            "Access & share your files, calendars, contacts, mail & more from any device."
        ),
        ("Nextcloud — Demo", "file-sharing"): "",
        ("Nextcloud — Source Code", "file-sharing"): "AGPL-3.0 PHP",
        ("Seafile", "file-sharing"): (
            "File hosting and sharing solution primarily for teams and organizations. GPL-3.0 C"
        ),
        ("Seafile Client", "file-sharing"): "The desktop client, in its own repository.",
        ("Pydio", "file-sharing"): "Turn any web server into a powerful file management system.",
        ("OldBox", "file-sharing"): "Gone for years, kept for the record. unmaintained",
        ("Syncthing", "file-sharing-other"): (
            "Continuous file synchronization, peer to peer across your devices, with no "
            "central server."
        ),
        ("Django", "frameworks"): "The web framework for perfectionists with deadlines.",
        ("Flask", "frameworks"): "A microframework based on Werkzeug & Jinja2.",
        ("Django", "web-other"): "Also in this list: it ships a development server.",
        ("Caddy", "web-other"): "Fast web server with automatic HTTPS.",
    }
    result = runner.invoke(app, ["check", "--allow-private", "--quiet"])
    assert result.exit_code == 1, result.output
    assert "updated README.md" in _monitor("readme")
    final = (repo / "README.md").read_text(encoding="utf-8")
    assert "| Resource | Description | Kind |" in final
    for row in (
        f"| [Pydio]({server.url('')}/pydio) | Turn any web server into a powerful file "
        "management system. |",
        f"| [Flask]({server.url('')}/flask) | A microframework based on Werkzeug & Jinja2. |",
        "| Also in this list: it ships a development server. |",
    ):
        assert row in final, final
    assert "README.md is up to date" in _monitor("readme")
