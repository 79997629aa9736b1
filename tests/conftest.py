"""Shared fixtures: a real HTTP server on 127.0.0.1 that tests program route by route, and a
real PostgreSQL server (tests/pg.py) behind `db_url`, which runs store tests on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.pg import PgServer, pg_server

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    body: bytes = b""


Handler = Callable[[Seen], Reply]


class LoopbackServer:
    """Routes map a path (query included) to a Reply or a function of the request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command, self.path, dict(self.headers.items()), time.monotonic(), body
                )
                with server._lock:
                    server.requests.append(seen)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    route = server.routes.get(self.path) or server.routes.get(
                        self.path.split("?")[0]
                    )
                    reply = route(seen) if callable(route) else route
                    if reply is None:
                        reply = Reply(404, b"<html><title>404 Not Found</title></html>")
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    self.send_response(reply.status)
                    headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(reply.body)
                finally:
                    with server._lock:
                        server.active -= 1

            do_GET = do_HEAD = do_POST = _serve

        self.httpd = ThreadingHTTPServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[0], self.httpd.server_address[1]
        # A short poll interval: shutdown() waits for it, in every test that uses a server.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


PG_STARTED: list[PgServer] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for srv in PG_STARTED:  # the cost of the real PostgreSQL, for whoever watches the suite
        terminalreporter.write_line(
            f"PostgreSQL ({srv.bin_dir.parent.name}): initdb {srv.initdb_s:.2f} s, "
            f"start {srv.start_s:.2f} s, {srv.databases} databases"
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """One real PostgreSQL server for the whole session (skipped locally without binaries,
    a failure in CI)."""
    with pg_server() as srv:
        PG_STARTED.append(srv)
        yield srv


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend, so the store's tests run the same assertions
    against SQLite and PostgreSQL. The server starts only when a postgres case runs."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.sqlite'}"
    server: PgServer = request.getfixturevalue("postgres")
    return server.new_database()
