"""A simulated web on loopback for the link-checking benchmark.

Every host is a distinct loopback address (127.0.0.2, 127.0.0.3, ...; Linux
routes all of 127/8 to `lo`), so a checker's per-host limits apply to each one
separately, as they would on the real web. One asyncio process serves them
all with the standard library only (no third-party server whose own overhead
we would measure), and it runs in its own process so it never competes with
the measured client for the same interpreter.

Each link's path names the behaviour its host will show (`/gone404/17`,
`/redirect/5/3`...), so the server is stateless except for the flaky
endpoints' first failure and the per-host rate limiter. The ground truth
written next to the Markdown file says, for every URL, whether the link is
truly `ok`, truly `broken`, or `failing` without being broken (a bot
challenge, a hang, a server error): a checker that calls a `failing` link
broken raises a false alarm a maintainer would act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import multiprocessing as mp
import random
import socket
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Ground-truth classes. NXDOMAIN is broken on the real web, but here no host
# name resolves through DNS (the simulated hosts are addresses and
# `localhost`), so a checker cannot tell a missing domain from a DNS outage or
# a resolver that only answers for an allowlist (as in many sandboxes and CI
# runners). A checker that asks for that proof says `error`, rightly; one that
# says `broken` is not wrong either. Such links are scored on their own line.
OK, BROKEN, FAILING, NXDOMAIN = "ok", "broken", "failing", "nxdomain"

# (kind, ground truth, share of the links, the docs/architecture.md verdict a checker should give).
# `page` takes whatever share is left.
# Each line is a behaviour real link lists meet; the comment says what it models.
KINDS: list[tuple[str, str, float, str]] = [
    ("page", OK, 0.0, "ok"),  # plain 200 page, HEAD and GET both fine
    ("nohead", OK, 0.03, "ok"),  # HEAD answered 405 (many CMSs), GET is fine
    ("gzip", OK, 0.04, "ok"),  # gzip-encoded page
    ("charset", OK, 0.01, "ok"),  # ISO-8859-1 page declared only in <meta>
    ("anchor", OK, 0.02, "ok"),  # link with a #fragment that exists on the page
    ("noanchor", BROKEN, 0.005, "broken"),  # #fragment missing from a page whose ids are in HTML
    ("jsanchor", OK, 0.005, "ok"),  # #fragment on an app shell that builds its anchors in JS
    ("redirect", OK, 0.05, "moved"),  # 301 chain of 1-3 hops to a working page
    ("slash", OK, 0.02, "ok"),  # 301 that only adds a trailing slash (ok with a note)
    ("temp", OK, 0.02, "ok"),  # 302 to a working page (temporary: still ok)
    ("flaky", OK, 0.02, "ok"),  # 503 on the first request, 200 afterwards
    ("slow", OK, 0.005, "ok"),  # answers after 2-4 s, within the timeout
    ("large", OK, 0.002, "ok"),  # 8 MB body
    ("bomb", OK, 0.001, "ok"),  # 200 page whose gzip body inflates to 256 MB
    ("gone404", BROKEN, 0.06, "broken"),  # 404
    ("gone410", BROKEN, 0.01, "broken"),  # 410
    ("soft404", BROKEN, 0.01, "broken"),  # 200 titled "Page not found"
    ("soft404pt", BROKEN, 0.005, "broken"),  # 200 titled "Página não encontrada"
    ("deep", BROKEN, 0.005, "broken"),  # deep URL redirected to the site's root page
    ("oldlink", BROKEN, 0.01, "broken"),  # 301 to a page that is 404
    ("nxdomain", NXDOMAIN, 0.005, "broken"),  # host name that does not exist (see NX_SUFFIX)
    ("loop", FAILING, 0.005, "error"),  # redirect loop (often cookie-walls): not proof of absence
    ("hang", FAILING, 0.002, "error"),  # never answers: beyond any deadline
    ("challenge", FAILING, 0.01, "blocked"),  # Cloudflare bot challenge: 403 + cf-mitigated
    ("auth", FAILING, 0.005, "blocked"),  # 401 login required
    ("always429", FAILING, 0.003, "blocked"),  # rate-limited forever, Retry-After: 1
    ("always503", FAILING, 0.003, "error"),  # server error that does not clear
    ("refused", FAILING, 0.003, "error"),  # host up in DNS, nothing listening
]
EXPECT = {kind: expect for kind, expect, _, _ in KINDS}
VERDICT = {kind: verdict for kind, _, _, verdict in KINDS}

NX_NAMES = 10  # distinct nonexistent host names
# A made-up top-level domain: every resolver answers NXDOMAIN for it. Not the
# special-use `.invalid` (RFC 6761), because lychee silently excludes reserved
# names as deliberate placeholders and would never check them.
NX_SUFFIX = "nxdomain-bench"
DEAD_HOST = "127.0.3.1:9"  # no server listens there: connection refused
BIG_BODY = 8 * 1024 * 1024
BOMB_INFLATED = 256 * 1024 * 1024
LATENCY_S = (0.03, 0.12)  # each request waits this long (uniform) before its answer
HANG_MAX_S = 180.0  # a hanging request is released after this, client or not
SLOW_S = (2.0, 4.0)


@dataclass(frozen=True)
class HostSpec:
    """One simulated site and what it tolerates before answering 429."""

    name: str  # how links name the host: an address, or `localhost`
    ips: tuple[str, ...]  # where it listens
    rate: int  # requests admitted per rolling second
    conc: int  # requests in flight at once
    retry_after: int  # seconds, sent with every 429


@dataclass(frozen=True)
class Link:
    url: str
    expect: str
    kind: str


def host_specs(hosts: int, strict_every: int = 10) -> list[HostSpec]:
    """Most hosts tolerate lychee's default politeness; every tenth is strict.

    The first host is `localhost`, a name every machine resolves from
    /etc/hosts: real link lists name their hosts, and a checker may rightly
    want proof that DNS works before it calls an NXDOMAIN broken. The others
    are bare addresses 127.0.0.2, 127.0.0.3...

    Normal hosts admit 25 requests/s and 12 in flight, a little above the
    10-per-host, 50 ms-interval default both checkers share, so a polite
    client rarely sees a 429 there. Strict hosts (like a code-hosting site's
    anonymous limits) admit 8/s and 3 in flight, so every client meets 429s
    with Retry-After and must slow down. `strict_every=0` makes no host strict.
    """
    if not 1 <= hosts <= 250:  # 127.0.0.2 .. 127.0.0.251
        raise ValueError("hosts must be between 1 and 250")
    specs = []
    for i in range(hosts):
        name, ips = ("localhost", _localhost_ips()) if i == 0 else (f"127.0.0.{i + 1}", ())
        strict = strict_every > 0 and i % strict_every == min(4, strict_every - 1)
        rate, conc, retry_after = (8, 3, 2) if strict else (25, 12, 1)
        specs.append(HostSpec(name, ips or (name,), rate, conc, retry_after))
    return specs


def _localhost_ips() -> tuple[str, ...]:
    """Every address `localhost` resolves to here (often ::1 as well as 127.0.0.1)."""
    infos = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def build_links(
    n: int,
    specs: list[HostSpec],
    port: int,
    seed: int = 1,
    skip: frozenset[str] = frozenset(),
    shares: dict[str, float] | None = None,
) -> list[Link]:
    """N links with every kind (but `skip`) present at least once, spread evenly over hosts.

    `shares` overrides the share of some kinds (e.g. {"hang": 0.015}).
    """
    rng = random.Random(seed)
    table = {k: share for k, _, share, _ in KINDS} | (shares or {})
    counts = {k: max(1, round(share * n)) for k, share in table.items() if share and k not in skip}
    counts["page"] = n - sum(counts.values())
    if counts["page"] < 1:
        raise ValueError(f"n={n} is too small for {len(KINDS)} kinds of link")
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    rng.shuffle(kinds)
    links = []
    for i, kind in enumerate(kinds):
        host = f"{specs[i % len(specs)].name}:{port}"
        links.append(Link(_url(kind, i, host, rng), EXPECT[kind], kind))
    return links


# The fewest requests a correct checker sends for a link of each kind: one per hop to the
# answer, twice over when the verdict is a failure (failures get a second opinion:
# docs/architecture.md).
# A `redirect` link adds its hops (see `requests_needed`). `refused` and `nxdomain` links cost
# their hosts nothing.
MIN_REQUESTS = {
    "page": 1,
    "nohead": 1,  # a GET-first checker never meets the 405
    "gzip": 1,
    "charset": 1,
    "anchor": 1,
    "noanchor": 2,
    "jsanchor": 1,
    "redirect": 1,
    "slash": 2,
    "temp": 2,
    "flaky": 2,
    "slow": 1,
    "large": 1,
    "bomb": 1,
    "gone404": 2,
    "gone410": 2,
    "soft404": 2,
    "soft404pt": 2,
    "deep": 4,
    "oldlink": 4,
    "loop": 4,
    "hang": 2,
    "challenge": 2,
    "auth": 2,
    "always429": 2,
    "always503": 2,
    "refused": 0,
    "nxdomain": 0,
}


def requests_needed(link: Link) -> int:
    if link.kind == "redirect":
        return MIN_REQUESTS["redirect"] + int(link.url.rstrip("/").rsplit("/", 1)[1])
    return MIN_REQUESTS[link.kind]


def floor(
    links: list[Link],
    specs: list[HostSpec],
    *,
    interval_s: float,
    host_concurrency: int,
    timeout_s: float,
    latency_s: tuple[float, float],
) -> dict[str, Any]:
    """The least wall time any checker at this politeness needs for this workload.

    Two bounds, the larger wins. A hanging link costs one read timeout, then its second
    opinion another (started at once, overlapped with everything else): 2 x timeout. A host
    costs its requests (`requests_needed`) x the time one request start must wait for the
    next: the politeness interval, the host's own rate limit (going faster only earns 429s),
    or the mean latency shared among the requests it admits in flight, whichever is longest.
    Start-up, parsing and the last answer's latency are not counted: a lower bound.
    """
    by_name = {s.name: s for s in specs}
    per_host: dict[str, int] = {}
    hangs = 0
    for link in links:
        host = link.url.split("/")[2].rsplit(":", 1)[0]
        if host in by_name:
            per_host[host] = per_host.get(host, 0) + requests_needed(link)
            hangs += link.kind == "hang"
    mean_latency = sum(latency_s) / 2
    host_floor: dict[str, float] = {}
    for name, requests in per_host.items():
        spec = by_name[name]
        step = max(interval_s, 1 / spec.rate, mean_latency / min(host_concurrency, spec.conc))
        host_floor[name] = requests * step
    busiest = max(host_floor, key=lambda h: host_floor[h]) if host_floor else ""
    hang_floor = 2 * timeout_s if hangs else 0.0
    politeness = host_floor.get(busiest, 0.0)
    return {
        "floor_s": round(max(hang_floor, politeness), 1),
        "hang_floor_s": hang_floor,
        "politeness_floor_s": round(politeness, 1),
        "busiest_host": busiest,
        "busiest_host_requests": per_host.get(busiest, 0),
        "hanging_links": hangs,
        "requests_needed": sum(per_host.values()),
    }


def _url(kind: str, i: int, host: str, rng: random.Random) -> str:
    if kind == "nxdomain":
        return f"http://gone-{i % NX_NAMES}.{NX_SUFFIX}/page/{i}"
    if kind == "refused":
        return f"http://{DEAD_HOST}/page/{i}"
    if kind == "redirect":
        return f"http://{host}/redirect/{i}/{rng.randint(1, 3)}"
    if kind == "anchor":
        return f"http://{host}/anchor/{i}#section-{i % 7}"
    if kind == "noanchor":  # the page has section-0 .. section-6
        return f"http://{host}/noanchor/{i}#section-{7 + i % 5}"
    if kind == "jsanchor":
        return f"http://{host}/jsanchor/{i}#getting-started"
    if kind == "deep":
        return f"http://{host}/deep/{i}/docs/guide/intro"
    if kind == "loop":
        return f"http://{host}/loop/{i}/a"
    return f"http://{host}/{kind}/{i}"


def write_inputs(
    links: list[Link], md_path: Path, truth_path: Path, params: dict[str, Any]
) -> None:
    """The Markdown list the checkers read, and the ground truth beside it."""
    lines = ["# Simulated awesome list", ""]
    for i, link in enumerate(links):
        if i % 100 == 0:
            lines += ["", f"## Section {i // 100 + 1}", ""]
        lines.append(f"- [Resource {i}]({link.url}) — a useful thing to read.")
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth = {
        "params": params,
        "links": {link.url: {"expect": link.expect, "kind": link.kind} for link in links},
    }
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- server


@dataclass
class HostState:
    spec: HostSpec
    inflight: int = 0
    admitted: deque[float] = field(default_factory=deque)
    requests: int = 0
    too_many: int = 0
    max_inflight: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)

    def admit(self, now: float) -> bool:
        while self.admitted and now - self.admitted[0] >= 1.0:
            self.admitted.popleft()
        if self.inflight > self.spec.conc or len(self.admitted) >= self.spec.rate:
            self.too_many += 1
            return False
        self.admitted.append(now)
        return True

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "429_sent": self.too_many,
            "max_inflight": self.max_inflight,
            "statuses": dict(sorted(self.statuses.items())),
            "methods": self.methods,
        }


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    hang: bool = False
    big: bool = False


def _page(title: str, extra: str = "", charset: str = "utf-8") -> bytes:
    filler = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n" * 30
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="{charset}">'
        f"<title>{title}</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta name="description" content="A simulated page.">'
        f"</head><body><h1>{title}</h1>{extra}{filler}</body></html>"
    )
    return html.encode(charset)


HTML = "text/html; charset=utf-8"


class SimWeb:
    """Routes a request to the behaviour its path names; keeps per-host counters."""

    def __init__(
        self, specs: list[HostSpec], seed: int, latency_s: tuple[float, float] = LATENCY_S
    ) -> None:
        self.latency_s = latency_s
        # One row per request, as the server saw it: (start, end, host, method, path, status,
        # outcome); times are epoch seconds, so they line up with the client's start.
        self.log: list[tuple[float, float, str, str, str, int, str]] = []
        self.hosts = {s.name: HostState(s) for s in specs}
        self.by_ip = {ip: self.hosts[s.name] for s in specs for ip in s.ips}
        self.rng = random.Random(seed)
        self.flaky_seen: set[str] = set()
        self.bomb = _make_bomb()

    def route(self, method: str, path: str, gzip_ok: bool) -> Reply:
        parts = path.split("?")[0].strip("/").split("/")
        kind, rest = parts[0], parts[1:]
        ident = rest[0] if rest else "0"
        if kind == "" or path == "/":
            return Reply(200, {"content-type": HTML}, _page("Welcome to our site"))
        if kind == "page":
            return Reply(200, {"content-type": HTML}, _page(f"Page {ident}"))
        if kind == "nohead":
            if method == "HEAD":
                return Reply(
                    405, {"allow": "GET", "content-type": HTML}, _page("Method Not Allowed")
                )
            return Reply(200, {"content-type": HTML}, _page(f"No-HEAD page {ident}"))
        if kind == "gzip":
            body = _page(f"Compressed page {ident}")
            if gzip_ok:
                comp = zlib.compressobj(6, zlib.DEFLATED, 31)
                body = comp.compress(body) + comp.flush()
                return Reply(
                    200,
                    {"content-type": HTML, "content-encoding": "gzip", "vary": "Accept-Encoding"},
                    body,
                )
            return Reply(200, {"content-type": HTML}, body)
        if kind == "charset":
            body = _page(f"Programação e computação {ident}", charset="iso-8859-1")
            return Reply(200, {"content-type": "text/html"}, body)
        if kind in ("anchor", "noanchor"):
            sections = "".join(f'<h2 id="section-{k}">Section {k}</h2>' for k in range(7))
            return Reply(200, {"content-type": HTML}, _page(f"Guide {ident}", sections))
        if kind == "jsanchor":  # a single-page app: the bundle builds the headings and ids
            shell = (
                f"<!doctype html><html><head><title>Docs {ident}</title></head><body>"
                '<div id="root"></div><script src="/static/main.js"></script></body></html>'
            )
            return Reply(200, {"content-type": HTML}, shell.encode())
        if kind == "redirect":
            hops = int(rest[1]) if len(rest) > 1 else 0
            target = f"/redirect/{ident}/{hops - 1}" if hops > 1 else f"/page/{ident}-new"
            return Reply(301, {"location": target})
        if kind == "slash":
            if len(parts) == 2 and not path.endswith("/"):
                return Reply(301, {"location": f"/slash/{ident}/"})
            return Reply(200, {"content-type": HTML}, _page(f"Directory {ident}"))
        if kind == "temp":
            return Reply(302, {"location": f"/page/{ident}-today"})
        if kind == "flaky":
            if path not in self.flaky_seen:
                self.flaky_seen.add(path)
                return Reply(503, {"content-type": HTML}, _page("Service Unavailable"))
            return Reply(200, {"content-type": HTML}, _page(f"Flaky page {ident}"))
        if kind == "slow":
            return Reply(
                200,
                {"content-type": HTML},
                _page(f"Slow page {ident}"),
                delay=self.rng.uniform(*SLOW_S),
            )
        if kind == "large":
            return Reply(200, {"content-type": HTML, "content-length": str(BIG_BODY)}, big=True)
        if kind == "bomb":
            return Reply(200, {"content-type": HTML, "content-encoding": "gzip"}, self.bomb)
        if kind == "gone404" or kind == "missing":
            return Reply(404, {"content-type": HTML}, _page("404 Not Found"))
        if kind == "gone410":
            return Reply(410, {"content-type": HTML}, _page("410 Gone"))
        if kind == "soft404":
            return Reply(200, {"content-type": HTML}, _page("Page not found – Example Docs"))
        if kind == "soft404pt":
            return Reply(200, {"content-type": HTML}, _page("Página não encontrada"))
        if kind == "deep":
            return Reply(301, {"location": "/"})
        if kind == "oldlink":
            return Reply(301, {"location": f"/missing/{ident}"})
        if kind == "loop":
            other = "b" if path.endswith("/a") else "a"
            return Reply(302, {"location": f"/loop/{ident}/{other}"})
        if kind == "hang":
            return Reply(200, hang=True)
        if kind == "challenge":
            headers = {"content-type": HTML, "cf-mitigated": "challenge", "server": "cloudflare"}
            return Reply(403, headers, _page("Just a moment..."))
        if kind == "auth":
            return Reply(
                401,
                {"content-type": HTML, "www-authenticate": 'Basic realm="members"'},
                _page("Unauthorized"),
            )
        if kind == "always429":
            return Reply(
                429, {"content-type": HTML, "retry-after": "1"}, _page("Too Many Requests")
            )
        if kind == "always503":
            return Reply(503, {"content-type": HTML}, _page("Service Unavailable"))
        return Reply(404, {"content-type": HTML}, _page("404 Not Found"))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = self.by_ip[writer.get_extra_info("sockname")[0]]
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = [*lines[0].split(" "), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                keep = headers.get("connection", "").lower() != "close"
                if not await self._respond(state, method, path, headers, reader, writer):
                    return
                if not keep:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(
        self,
        state: HostState,
        method: str,
        path: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Serve one request; False when the connection must close."""
        state.requests += 1
        state.methods[method] = state.methods.get(method, 0) + 1
        state.inflight += 1
        state.max_inflight = max(state.max_inflight, state.inflight)
        started, status, outcome = time.time(), 0, "dropped"
        try:
            await asyncio.sleep(self.rng.uniform(*self.latency_s))  # network + server latency
            if not state.admit(time.monotonic()):
                outcome = "over-limit"
                retry = str(state.spec.retry_after)
                reply = Reply(
                    429, {"content-type": HTML, "retry-after": retry}, _page("Too Many Requests")
                )
            else:
                outcome = "served"
                reply = self.route(method, path, "gzip" in headers.get("accept-encoding", ""))
            status = reply.status
            state.statuses[reply.status] = state.statuses.get(reply.status, 0) + 1
            if reply.hang:  # until the client gives up (reads EOF), or HANG_MAX_S
                status, outcome = 0, "hung"
                with contextlib.suppress(TimeoutError, ConnectionError):
                    await asyncio.wait_for(reader.read(1), HANG_MAX_S)
                return False
            if reply.delay:
                await asyncio.sleep(reply.delay)
            size = BIG_BODY if reply.big else len(reply.body)
            head = {"server": "simweb", "content-length": str(size), **reply.headers}
            phrase = http.HTTPStatus(reply.status).phrase
            out = [f"HTTP/1.1 {reply.status} {phrase}"] + [f"{k}: {v}" for k, v in head.items()]
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            if method != "HEAD":
                if reply.big:
                    chunk = b"x" * 65536
                    for _ in range(BIG_BODY // len(chunk)):
                        writer.write(chunk)
                        await writer.drain()
                else:
                    writer.write(reply.body)
            await writer.drain()
            return True
        finally:
            state.inflight -= 1
            self.log.append((started, time.time(), state.spec.name, method, path, status, outcome))

    def write_log(self, path: Path) -> None:
        """The request log as JSON lines, in order of each request's start."""
        keys = ("start", "end", "host", "method", "path", "status", "outcome")
        with path.open("w", encoding="utf-8") as f:
            for row in sorted(self.log):
                f.write(json.dumps(dict(zip(keys, row, strict=True))) + "\n")


def _make_bomb() -> bytes:
    """A valid gzip page that inflates to BOMB_INFLATED bytes (~250 KB on the wire)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(b"<html><head><title>Huge page</title></head><body>")]
    block = b" " * (1024 * 1024)
    parts += [comp.compress(block) for _ in range(BOMB_INFLATED // len(block))]
    parts.append(comp.flush())
    return b"".join(parts)


def _bind_all(
    specs: list[HostSpec], attempts: int = 20, fixed_port: int = 0
) -> tuple[int, list[socket.socket]]:
    """One port shared by every host address, so URLs differ only by host.

    `fixed_port` binds that port (once, no retry), so a run's URLs can be reproduced.
    """
    addresses = [ip for spec in specs for ip in spec.ips]
    for _ in range(1 if fixed_port else attempts):
        socks: list[socket.socket] = []
        port = fixed_port
        try:
            for ip in addresses:
                sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
                socks.append(sock)
                sock.bind((ip, port))
                port = sock.getsockname()[1]
            for sock in socks:
                sock.listen(1024)
                sock.setblocking(False)
            return port, socks
        except OSError as exc:
            for sock in socks:
                sock.close()
            if fixed_port:
                msg = f"could not bind port {fixed_port} on every host: {exc}"
                raise RuntimeError(msg) from exc
    raise RuntimeError("could not bind one port on every host address")


def serve(
    specs: list[HostSpec],
    seed: int,
    conn: Any,
    max_lifetime_s: float,
    options: dict[str, Any],
) -> None:
    """Process entry point: bind, report the port, serve until told to stop.

    `options`: `latency_s` (low, high), `port` (0: any free one), `log` (a path or None).
    """

    async def main() -> None:
        web = SimWeb(specs, seed, tuple(options.get("latency_s", LATENCY_S)))
        try:
            port, socks = _bind_all(specs, fixed_port=options.get("port", 0))
        except RuntimeError as exc:
            conn.send(str(exc))
            return
        servers = [await asyncio.start_server(web.handle, sock=s, limit=65536) for s in socks]
        conn.send(port)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: stop.done() or stop.set_result(None))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop, max_lifetime_s)
        loop.remove_reader(conn.fileno())
        for server in servers:
            server.close()
        if options.get("log"):
            web.write_log(Path(options["log"]))
        conn.send({name: state.stats() for name, state in web.hosts.items()})

    asyncio.run(main())


class Server:
    """The simulated web in a child process; a context manager that always stops it."""

    def __init__(
        self,
        specs: list[HostSpec],
        seed: int = 1,
        max_lifetime_s: float = 3600,
        *,
        latency_s: tuple[float, float] = LATENCY_S,
        port: int = 0,
        log: Path | None = None,
    ) -> None:
        self.specs = specs
        self.seed = seed
        self.max_lifetime_s = max_lifetime_s
        self.options = {"latency_s": latency_s, "port": port, "log": str(log) if log else None}
        self.port = 0
        self.stats: dict[str, Any] = {}

    def __enter__(self) -> Server:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=serve,
            args=(self.specs, self.seed, child, self.max_lifetime_s, self.options),
            daemon=True,
        )
        self._proc.start()
        deadline = time.monotonic() + 60
        while not self._conn.poll(0.1):
            if not self._proc.is_alive() or time.monotonic() > deadline:
                self._proc.kill()
                raise RuntimeError("the simulated web did not start")
        port = self._conn.recv()
        if isinstance(port, str):  # the server could not bind: say why
            self._proc.join(5)
            raise RuntimeError(port)
        self.port = port
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._conn.send("stop")
            if self._conn.poll(30):
                self.stats = self._conn.recv()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)


@contextlib.contextmanager
def running(hosts: int, seed: int = 1) -> Iterator[Server]:
    with Server(host_specs(hosts), seed) as server:
        yield server
