"""The reusable action (`action.yml`): valid against the published action-metadata schema,
its shell steps clean under shellcheck, documented, and its check step run here for real.

check-jsonschema ships the schema store's github-action schema inside its wheel
(`--builtin-schema vendor.github-actions`), so validation needs no network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO, LoopbackServer, Reply

ACTION = REPO / "action.yml"
BIN = Path(sys.executable).parent


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def _action() -> dict[str, Any]:
    data = YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_action_metadata_is_valid() -> None:
    done = _validate(ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_schema_check_catches_mistakes(tmp_path: Path) -> None:
    """The validator really reads the file: a misspelt `using` and an output without a
    value (required for composite actions) are refused."""
    bad = tmp_path / "action.yml"
    text = ACTION.read_text(encoding="utf-8").replace("using: composite", "using: compsite")
    bad.write_text(text, encoding="utf-8")
    done = _validate(bad)
    assert done.returncode == 1
    assert "compsite" in done.stdout


def test_action_interface() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"catalog", "readme", "mode", "fail-on", "token", "publish"}
    assert set(action["outputs"]) >= {"counts", "report"}
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name


def test_every_input_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in _action()["inputs"]:
        if name == "python-version":
            continue
        assert f"| `{name}` |" in readme, name


def _scripts() -> list[tuple[str, str]]:
    out = []
    for step in _action()["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step["name"]
            # Expressions are expanded by the runner before bash sees the script; none may
            # appear inside one (script injection): inputs reach scripts through env.
            assert "${{" not in step["run"], step["name"]
            out.append((step["name"], step["run"]))
    return out


def test_run_steps_pass_shellcheck(tmp_path: Path) -> None:
    scripts = _scripts()
    assert len(scripts) >= 4
    files = []
    for i, (_, body) in enumerate(scripts):
        path = tmp_path / f"step{i}.sh"
        path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + body, encoding="utf-8")
        files.append(str(path))
    done = subprocess.run(
        [str(BIN / "shellcheck"), *files], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def _step(step_id: str) -> str:
    for step in _action()["runs"]["steps"]:
        if step.get("id") == step_id:
            return str(step["run"])
    raise AssertionError(step_id)


def _outputs(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if line
    )


@pytest.mark.parametrize(("fail_on", "code"), [("broken", "1"), ("none", "0")])
def test_check_step_runs_and_counts(
    tmp_path: Path, server: LoopbackServer, fail_on: str, code: str
) -> None:
    """The action's own check step, run by bash with the variables the runner sets, against
    a loopback server: the outputs hold the real counts and the exit code."""
    server.routes["/ok"] = Reply(200, b"<html><title>fine</title></html>")
    catalog = tmp_path / "resources.toml"
    catalog.write_text(
        '[settings]\nlocale = "en"\n\n[engine]\nallow_private = true\n\n'
        '[[sections]]\nid = "links"\ntitle = "Links"\n\n'
        f'[[resources]]\nurl = "{server.url("/ok")}"\nlabel = "Fine"\nsection = "links"\n\n'
        f'[[resources]]\nurl = "{server.url("/gone")}"\nlabel = "Gone"\nsection = "links"\n',
        encoding="utf-8",
    )
    outputs = tmp_path / "outputs"
    outputs.touch()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(outputs),
        "CATALOG": str(catalog),
        "MODE": "check",
        "FAIL_ON": fail_on,
        "BASE_REF": "",
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _step("check")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = _outputs(outputs)
    assert out["exit-code"] == "1"  # monitor check itself found a broken link
    assert out["code"] == code
    counts = json.loads(out["counts"])
    assert counts["ok"] == 1
    assert counts["broken"] == 1
    assert out["broken"] == "1"
    assert out["total"] == "2"


def test_check_step_rejects_an_unknown_mode(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    outputs.touch()
    env = {
        **os.environ,
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(outputs),
        "CATALOG": "resources.toml",
        "MODE": "weekly",
        "FAIL_ON": "broken",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _step("check")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert re.search(r"mode must be nightly, pull-request or check", done.stdout)
