from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.domain.models import Kind, Resource
from monitor.sources.changes import (
    ChangesError,
    catalog_changes,
    changed_urls,
    markdown_urls,
    readme_changes,
    resources_for,
)
from tests.conftest import LoopbackServer, Reply

CATALOG = """\
[[sections]]
id = "s"
title = "S"

[[resources]]
url = "https://kept.example/"
label = "Kept"
section = "s"

[[resources]]
url = "https://renamed.example/old"
label = "Renamed"
section = "s"

[[resources]]
url = "https://accept.example/"
label = "Accept"
section = "s"
"""
README = """\
# Roadmap

- [Kept](https://kept.example/)
- [Renamed](https://renamed.example/old)

[ref]: https://ref.example/
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.name", "Test")
    _git(tmp_path, "config", "user.email", "test@example.com")
    (tmp_path / "resources.toml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "README.md").write_text(README, encoding="utf-8")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_only_added_or_changed_links(repo: Path) -> None:
    catalog, readme = repo / "resources.toml", repo / "README.md"
    assert changed_urls("main", catalog, readme) == set()
    catalog.write_text(
        CATALOG.replace("https://renamed.example/old", "https://renamed.example/new").replace(
            'label = "Accept"', 'label = "Accept"\naccept = [403]'
        )
        + '\n[[resources]]\nurl = "https://added.example/"\nlabel = "Added"\nsection = "s"\n',
        encoding="utf-8",
    )
    readme.write_text(
        README.replace("https://renamed.example/old", "https://renamed.example/new")
        + "\nMore: [a video](https://youtu.be/abc) and a [file](notes/cheatsheet.pdf) and <https://auto.example/>\n"
        + "[Kept again](https://kept.example/)\n",
        encoding="utf-8",
    )
    assert changed_urls("main", catalog, readme) == {
        "https://renamed.example/new",
        "https://accept.example/",
        "https://added.example/",
        "https://youtu.be/abc",
        "https://auto.example/",
        "notes/cheatsheet.pdf",
    }
    # committed on a branch, compared with the base ref: same answer (the PR case)
    _git(repo, "checkout", "-q", "-b", "pr")
    _git(repo, "commit", "-q", "-am", "pr")
    assert "https://added.example/" in changed_urls("main", catalog, readme)
    assert changed_urls("pr", catalog, readme) == set()


def test_new_file_at_ref_counts_everything(repo: Path) -> None:
    other = repo / "other.md"
    other.write_text("[x](https://x.example/)\n", encoding="utf-8")
    assert changed_urls("main", repo / "resources.toml", other) == {"https://x.example/"}


def test_bad_ref_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ChangesError, match="no-such-ref"):
        changed_urls("no-such-ref", repo / "resources.toml", repo / "README.md")


def test_pure_comparisons() -> None:
    assert readme_changes("[a](https://a/)", "[a2](https://a/)") == set()  # label only
    assert markdown_urls("[a](https://a/) [m](mailto:x@y) [h](#top) `[c](https://code/)`") == {
        "https://a/"
    }
    assert catalog_changes("", CATALOG) == {
        "https://kept.example/",
        "https://renamed.example/old",
        "https://accept.example/",
    }


def test_resources_for_adds_readme_only_links() -> None:
    known = Resource("kept", "https://kept.example/", Kind.WEB, "s", "Kept")
    out = resources_for({"https://kept.example/", "https://youtu.be/abc"}, [known], "s")
    assert out[0] is known
    assert out[1].kind is Kind.YOUTUBE and out[1].id.startswith("readme-")


def test_check_changed_since_checks_only_the_new_links(
    repo: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)  # no database appears here: nothing is stored without --db
    catalog = repo / "resources.toml"
    base = CATALOG.replace("https://kept.example/", server.url("/kept"))
    catalog.write_text("[engine]\nretries = 0\n" + base, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "loopback")
    args = ["check", "--changed-since", "main", "--catalog", str(catalog), "--allow-private"]
    unchanged = CliRunner().invoke(app, args)
    assert unchanged.exit_code == 0, unchanged.output
    assert "no link added or changed since main" in unchanged.output
    assert server.requests == []

    server.routes["/new"] = Reply(200, b"<html><title>New</title></html>")
    catalog.write_text(
        catalog.read_text(encoding="utf-8")
        + f'\n[[resources]]\nurl = "{server.url("/new")}"\nlabel = "New"\nsection = "s"\n',
        encoding="utf-8",
    )
    readme = repo / "README.md"
    readme.write_text(README + f"\n- [Gone]({server.url('/gone')})\n", encoding="utf-8")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # the README's new link is broken
    assert {r.path for r in server.requests} == {"/new", "/gone"}
    assert not (repo / "db").exists()

    bad = CliRunner().invoke(app, ["check", "--changed-since", "nope", "--catalog", str(catalog)])
    assert bad.exit_code == 2 and "nope" in bad.output
