"""The asyncio network backend under httpcore: plain HTTP, TLS with ALPN, timeouts, refusals."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import httpcore
import pytest

from monitor.config.catalog import EngineSettings
from monitor.net import transport
from monitor.net.engine import Failure, HttpEngine
from monitor.net.streams import AsyncioBackend
from tests.conftest import LoopbackServer, Reply


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (made by the openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    argv += [
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
    ]
    argv += ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    subprocess.run(argv, check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[int]:
    cert, key = certificate

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"<title>secure</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


async def test_tls_handshake_and_request(tls_server: int, certificate: tuple[Path, Path]) -> None:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    context.set_alpn_protocols(["h2", "http/1.1"])
    async with httpcore.AsyncConnectionPool(
        ssl_context=context, network_backend=AsyncioBackend(), http2=True
    ) as pool:
        for _ in range(2):  # the second request reuses the connection
            response = await pool.request("GET", f"https://localhost:{tls_server}/page")
            assert response.status == 200
            assert response.content == b"<title>secure</title>"
        assert len(pool.connections) == 1
        assert "HTTP/1.1" in repr(pool.connections[0])  # ALPN chose what the server offered


async def test_an_untrusted_certificate_is_a_connect_failure(tls_server: int) -> None:
    settings = EngineSettings.model_validate({"allow_private": True, "retries": 0})
    async with HttpEngine(settings) as http:
        result = await http.fetch(f"https://127.0.0.1:{tls_server}/")
    assert result.failure is Failure.CONNECT
    assert "certificate" in (result.error or "").lower()


async def test_read_timeout_and_refused_connection(server: LoopbackServer) -> None:
    server.routes["/slow"] = Reply(200, b"late", delay_s=2)
    backend = AsyncioBackend()
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore.ReadTimeout):
            await pool.request("GET", server.url("/slow"), extensions={"timeout": {"read": 0.3}})
        assert time.monotonic() - started < 1.5
        with pytest.raises(httpcore.ConnectError):
            await pool.request("GET", "http://127.0.3.1:9/")  # nothing listens there


@pytest.fixture
def closing_server() -> Iterator[int]:
    """Answers each connection's first request with keep-alive, then closes it 0.1 s later
    without a word (as servers do with idle connections)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
                time.sleep(0.1)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(
    closing_server: int,
) -> None:
    url = f"http://127.0.0.1:{closing_server}/"
    async with httpcore.AsyncConnectionPool(network_backend=AsyncioBackend()) as pool:
        for _ in range(3):
            response = await pool.request("GET", url)
            assert response.content == b"hi"
            await asyncio.sleep(0.3)  # the server has closed the idle connection by now


# -- the engine's own connections over TLS (monitor.net.transport) ---------------------------


def _trusting(monkeypatch: pytest.MonkeyPatch, cert: Path) -> None:
    """The engine's shared TLS context, trusting the test certificate (ALPN as in the code)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.set_alpn_protocols(["http/1.1", "h2"])
    monkeypatch.setattr(transport, "_shared_ssl_context", lambda: context)


async def test_engine_over_tls_reuses_its_http11_connection(
    tls_server: int, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _trusting(monkeypatch, certificate[0])
    settings = EngineSettings.model_validate({"allow_private": True, "min_interval_ms": 0})
    async with HttpEngine(settings) as http:
        results = [await http.fetch(f"https://localhost:{tls_server}/p{i}") for i in range(3)]
        connections = [len(pool.slots) for pool in http.pools.pools.values()]
    assert [(r.status, r.body, r.http_version) for r in results] == [
        (200, b"<title>secure</title>", "HTTP/1.1")
    ] * 3
    assert connections == [1]


@pytest.fixture
def h2_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, list[int]]]:
    """An HTTP/2-only server (ALPN h2, the h2 library's state machine); yields its port and
    the number of connections it accepted, counted by the server."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    accepted = [0]
    stop = threading.Event()

    def serve(raw: socket.socket) -> None:
        with context.wrap_socket(raw, server_side=True) as sock:
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            sock.settimeout(0.2)
            while not stop.is_set():
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        body = b"<title>over h2</title>"
                        conn.send_headers(
                            event.stream_id,
                            [(":status", "200"), ("content-length", str(len(body)))],
                        )
                        conn.send_data(event.stream_id, body, end_stream=True)
                sock.sendall(conn.data_to_send())

    def accept() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            accepted[0] += 1
            threading.Thread(target=serve, args=(raw,), daemon=True).start()

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        listener.close()


async def test_engine_over_http2_sends_concurrent_requests_on_one_connection(
    h2_server: tuple[int, list[int]],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, accepted = h2_server
    _trusting(monkeypatch, certificate[0])
    settings = EngineSettings.model_validate({"allow_private": True, "min_interval_ms": 0})
    async with HttpEngine(settings) as http:
        first = await http.fetch(f"https://localhost:{port}/first")
        rest = await asyncio.gather(
            *(http.fetch(f"https://localhost:{port}/{i}") for i in range(6))
        )
    assert [(r.status, r.body, r.http_version) for r in (first, *rest)] == [
        (200, b"<title>over h2</title>", "HTTP/2")
    ] * 7
    assert accepted == [1]  # six requests at once, multiplexed on the first connection


async def test_a_port_above_65535_is_a_connect_failure_not_a_crash() -> None:
    settings = EngineSettings.model_validate({"allow_private": True, "retries": 0})
    async with HttpEngine(settings) as http:
        result = await http.fetch("http://127.0.0.1:99999/")
    assert result.failure is Failure.CONNECT
