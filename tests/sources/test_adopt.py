"""`monitor init` pieces: where markers go in each mode, the workflow it writes, what it
leaves alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.sources.adopt import (
    InitError,
    init_repository,
    insert_markers,
    plan_markers,
    workflow_text,
)
from monitor.sources.markers import Mode, find_blocks

BIN = Path(sys.executable).parent
CATALOG = Path("resources.toml")

README = """# Awesome

## Contents

- [Tools](#tools)

## Tools

- [A](https://a.example.com/) - first list.

Some words between two lists of one section.

- [B](https://b.example.com/) - second list.

## Other

1. [C](https://c.example.com/)"""


def _wraps(mode: Mode) -> list[tuple[str, int, int]]:
    wraps = plan_markers(README, "README.md", None, CATALOG, mode, "en")
    return [(w.section, w.start, w.end) for w in wraps]


def test_list_mode_wraps_each_list_and_skips_a_table_of_contents() -> None:
    assert _wraps(Mode.LIST) == [("tools", 8, 9), ("tools", 12, 13), ("other", 16, 17)]


def test_table_mode_never_puts_the_authors_words_inside_a_block() -> None:
    """`readme` replaces a table block whole: the words between the two lists of "Tools"
    stay outside it, and the second list stays as written (its link is a row of the
    section's one table)."""
    assert _wraps(Mode.TABLE) == [("tools", 8, 9), ("other", 16, 17)]
    wraps = plan_markers(README, "README.md", None, CATALOG, Mode.TABLE, "en")
    marked = insert_markers(README, wraps, Mode.TABLE)
    blocks = find_blocks(marked, "README.md")
    block_lines = {i for b in blocks for i in range(b.start - 1, b.end + 1)}  # with markers
    words = marked.splitlines().index("Some words between two lists of one section.")
    assert words not in block_lines
    assert marked.count("<!-- monitor:begin") == 2


def test_table_mode_gives_a_section_one_block_for_lists_parted_by_blank_lines() -> None:
    text = "## Tools\n\n- [A](https://a.example.com/)\n\n\n* [B](https://b.example.com/)\n"
    wraps = plan_markers(text, "README.md", None, CATALOG, Mode.TABLE, "en")
    assert [(w.section, w.start, w.end) for w in wraps] == [("tools", 2, 6)]


def test_markers_are_whole_lines_even_at_the_end_of_the_file() -> None:
    wraps = plan_markers(README, "README.md", None, CATALOG, Mode.LIST, "en")
    marked = insert_markers(README, wraps, Mode.LIST)
    assert marked.endswith(
        "<!-- monitor:begin section=other mode=list -->\n1. [C](https://c.example.com/)\n"
        "<!-- monitor:end -->\n"
    )
    assert [b.section for b in find_blocks(marked)] == ["tools", "tools", "other"]
    assert (
        marked.replace("<!-- monitor:end -->\n", "")
        .replace("<!-- monitor:begin section=tools mode=list -->\n", "")
        .replace("<!-- monitor:begin section=other mode=list -->\n", "")
        == README + "\n"
    )


@pytest.mark.parametrize("pages", [False, True])
def test_the_workflow_passes_actionlint(tmp_path: Path, pages: bool) -> None:
    workflow = tmp_path / "monitor.yml"
    workflow.write_text(workflow_text("resources.toml", "docs/LIST.md", "0.1.0", pages), "utf-8")
    done = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text(encoding="utf-8")
    assert ("actions/deploy-pages@" in text) is pages
    assert "readme: docs/LIST.md" in text and "mode: pull-request" in text


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a job that needs one that does not exist is refused."""
    workflow = tmp_path / "monitor.yml"
    text = workflow_text("resources.toml", "README.md", "0.1.0", True)
    workflow.write_text(text.replace("needs: check", "needs: chek"), "utf-8")
    done = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1


def test_init_leaves_a_changed_workflow_and_gitignore_lines_alone(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README, encoding="utf-8")
    (tmp_path / ".gitignore").write_text("node_modules/\ndb/", encoding="utf-8")
    workflow = tmp_path / ".github" / "workflows" / "monitor.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n", encoding="utf-8")
    result = init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, "pt-BR", "0.1.0")
    assert workflow.read_text(encoding="utf-8") == "name: mine\n"
    assert result.kept == [workflow]
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == (
        "node_modules/\ndb/\n# monitor: local history and status page "
        "(kept on the monitor-data branch)\nsite/\n*.sqlite.lock\n"
    )
    assert 'locale = "pt-BR"' in (tmp_path / "resources.toml").read_text(encoding="utf-8")
    again = init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, None, "0.1.0")
    assert again.written == []


def test_init_without_the_readme_says_so(tmp_path: Path) -> None:
    with pytest.raises(InitError, match=r"README\.md: file not found"):
        init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, None, "0.1.0")


def test_init_refuses_a_readme_without_a_list_of_links(tmp_path: Path) -> None:
    """Prose and a table of contents only: no catalog, workflow or marker is written, and
    the error says why (an empty catalog written silently looked like success)."""
    text = "# Title\n\n- [Intro](#intro)\n\n## Intro\n\nSee https://a.example.com/ inline.\n"
    (tmp_path / "README.md").write_text(text, encoding="utf-8")
    with pytest.raises(InitError, match=r"README\.md: no list of links to monitor"):
        init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, None, "0.1.0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == text


def _ignored(root: Path, path: str) -> bool:
    return (
        subprocess.run(["git", "check-ignore", "-q", path], cwd=root, check=False).returncode == 0
    )


def test_the_lock_file_a_run_leaves_is_ignored(tmp_path: Path) -> None:
    """Every run leaves `<database>.lock` beside the database: `git status` must not show it,
    in a repository `monitor init` set up (wherever `--db` put the history) and in this one."""
    (tmp_path / "README.md").write_text(README, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, "en", "0.1.0")
    assert "*.sqlite.lock" in (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert _ignored(tmp_path, "db/monitor.sqlite.lock")
    assert _ignored(tmp_path, "history/links.sqlite.lock")
    assert not _ignored(tmp_path, "README.md")
    this_repo = Path(__file__).resolve().parents[2]
    assert _ignored(this_repo, "db/monitor.sqlite.lock")
    assert not _ignored(this_repo, "db/migrations/env.py")


def test_table_mode_refuses_to_drop_an_item_without_a_checked_link(tmp_path: Path) -> None:
    """A table has a row per checked link: an item without one would vanish with its words.
    init says which line (also in a dry run) and writes nothing, unless `force`."""
    text = (
        "# List\n\n## Tools\n\n- [A](https://a.example.com/) - kept as its description.\n"
        "  - a nested note, kept too.\n- More to come.\n- [Mail](mailto:a@b.org) - write us.\n"
    )
    (tmp_path / "README.md").write_text(text, encoding="utf-8")
    for dry_run in (True, False):
        with pytest.raises(
            InitError, match=r"README\.md:7: this item has no link .*\(and 1 more\)"
        ):
            init_repository(
                tmp_path, Path("README.md"), CATALOG, Mode.TABLE, "en", "0.1.0", dry_run=dry_run
            )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == text
    init_repository(tmp_path, Path("README.md"), CATALOG, Mode.LIST, "en", "0.1.0")  # lists: fine
    (tmp_path / "README.md").write_text(text, encoding="utf-8")
    (tmp_path / "resources.toml").unlink()
    result = init_repository(
        tmp_path, Path("README.md"), CATALOG, Mode.TABLE, "en", "0.1.0", force=True
    )
    assert [a.description for a in result.imported.added] == [
        "kept as its description. a nested note, kept too."
    ]
