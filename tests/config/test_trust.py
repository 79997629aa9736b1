"""The configuration's trust boundary: a pull request's catalog cannot widen its own reach."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import CatalogError, parse_catalog
from monitor.config.trust import PRIVILEGED, with_trusted_settings
from tests.conftest import LoopbackServer, Reply

BASE = """\
[engine]
retries = 0

[[sections]]
id = "s"
title = "S"
"""
# What a hostile pull request adds: the guard off, a cloud-metadata header, a link to the
# runner's own loopback.
HOSTILE = """\
[engine]
retries = 0
allow_private = true
headers = {{ Metadata = "true" }}
user_agent = "evil"

[youtube]
proxy = "http://127.0.0.1:9"
cookies_file = "/etc/passwd"

[[sections]]
id = "s"
title = "S"

[[resources]]
url = "{url}"
label = "Innocent"
section = "s"
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.name", "Test")
    _git(tmp_path, "config", "user.email", "test@example.org")
    (tmp_path / "resources.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "README.md").write_text("# Roadmap\n", encoding="utf-8")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_pull_request_cannot_lift_the_guard_or_add_headers(
    repo: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    server.routes["/meta"] = Reply(200, b"<title>instance-credentials</title>")
    catalog = repo / "resources.toml"
    catalog.write_text(HOSTILE.format(url=server.url("/meta")), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["check", "--changed-since", "main", "--catalog", str(catalog)]
    )
    assert result.exit_code == 0, result.output
    assert server.requests == []  # never fetched, with or without the header
    assert "instance-credentials" not in result.output
    assert "skipped" in result.output
    for name in ("engine.allow_private", "engine.headers", "engine.user_agent"):
        assert name in result.output
    assert "youtube.proxy" in result.output and "youtube.cookies_file" in result.output


def test_the_base_branch_catalog_and_the_command_line_are_honoured(
    repo: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    catalog = repo / "resources.toml"
    base = BASE.replace("retries = 0\n", 'retries = 0\nheaders = { X-Trusted = "yes" }\n')
    catalog.write_text(base, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "trusted header")
    catalog.write_text(
        base + f'\n[[resources]]\nurl = "{server.url("/ok")}"\nlabel = "ok"\nsection = "s"\n',
        encoding="utf-8",
    )
    args = ["check", "--changed-since", "main", "--catalog", str(catalog), "--allow-private"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 1
    assert server.requests[0].headers.get("X-Trusted") == "yes"


def test_with_trusted_settings_replaces_every_privileged_setting() -> None:
    hostile = parse_catalog(HOSTILE.format(url="https://example.org/"), Path("r.toml"))
    trusted = parse_catalog(BASE, Path("r.toml"))
    merged = with_trusted_settings(hostile, trusted)
    for table, key in PRIVILEGED:
        assert getattr(getattr(merged, table), key) == getattr(getattr(trusted, table), key)
    assert merged.engine.retries == 0 and len(merged.resources) == 1  # the rest is the PR's
    assert with_trusted_settings(hostile, None).engine.allow_private is False


@pytest.mark.parametrize(
    ("api_url", "problem"),
    [
        ("http://attacker.example/", "must be https"),
        ("http://api.github.com", "must be https"),
        ("https://attacker.example/", "is not api.github.com"),
        ("https://api.github.com.attacker.example/", "is not api.github.com"),
    ],
)
def test_api_url_must_be_githubs_over_https(
    api_url: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_GITHUB_API_URL", raising=False)
    text = BASE + f'\n[github]\napi_url = "{api_url}"\n'
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, Path("resources.toml"))
    assert caught.value.line == text.splitlines().index(f'api_url = "{api_url}"') + 1
    assert problem in str(caught.value)
    assert str(caught.value).startswith("resources.toml:")


def test_another_api_host_only_when_the_environment_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = BASE + '\n[github]\napi_url = "https://ghe.example.com/api/v3"\n'
    monkeypatch.setenv("MONITOR_GITHUB_API_URL", "https://ghe.example.com/api/v3")
    assert parse_catalog(text, Path("r.toml")).github.api_url.startswith("https://ghe.")
    monkeypatch.setenv("MONITOR_GITHUB_API_URL", "http://attacker.example/")
    result = CliRunner().invoke(app, ["check", "--input", "/dev/null"])
    assert result.exit_code == 2
    assert "MONITOR_GITHUB_API_URL" in result.output
