"""The nightly and CI workflows: supply chain, token exposure, and publishing that does not
hang on the commit to main.

The workflow files are read as text (steps found by name, their `run:` scripts executed for
real with bash against temporary git repositories), so what is tested is what GitHub runs.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
NIGHTLY = GITHUB / "workflows" / "nightly.yml"
SCRIPTS = GITHUB / "scripts"


def _jobs(text: str) -> dict[str, str]:
    """Each job's block of a workflow, by job id (jobs are indented two spaces)."""
    body = text[text.index("\njobs:\n") + len("\njobs:\n") :]
    parts = re.split(r"^  ([A-Za-z0-9_-]+):\n", body, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _steps(job: str) -> list[str]:
    return ["- " + s for s in re.split(r"^      - ", job, flags=re.MULTILINE)[1:]]


def _step(job: str, name: str) -> str:
    found = [s for s in _steps(job) if re.match(rf"- name: {re.escape(name)}\n", s)]
    assert len(found) == 1, f"no single step named {name!r}"
    return found[0]


def _run_script(step: str) -> str:
    """The `run: |` block of a step, dedented."""
    lines = step.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == "run: |") + 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith(" " * 10):
            break
        block.append(line[10:])
    return "\n".join(block).strip() + "\n"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_version_in_a_comment(workflow: Path) -> None:
    uses = re.findall(r"uses: (\S+)(.*)", workflow.read_text(encoding="utf-8"))
    assert uses
    for action, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", rest), f"{action}: no version comment"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(workflow: Path) -> None:
    for job_id, job in _jobs(workflow.read_text(encoding="utf-8")).items():
        for step in _steps(job):
            if "uses: actions/checkout@" in step:
                assert "persist-credentials: false" in step, job_id


def test_dependabot_watches_actions_and_uv() -> None:
    text = (GITHUB / "dependabot.yml").read_text(encoding="utf-8")
    assert "version: 2" in text
    ecosystems = re.findall(r"package-ecosystem: (\S+)", text)
    assert sorted(ecosystems) == ["github-actions", "uv"]


def test_the_job_that_parses_pages_cannot_write() -> None:
    jobs = _jobs(NIGHTLY.read_text(encoding="utf-8"))
    check = jobs["check"]
    assert "monitor check" in check
    assert re.search(r"permissions:\n\s+contents: read", check)
    assert "write" not in check.split("steps:")[0]
    store = jobs["store"]
    assert "contents: write" in store
    assert "monitor check" not in store and "uv run" not in store  # it parses nothing


def test_nightly_upgrades_yt_dlp_before_checking_and_says_which_ran() -> None:
    check = _jobs(NIGHTLY.read_text(encoding="utf-8"))["check"]
    names = [re.match(r"- (?:name: )?(.*)", s).group(1) for s in _steps(check)]  # type: ignore[union-attr]
    install = _step(check, "Install the locked dependencies, then the newest yt-dlp")
    assert names.index("Install the locked dependencies, then the newest yt-dlp") < names.index(
        "Check every link"
    )
    script = _run_script(install)
    assert "uv sync --locked" in script
    upgrade = script.index("uv pip install --quiet --upgrade yt-dlp")
    assert script.index("uv sync --locked") < upgrade
    assert "yt-dlp --version" in script[upgrade:]
    assert "GITHUB_STEP_SUMMARY" in script[upgrade:]


