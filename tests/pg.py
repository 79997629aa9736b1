"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, a Unix socket only.

Debian's `postgresql` package puts the binaries in /usr/lib/postgresql/<ver>/bin (`make test`
installs it when it can). initdb refuses to run as root, so as root the server runs as the
`postgres` user the package creates. The server's time zone is deliberately not UTC, as on
a real server in Brazil: a store that leans on the server's zone shows it in the tests.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_TIMEZONE = "America/Sao_Paulo"  # UTC-3, no DST: naive UTC read as local shifts 3 h
PORT = 5432  # names the socket file only; listen_addresses='' means no TCP at all


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin, else wherever initdb is on PATH."""
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)],
    )
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def unavailable(reason: str) -> None:
    """Skip on a developer's machine, fail in CI: CI must really run the PostgreSQL tests."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@dataclass
class PgServer:
    bin_dir: Path
    socket_dir: Path
    as_user: list[str]  # command prefix that runs as the server's owner
    startup_s: float = 0.0  # initdb + start, reported in the test summary by the fixture
    _databases: int = 0

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, str(self.bin_dir / tool), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={PORT}"

    def new_database(self) -> str:
        """A fresh empty database, so every test starts from nothing (CREATE DATABASE is
        a file copy of template1: milliseconds)."""
        self._databases += 1
        name = f"t{self._databases}"
        self.run("createdb", "-h", str(self.socket_dir), "-p", str(PORT), "-U", "postgres", name)
        return self.url(name)


@contextmanager
def pg_server(base: Path) -> Iterator[PgServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("no initdb; install Debian's `postgresql` package (make test does, as root)")
    assert bin_dir is not None
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no `postgres` user to run the server")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    server = PgServer(bin_dir, base, as_user)
    started = time.monotonic()
    server.run(
        "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync",
    )  # fmt: skip
    options = (
        f"-k {base} -p {PORT} -c listen_addresses='' -c timezone={SERVER_TIMEZONE}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        try:
            server.run(
                "pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = (base / "log").read_text(errors="replace") if (base / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
        server.startup_s = time.monotonic() - started
        yield server
    finally:
        # Always, even when a test or the start failed: nothing may outlive the suite.
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def temp_base() -> Path:
    """A short path: a Unix socket's path must stay under ~107 bytes."""
    return Path(tempfile.mkdtemp(prefix="monitor-pg-"))
