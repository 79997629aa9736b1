from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.store.database import Store
from tests.report_fixture import fill_store, make_catalog

runner = CliRunner()


def _setup(tmp_path: Path) -> list[str]:
    catalog = make_catalog(tmp_path)
    with Store.open(tmp_path / "h.sqlite") as store:
        fill_store(store, catalog)
    return ["--catalog", str(catalog.path), "--db", str(tmp_path / "h.sqlite")]


def test_report_writes_page_badge_and_markdown_reproducibly(tmp_path: Path) -> None:
    args = [
        *_setup(tmp_path),
        "--out",
        str(tmp_path / "site"),
        "--markdown",
        str(tmp_path / "status.md"),
        "--now",
        "2026-11-06T12:00:00",
    ]
    first = runner.invoke(app, ["report", *args])
    assert first.exit_code == 0, first.output
    assert "8/13 healthy" in first.output
    page = (tmp_path / "site" / "index.html").read_bytes()
    assert b'<html lang="pt-BR">' in page
    assert (tmp_path / "site" / "badge.svg").read_text().startswith("<svg")
    assert "## Problemas" in (tmp_path / "status.md").read_text()
    status = json.loads((tmp_path / "site" / "status.json").read_text(encoding="utf-8"))
    assert status["schema_version"] == 1 and len(status["resources"]) == 14
    assert ET.parse(tmp_path / "site" / "feed.xml").getroot().tag.endswith("}feed")
    assert (tmp_path / "site" / "badges" / "video-private.svg").read_text().startswith("<svg")
    assert "status.json" in first.output and "feed.xml" in first.output
    second = runner.invoke(app, ["report", *args])
    assert "(unchanged)" in second.output
    assert (tmp_path / "site" / "index.html").read_bytes() == page


def test_report_never_touches_the_network_and_needs_no_history(tmp_path: Path) -> None:
    # an empty store (created by an earlier command): the page says nothing was checked yet
    catalog = make_catalog(tmp_path)
    Store.open(tmp_path / "empty.sqlite").close()
    result = runner.invoke(
        app,
        [
            "report",
            "--catalog",
            str(catalog.path),
            "--db",
            str(tmp_path / "empty.sqlite"),
            "--out",
            str(tmp_path / "site"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Nenhuma verificação ainda" in (tmp_path / "site" / "index.html").read_text()


def test_report_help_has_examples() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0 and "monitor report --out site/ --markdown status.md" in (
        result.output
    )


def test_markdown_to_stdout_for_the_job_summary(tmp_path: Path) -> None:
    args = [*_setup(tmp_path), "--out", str(tmp_path / "site"), "--markdown", "-"]
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Estado dos links\n")
    assert "healthy" not in result.stdout  # the summary line goes to stderr
    assert not (tmp_path / "-").exists()


def test_repository_url_defaults_from_the_nightly_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.cli.report import repository_from_env

    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/road-map")
    monkeypatch.delenv("GITHUB_SERVER_URL", raising=False)
    assert repository_from_env() == "https://github.com/octo/road-map"
    monkeypatch.setenv("GITHUB_REPOSITORY", 'octo/x"><script>')
    assert repository_from_env() is None
    monkeypatch.delenv("GITHUB_REPOSITORY")
    assert repository_from_env() is None


def test_report_takes_output_like_check(tmp_path: Path) -> None:
    """`check` writes to `--output`; `report` answers to the same name (and to `--out`)."""
    args = [*_setup(tmp_path), "--output", str(tmp_path / "pages"), "--now", "2026-11-06"]
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pages" / "index.html").is_file()