def test_page_and_issue_do_not_wait_for_the_commit() -> None:
    jobs = _jobs(NIGHTLY.read_text(encoding="utf-8"))
    for job_id in ("deploy", "down-issue"):
        assert re.search(r"^    needs: check$", jobs[job_id], flags=re.MULTILINE), job_id
        assert "store" not in jobs[job_id]
    # the page artifact comes from the check job itself, and that job pushes nothing that a
    # protected main could refuse
    assert "actions/upload-pages-artifact@" in jobs["check"]
    assert "commit-if-changed.sh" not in jobs["check"]
    assert "git push" not in jobs["check"] and "data-branch.sh save" not in jobs["check"]
    assert "commit-if-changed.sh" in jobs["store"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _protected_remote(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote whose main refuses pushes (as branch protection does), and a clone."""
    remote = tmp_path / "remote.git"
    remote.mkdir()
    _git(remote, "init", "-q", "--bare", "-b", "main")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Maintainer")
    _git(repo, "config", "user.email", "maintainer@example.com")
    (repo / "README.md").write_text("# Roadmap\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\n"
        "exit 1\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    return remote, repo


def _commit_step(repo: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    store = _jobs(NIGHTLY.read_text(encoding="utf-8"))["store"]
    script = _run_script(
        _step(store, "Commit README.md, status.md and the badge when they changed")
    )
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    (repo / ".github").symlink_to(GITHUB)  # the step calls .github/scripts/ of the checkout
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GIT_TOKEN": "token-for-test",
            "BRANCH": "main",
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        check=False,
    )
    return done, summary.read_text(encoding="utf-8")


def test_refused_commit_is_reported_not_fatal(tmp_path: Path) -> None:
    remote, repo = _protected_remote(tmp_path)
    before = _git(remote, "rev-parse", "main")
    (repo / "README.md").write_text("# Roadmap\n\n| new table |\n", encoding="utf-8")
    (repo / "status.md").write_text("all good\n", encoding="utf-8")
    done, summary = _commit_step(repo, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::warning::README.md, status.md and site/badge.svg were not committed to main" in (
        done.stdout
    )
    assert "### Not committed" in summary
    assert "still published" in summary
    assert "GH006: Protected branch update failed" in summary  # the reason, from git itself
    assert _git(remote, "rev-parse", "main") == before


def test_accepted_commit_leaves_the_summary_alone(tmp_path: Path) -> None:
    remote, repo = _protected_remote(tmp_path)
    (remote / "hooks" / "pre-receive").unlink()
    (repo / "README.md").write_text("# Roadmap\n\n| new table |\n", encoding="utf-8")
    done, summary = _commit_step(repo, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "committed " in done.stdout
    assert summary == ""
    assert _git(remote, "log", "-1", "--format=%s", "main") == (
        "Nightly link check: refresh README tables and status.md"
    )


# -- git-token.sh -----------------------------------------------------------------------------


def test_git_token_reaches_git_as_a_header_not_argv_or_disk(tmp_path: Path) -> None:
    probe = (
        'git config --get "http.https://github.com/.extraheader"; '
        'echo "args: $0 $*"; echo "env-token: ${GIT_TOKEN:-unset}"'
    )
    done = subprocess.run(
        ["bash", str(SCRIPTS / "git-token.sh"), "bash", "-c", probe, "x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TOKEN": "s3cr3t-token", "GITHUB_ACTIONS": "true"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    basic = base64.b64encode(b"x-access-token:s3cr3t-token").decode()
    lines = done.stdout.splitlines()
    assert lines[0] == f"::add-mask::{basic}"  # masked in the job log
    assert lines[1] == f"AUTHORIZATION: basic {basic}"
    assert lines[2] == "args: x "  # the token is not on any command line
    assert lines[3] == "env-token: unset"  # nor left in the command's environment
    assert "s3cr3t" not in done.stdout + done.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_git_token_requires_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GIT_TOKEN"}
    done = subprocess.run(
        ["bash", str(SCRIPTS / "git-token.sh"), "true"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "GIT_TOKEN is not set" in done.stderr


# -- the pull-request gate --------------------------------------------------------------------


@pytest.mark.parametrize(("monitor_exit", "gate_fails"), [(0, False), (1, True), (3, True)])
def test_pr_gate_fails_on_broken_links_and_on_links_not_judged(
    tmp_path: Path, monitor_exit: int, gate_fails: bool
) -> None:
    """Exit 3 (not even the catalog's known-good links answered) used to pass the gate."""
    ci = _jobs((GITHUB / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    script = _run_script(
        _step(ci["changed-links"], "Check the links this pull request adds or changes")
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_uv = bindir / "uv"  # stands in for `uv run --no-sync monitor check ...`
    fake_uv.write_text(f'#!/bin/sh\necho "uv $*"\nexit {monitor_exit}\n', encoding="utf-8")
    fake_uv.chmod(0o755)
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "BASE_REF": "main"},
        check=False,
    )
    assert "uv run --no-sync monitor check --changed-since origin/main" in done.stdout
    assert (done.returncode != 0) is gate_fails, done.stdout
    if monitor_exit == 3:
        assert "::error::" in done.stdout and "not judged" in done.stdout
