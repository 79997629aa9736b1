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

import psycopg
import pytest
from psycopg import sql

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
    initdb_s: float = 0.0
    start_s: float = 0.0
    databases: int = 0

    def run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={PORT}"

    def new_database(self) -> str:
        """A fresh empty database, so every test starts from nothing (CREATE DATABASE copies
        template1: a few milliseconds)."""
        self.databases += 1
        name = f"t{self.databases}"
        with psycopg.connect(
            host=str(self.socket_dir), port=PORT, user="postgres", dbname="postgres",
            autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


@contextmanager
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("no initdb; install Debian's `postgresql` package (make test does, as root)")
    assert bin_dir is not None
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no `postgres` user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="monitor-pg-"))  # short: a socket path has ~107 bytes
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "data"
    server = PgServer(bin_dir, base, as_user)
    options = (
        f"-k {base} -p {PORT} -c listen_addresses='' -c timezone={SERVER_TIMEZONE}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        started = time.monotonic()
        server.run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        server.initdb_s = time.monotonic() - started
        started = time.monotonic()
        try:
            server.run(
                "pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"
            )  # fmt: skip
        except RuntimeError as exc:
            log = (base / "log").read_text(errors="replace") if (base / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc}\n{log}") from exc
        server.start_s = time.monotonic() - started
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
