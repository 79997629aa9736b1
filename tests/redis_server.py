"""A throwaway Redis server for the fleet tests: Debian's `redis-server` on a free loopback
port, no persistence, stopped (and its folder removed) whatever happens.

`make test` installs the package when it can; without it the tests skip on a developer's
machine and fail in CI, like the PostgreSQL ones (tests/pg.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.pg import unavailable


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    start_s: float = 0.0
    databases: int = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        """A fresh, empty logical database (Redis has 16): one per test."""
        self.databases += 1
        number = self.databases % 16
        client = redis.Redis(host="127.0.0.1", port=self.port, db=number)
        client.flushdb()
        client.close()
        return self.url(number)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("no redis-server; install Debian's `redis-server` (make test does, as root)")
    assert binary is not None
    base = Path(tempfile.mkdtemp(prefix="monitor-redis-"))
    port = _free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(base),
            "--logfile",
            str(base / "log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (base / "log").read_text(errors="replace")
                        if (base / "log").exists()
                        else ""
                    )
                    raise RuntimeError(f"redis-server did not start:\n{log}") from None
                time.sleep(0.05)
        client.close()
        yield RedisServer(port, process, time.monotonic() - started)
    finally:
        process.kill()
        process.wait(10)
        shutil.rmtree(base, ignore_errors=True)
