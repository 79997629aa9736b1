"""The built wheel, installed in a fresh virtual environment, works from any folder.

This is what `pip install curated-link-monitor` gives a list maintainer: no checkout, no
`templates/` or `db/` beside the working directory. Templates and migrations must come
from the installed package only; an empty `templates/` folder that another distribution
left in site-packages once shadowed them and broke `monitor report`, so the test plants one.
Dependencies are installed from uv's cache at the locked versions (no resolution).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, LoopbackServer, Reply

pytestmark = pytest.mark.slow


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout, env=env
    )


def _uv_command() -> list[str]:
    """uv as `make test` ran us (`uv run` sets $UV), else on PATH, else `python3 -m uv`."""
    if os.environ.get("UV"):
        return [os.environ["UV"]]
    if found := shutil.which("uv"):
        return [found]
    return ["python3", "-m", "uv"]


def _uv(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> str:
    done = _run([*_uv_command(), *args], cwd, env)
    assert done.returncode == 0, f"uv {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--out-dir", str(out), "--quiet")
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "env"
    reqs = root / "requirements.txt"
    reqs.write_text(
        _uv("export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet"),
        encoding="utf-8",
    )
    _uv("venv", "--quiet", "--python", sys.executable, str(env_dir))
    python = env_dir / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "-r", str(reqs), str(wheel))
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root
    ).stdout.strip()
    (Path(purelib) / "templates").mkdir(exist_ok=True)  # what shadowed ours before
    (Path(purelib) / "db" / "migrations").mkdir(parents=True, exist_ok=True)
    return env_dir


def test_wheel_metadata(wheel: Path) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] != "monitor"  # taken on PyPI; the command stays `monitor`
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(meta).decode("utf-8")
        entry = zf.read(meta.replace("METADATA", "entry_points.txt")).decode("utf-8")
    assert f"Name: {project['name']}" in metadata
    assert "License-Expression: MIT" in metadata
    assert "Roadmap" not in metadata.split("\n\n", 1)[1][:400]  # not the Portuguese README
    assert "monitor = monitor.cli" in entry
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert any(n.endswith("templates/status.html.j2") for n in names)
    assert any(n.endswith("migrations/env.py") for n in names)
    assert "monitor/reports/schema/status.v1.json" in names  # the documented shape ships


def test_installed_wheel_runs_from_any_folder(
    venv: Path, tmp_path: Path, server: LoopbackServer
) -> None:
    server.routes["/ok"] = Reply(200, b"<html><title>Fine</title></html>")
    work = tmp_path / "somewhere" / "my-list"
    work.mkdir(parents=True)
    (work / "README.md").write_text(
        "# My list\n\nA few links.\n\n## Tools\n\n"
        f"- [Fine]({server.url('/ok')}) - works.\n"
        f"- [Gone]({server.url('/gone')}) - does not.\n",
        encoding="utf-8",
    )
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "MONITOR_DATABASE_URL")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    monitor = str(venv / "bin" / "monitor")

    version = _run([monitor, "--version"], work, env)
    assert version.returncode == 0, version.stderr
    assert "0.1.0" in version.stdout

    init = _run([monitor, "init", "--mode", "list", "--locale", "en"], work, env)
    assert init.returncode == 0, init.stdout + init.stderr
    assert (work / "resources.toml").exists()
    assert (work / ".github" / "workflows" / "monitor.yml").exists()

    adhoc = _run(
        [monitor, "check", "--input", "README.md", "--allow-private", "--format", "json"],
        work,
        env,
    )
    assert adhoc.returncode == 1, adhoc.stdout + adhoc.stderr  # one broken link
    assert '"broken": 1' in adhoc.stdout

    (work / "resources.toml").write_text(
        (work / "resources.toml").read_text(encoding="utf-8")
        + "\n[engine]\nallow_private = true\n",
        encoding="utf-8",
    )
    check = _run([monitor, "check", "--quiet"], work, env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert (work / "db" / "monitor.sqlite").exists()  # migrations ran from the package

    report = _run([monitor, "report", "--out", "site", "--markdown", "status.md"], work, env)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "Fine" in (work / "site" / "index.html").read_text(encoding="utf-8")
    assert "Gone" in (work / "status.md").read_text(encoding="utf-8")
    status = (work / "site" / "status.json").read_text(encoding="utf-8")
    assert '"schema_version": 1' in status and "Gone" in status
    assert "<feed" in (work / "site" / "feed.xml").read_text(encoding="utf-8")  # feedgen installed
