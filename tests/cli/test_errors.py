"""Database errors in the user's terms: the path, the problem, what to do; never a traceback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.net import guard
from monitor.store.database import Store
from tests.report_fixture import fill_store, make_catalog

runner = CliRunner()

READERS = [
    ["report"],
    ["readme", "--check"],
    ["status"],
    ["history", "x"],
    ["down-report"],
    ["fix"],
]


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output and "sqlalchemy" not in output.lower()


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_missing_database_is_refused_by_commands_that_only_read(
    tmp_path: Path, command: list[str]
) -> None:
    catalog = make_catalog(tmp_path)
    typo = tmp_path / "db" / "monitr.sqlite"
    args = [*command, "--catalog", str(catalog.path), "--db", str(typo)]
    if command[0] == "report":
        args += ["--out", str(tmp_path / "site")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"{typo} does not exist" in result.stderr
    assert "only reads" in result.stderr
    _no_traceback(result.output)
    assert not typo.exists() and not typo.parent.exists()  # nothing created on the way
    assert not (tmp_path / "site").exists()


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("these are my notes, not a database\n" * 200)
    result = runner.invoke(app, ["status", "--catalog", str(catalog.path), "--db", str(bogus)])
    assert result.exit_code == 2
    assert f"{bogus} is not an SQLite database" in result.stderr
    _no_traceback(result.output)


def test_a_database_under_a_file_cannot_be_opened_and_says_why(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "plain").write_text("x")
    inside = tmp_path / "plain" / "monitor.sqlite"
    result = runner.invoke(app, ["prune", "--catalog", str(catalog.path), "--db", str(inside)])
    assert result.exit_code == 2
    assert str(inside) in result.stderr
    _no_traceback(result.output)


def test_a_missing_driver_names_the_package_and_the_install_command(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    url = "mysql+pymysql://user@127.0.0.1:9/db"
    result = runner.invoke(app, ["status", "--catalog", str(catalog.path), "--db", url])
    assert result.exit_code == 2
    assert "the database driver pymysql is not installed" in result.stderr
    assert "pip install pymysql" in result.stderr
    _no_traceback(result.output)


def _can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"], capture_output=True
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs mount namespaces (unshare -m)")
def test_a_read_only_database_is_read_by_report_and_refused_by_check(tmp_path: Path) -> None:
    """The folder holding the history is mounted read-only (as root, file modes do not stop
    writes; a read-only mount does): `report` opens it read-only and says so; `check`, which
    must write, names the path and the problem."""
    history = tmp_path / "history"
    history.mkdir()
    catalog = make_catalog(tmp_path)
    with Store.open(history / "h.sqlite") as store:
        fill_store(store, catalog)
    monitor = [sys.executable, "-m", "monitor"]

    def read_only(*args: str) -> subprocess.CompletedProcess[str]:
        script = (
            f'mount --bind "{history}" "{history}" && '
            f'mount -o remount,ro,bind "{history}" && exec "$@"'
        )
        return subprocess.run(
            ["unshare", "-m", "sh", "-c", script, "sh", *monitor, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    db = str(history / "h.sqlite")
    report = read_only("report", "--catalog", str(catalog.path), "--db", db, "--out", "site")
    assert report.returncode == 0, report.stderr
    assert f"{db} is read-only: `monitor report` only reads, so it opens it read-only" in (
        report.stderr
    )
    assert (tmp_path / "site" / "index.html").is_file()
    _no_traceback(report.stderr)

    status = read_only("status", "--catalog", str(catalog.path), "--db", db)
    assert status.returncode in (0, 1), status.stderr

    check = read_only("prune", "--catalog", str(catalog.path), "--db", db)
    assert check.returncode == 2
    assert db in check.stderr and "read-only" in check.stderr
    _no_traceback(check.stderr)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("foo://bar", "give a file path for SQLite"),
        ("postgres://alice:s3cret@127.0.0.1/x", "write postgresql+psycopg://"),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["prune"]], ids=lambda c: c[0])
def test_a_url_no_database_driver_knows_is_a_clean_error(
    tmp_path: Path, url: str, hint: str, command: list[str]
) -> None:
    """Heroku's postgres:// or a typo'd scheme: one line and exit 2, not a traceback and
    exit 1 (which means "broken links")."""
    catalog = make_catalog(tmp_path)
    result = runner.invoke(app, [*command, "--catalog", str(catalog.path), "--db", url])
    assert result.exit_code == 2, result.output
    assert "not a database URL monitor can use" in result.stderr and hint in result.stderr
    assert "s3cret" not in result.stderr  # nothing of the URL past its scheme is echoed
    _no_traceback(result.output)


def test_a_folder_given_as_the_database_is_named_as_such(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "db").mkdir()
    for command in (["status"], ["prune"]):
        result = runner.invoke(
            app, [*command, "--catalog", str(catalog.path), "--db", str(tmp_path / "db")]
        )
        assert result.exit_code == 2
        assert f"{tmp_path / 'db'} is a folder, not a database file" in result.stderr


def test_a_missing_local_file_is_not_hidden_by_an_unusable_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Network down (no name resolves) and a local file missing: the file's `broken` does
    not depend on the network, so the exit code is 1, not 3."""

    async def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(guard, "system_resolver", resolve)
    links = tmp_path / "links.md"
    links.write_text(
        "".join(f"- [s{i}](https://site{i}.invalid/)\n" for i in range(4))
        + "- [sheet](missing.pdf)\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(links), "--format", "json", "--quiet"])
    assert result.exit_code == 1, result.output
    verdicts = sorted(r["verdict"] for r in json.loads(result.stdout)["results"])
    assert verdicts == ["broken", "error", "error", "error", "error"]
    assert "network unusable" in result.stderr
