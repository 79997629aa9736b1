"""Politeness: how hard one run may press each host.

A global limit on requests in flight, and per host a concurrency limit and a minimum
interval between request starts (configurable per host), adapted to 429 answers: a burst
halves the host's requests in flight and paces the host at the rate it had just accepted
(`Gate.learn`); each quiet period eases one step back, never faster than that rate. Waiting
here is our choice, so it does not count against a fetch's deadline (`Budget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from monitor.config.catalog import EngineSettings, HostLimits

# A host that keeps answering 429 is never asked more often than this (seconds apart).
MAX_ADAPTIVE_INTERVAL_S = 2.0
# A slowed-down host is eased back one step (interval surplus halved, one more request in
# flight) after each quiet period this long without a 429: a success count recovered far too
# slowly on a strict host (finding 13: ~1.3 links/s on a host allowing 8/s).
EASE_AFTER_QUIET_S = 3.0
# A 429 pauses its whole host at most this long (the asking request may wait longer).
MAX_HOST_PAUSE_S = 10.0
# A 429 burst paces its host at this share of the requests it accepted in the second before:
# a strict host (8 per rolling second) eased back to 20/s ran into a 429 and its 2 s pause
# every few seconds, 2.4-4 requests/s on average (bench/README.md, issue 11).
LEARNED_SHARE = 0.9
# The window a host's accepted requests are counted in ("N per second" limits).
RATE_WINDOW_S = 1.0
# A burst teaches a pace only if the host accepted at least this many requests in the
# window before it; fewer say too little (a sparse host, a URL refused on its own), and the
# interval doubles as before.
MIN_EVIDENCE = 4
# At the learned pace this long without a 429, one more request per second is tried: a
# burst that came while we were asking slowly (a concurrency limit, a busy moment)
# undercounts what the host accepts, and must not hold the pace down for the whole run. A
# 429 during a probe goes back to the pace that was quiet; each probe costs one 429 and its
# pause, so probes are rare.
PROBE_AFTER_QUIET_S = 30.0
PROBE_STEP = 1.25  # each probe asks a quarter faster (at least one request per second more)


@dataclass
class Gate:
    """One host's politeness: at most `sem` requests at once, starts `interval` apart."""

    sem: asyncio.Semaphore
    interval: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    floor: float = 0.0  # easing back never goes faster than this (starts as configured)
    calm_until: float = 0.0  # 429s before this belong to a burst already answered
    limited_urls: set[str] = field(default_factory=set)
    # A 429 lowers `limit` (requests in flight, <= the semaphore's size) before it widens the
    # interval: strict sites mostly count concurrent requests, and a host allowed 3 in flight
    # at 8/s is far better served by 2 in flight than by one request every 2 s.
    limit: int = 1_000_000
    size: int = 1_000_000  # the configured concurrency, where easing stops
    in_flight: int = 0
    eased_at: float = 0.0  # the last 429 or easing step; the next step comes a quiet period on
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)
    configured: float = 0.0  # the configured interval: nothing here ever goes faster
    starts: deque[float] = field(default_factory=deque)  # request starts, the last 2 windows
    accepted: deque[float] = field(default_factory=deque)  # starts answered without a 429
    evidence: int = 0  # requests accepted in the window before the burst `floor` was set by
    paced_at: float = 0.0  # the last burst or probe that set `floor` (0: never)
    quiet_floor: float = 0.0  # the last learned or probed pace that had no 429 for a while
    limited_at: float = 0.0  # the last 429 burst

    def start(self, started: float) -> None:
        self.starts.append(started)
        while self.starts[0] < started - 2 * RATE_WINDOW_S:
            self.starts.popleft()

    def accept(self, started: float) -> None:
        """A request that started at `started` was answered, and not with a 429."""
        self.accepted.append(started)
        while self.accepted[0] < started - 2 * RATE_WINDOW_S:
            self.accepted.popleft()

    def learn(self, started: float, now: float) -> bool:
        """Pace the host at the rate it accepted in the window before the request it refused
        (which started at `started`); False when that says nothing new about its rate.

        Only a burst after a whole window of requests, with at least MIN_EVIDENCE of them
        accepted, says what the host accepts: one among a host's first requests would
        undercount it (a URL refused on its own among the first three taught 1.8/s to a
        host allowing 8/s); the interval is then doubled as before. The pace comes from what
        the host accepted, never from our own interval, so bursts cannot ratchet it down: a
        burst in which the host accepted fewer requests than the one the pace was learned
        from (a limit on requests in flight, a URL refused on its own) leaves it as it is.
        """
        if self.paced_at and self.floor < self.quiet_floor:
            self.floor = self.interval = self.quiet_floor  # a probe too far: back
            self.paced_at = now
            return True
        since = started - RATE_WINDOW_S
        if not self.starts or self.starts[0] > since:
            return False  # asked for less than a whole window: an undercount
        accepted = sum(1 for t in self.accepted if since <= t < started)
        if accepted < MIN_EVIDENCE or accepted < self.evidence:
            return False
        self.evidence = accepted
        self.floor = max(self.configured, RATE_WINDOW_S / (LEARNED_SHARE * accepted))
        self.interval = self.quiet_floor = self.floor
        self.paced_at = now
        return True

    def probe(self, now: float) -> None:
        """After a long quiet at the learned pace, a little faster (never past the configured
        pace): the burst it was learned from may have undercounted."""
        if (
            self.paced_at
            and self.floor > self.configured
            and self.interval <= self.floor
            and now - max(self.paced_at, self.limited_at) >= PROBE_AFTER_QUIET_S
        ):
            self.quiet_floor = self.floor
            rate = 1 / self.floor
            self.floor = max(self.configured, 1 / max(rate + 1, rate * PROBE_STEP))
            self.interval = self.floor
            self.paced_at = now

    def ease(self, now: float) -> None:
        """One recovery step per quiet period without a 429 (time-based, not count-based)."""
        while self.eased_at and now - self.eased_at >= EASE_AFTER_QUIET_S:
            self.eased_at += EASE_AFTER_QUIET_S
            self.interval = max(self.floor, self.floor + (self.interval - self.floor) / 2)
            if self.interval - self.floor < 0.005:
                self.interval = self.floor
            self.limit += 1
            if self.interval == self.floor and self.limit >= self.size:
                self.eased_at = 0.0  # fully recovered
                self.limit = self.size
                break


class Budget:
    """A fetch's deadline, which politeness waits push back (they are our choice)."""

    def __init__(self, timeout: asyncio.Timeout) -> None:
        self.timeout = timeout
        self.paused_left = float("inf")

    def pause(self) -> None:
        self.paused_left = self.left()
        self.timeout.reschedule(None)

    def resume(self) -> None:
        if self.paused_left != float("inf"):
            self.timeout.reschedule(asyncio.get_running_loop().time() + self.paused_left)

    def left(self) -> float:
        when = self.timeout.when()
        return float("inf") if when is None else when - asyncio.get_running_loop().time()


class Politeness:
    """Every host's `Gate` and the global limit, shared by all fetches of one engine."""

    def __init__(self, settings: EngineSettings, hosts: dict[str, HostLimits]) -> None:
        self.settings = settings
        self.hosts = hosts
        self.global_slots: asyncio.Semaphore | None = None
        self.gates: dict[str, Gate] = {}

    def host_limits(self, host: str) -> tuple[int, float]:
        """(concurrency, min seconds between request starts) for `host`."""
        override = self.hosts.get(host.lower())
        concurrency = self.settings.per_host_concurrency
        interval_ms = self.settings.min_interval_ms
        if override is not None:
            concurrency = override.concurrency or concurrency
            if override.min_interval_ms is not None:
                interval_ms = override.min_interval_ms
        return concurrency, interval_ms / 1000

    def gate(self, host: str) -> Gate:
        gate = self.gates.get(host)
        if gate is None:
            concurrency, interval = self.host_limits(host)
            gate = Gate(
                asyncio.Semaphore(concurrency),
                interval,
                floor=interval,
                limit=concurrency,
                size=concurrency,
                configured=interval,
            )
            self.gates[host] = gate
        return gate

    @contextlib.asynccontextmanager
    async def slot(self, host: str, budget: Budget) -> AsyncIterator[float]:
        """Hold a host slot and a global slot for one request.

        The global slot is taken last, once the host's interval has passed, so requests
        waiting for a slow host never hold global slots other hosts could use. Time spent
        waiting here is politeness, not the server's slowness: the deadline is moved by it.
        """
        if self.global_slots is None:
            self.global_slots = asyncio.Semaphore(self.settings.concurrency)
        global_slots = self.global_slots
        gate = self.gate(host)
        budget.pause()
        async with gate.sem:
            async with gate.cond:  # a host slowed down by 429s has fewer requests in flight
                while True:
                    gate.ease(time.monotonic())
                    if gate.paced_at:
                        gate.probe(time.monotonic())
                    if gate.in_flight < gate.limit:
                        break
                    # woken by a release, or by time: a slow or hanging request holding the
                    # only slot must not hold back the easing too
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(gate.cond.wait(), EASE_AFTER_QUIET_S)
                gate.in_flight += 1
            try:
                if gate.interval > 0 or gate.next_start:
                    async with gate.lock:
                        # a loop: a 429 elsewhere may push next_start back while we sleep
                        while (delay := gate.next_start - time.monotonic()) > 0:  # noqa: ASYNC110
                            await asyncio.sleep(delay)
                        await global_slots.acquire()
                        started = time.monotonic()
                        gate.next_start = started + gate.interval
                        gate.start(started)
                else:
                    await global_slots.acquire()
                    started = time.monotonic()
                    gate.start(started)
                budget.resume()
                try:
                    yield started
                finally:
                    global_slots.release()
            finally:
                async with gate.cond:
                    gate.in_flight -= 1
                    gate.ease(time.monotonic())
                    gate.cond.notify_all()

    def accepted(self, host: str, started: float) -> None:
        """A request to `host` that started at `started` got an answer other than 429."""
        self.gate(host).accept(started)

    def throttled(self, host: str, url: str, wait: float, started: float) -> None:
        """The host said "too many requests" to a request that started at `started`: pause
        the host for everyone, and slow down.

        Only a URL's first 429 counts: a URL that is refused forever says nothing about our
        pace. A burst of 429s (one per calm window) halves the requests the host may have in
        flight and paces it at the rate it had just accepted (`Gate.learn`); when that says
        nothing (too few requests to count), the interval doubles (up to
        MAX_ADAPTIVE_INTERVAL_S). `Gate.ease` undoes one step per quiet EASE_AFTER_QUIET_S,
        never faster than the learned pace, so a strict site is asked just under the pace it
        accepts, not eased into its next 429 and Retry-After pause.
        """
        gate = self.gate(host)
        if url in gate.limited_urls:
            return
        gate.limited_urls.add(url)
        now = time.monotonic()
        gate.next_start = max(gate.next_start, now + wait)
        if now >= gate.calm_until:
            gate.limited_at = now
            gate.limit = max(1, min(gate.limit, gate.in_flight + 1) // 2)
            if not gate.learn(started, now) and not gate.paced_at:
                gate.interval = min(max(gate.interval * 2, 0.1), MAX_ADAPTIVE_INTERVAL_S)
            gate.calm_until = now + wait + gate.interval
        gate.eased_at = now + wait  # the quiet period starts when the pause ends
