"""429 pacing: a strict host is asked at the rate it accepted, not eased into its next 429.

Asserted on the server's own timestamps (when each request arrived, what it was answered),
never on our wall time.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time

import pytest

from monitor.config.catalog import EngineSettings, HostLimits
from monitor.net import politeness
from monitor.net.engine import HttpEngine
from monitor.net.politeness import Gate
from tests.conftest import LoopbackServer, Reply, Seen

LIMIT = 20  # requests the server admits per rolling second


class RollingLimit:
    """A strict site: at most LIMIT requests admitted in any rolling second, the rest 429
    with Retry-After: 1 (bench/simweb.py's strict hosts, scaled up for a short test)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.admitted: collections.deque[float] = collections.deque()
        self.log: list[tuple[float, int]] = []  # (arrival, status), the server's own clock

    def __call__(self, seen: Seen) -> Reply:
        with self.lock:
            now = time.monotonic()
            while self.admitted and now - self.admitted[0] >= 1.0:
                self.admitted.popleft()
            if len(self.admitted) >= LIMIT:
                self.log.append((now, 429))
                return Reply(429, b"slow down", headers={"Retry-After": "1"})
            self.admitted.append(now)
            self.log.append((now, 200))
        return Reply(200, b"<html><title>ok</title></html>", delay_s=0.01)


def bursts(log: list[tuple[float, int]]) -> list[list[float]]:
    """The 429s, grouped into bursts (429s less than half a second apart)."""
    groups: list[list[float]] = []
    for at, status in sorted(log):
        if status != 429:
            continue
        if groups and at - groups[-1][-1] < 0.5:
            groups[-1].append(at)
        else:
            groups.append([at])
    return groups


async def test_a_strict_host_is_paced_at_the_rate_it_accepted(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked at up to 50/s, a host that admits 20/s answers 429s in its first seconds only;
    after them, it is asked just under 20/s until the end, not eased back into a 429 (and its
    pause) every few seconds (issue 11: a host admitting 8/s was asked at 2.4-4/s that way)."""
    monkeypatch.setattr(politeness, "EASE_AFTER_QUIET_S", 0.5)  # not 3 s: a short test
    limit = RollingLimit()
    server.routes["/p"] = limit
    settings = EngineSettings.model_validate(
        {"allow_private": True, "retries": 6, "deadline_s": 60, "retry_after_cap_s": 5}
    )
    hosts = {"127.0.0.1": HostLimits(concurrency=4, min_interval_ms=20)}
    async with HttpEngine(settings, hosts) as http:
        results = await asyncio.gather(*(http.fetch(server.url(f"/p?{i}")) for i in range(200)))
    assert [r.status for r in results] == [200] * 200
    groups = bursts(limit.log)
    first, last = limit.log[0][0], limit.log[-1][0]
    # the first burst comes while we have asked for under a second (it teaches nothing, the
    # interval doubles and eases back); the next one teaches the pace, and none comes after
    assert len(groups) <= 2, [round(g[0] - first, 2) for g in groups]
    assert groups[-1][-1] - first < 5
    assert last - groups[-1][-1] > 6
    # after the burst and its one-second pause: just under the host's 20/s, never above
    served = [at for at, status in limit.log if status == 200 and at > groups[-1][-1] + 0.5]
    rate = (len(served) - 1) / (served[-1] - served[0])
    assert 0.7 * LIMIT <= rate <= LIMIT, rate
    # and never faster than configured (50/s) in any second, before the burst either
    starts = sorted(at for at, _ in limit.log)
    assert max(sum(1 for t in starts if s <= t < s + 1) for s in starts) <= 50


def gate(interval: float) -> Gate:
    return Gate(
        asyncio.Semaphore(10), interval, floor=interval, limit=10, size=10, configured=interval
    )


def ask(g: Gate, at: float, *, accepted: bool = True) -> None:
    """One request to the gate's host started at `at` (and answered without a 429)."""
    g.start(at)
    if accepted:
        g.accept(at)


def test_the_pace_comes_from_what_the_host_accepted() -> None:
    g = gate(0.1)  # configured: 10/s
    for i in range(8):  # 8 asked and accepted in the second before the refused request
        ask(g, 100.0 + i * 0.12)
    assert g.learn(101.0, now=101.1)
    assert g.floor == pytest.approx(1 / (0.9 * 8))
    assert g.interval == g.floor


def test_a_burst_early_or_after_few_answers_teaches_nothing() -> None:
    """A URL refused on its own among a host's first requests (bench: three requests in,
    a host allowing 8/s was paced at 1.8/s), or after a quiet second with three answers."""
    g = gate(0.05)
    for i in range(6):
        ask(g, 100.0 + i * 0.05)
    assert not g.learn(100.3, now=100.35)  # asked for less than a second
    for i in range(3):
        ask(g, 101.0 + i * 0.3)
    assert not g.learn(101.95, now=102.0)  # a whole second, but 3 answers
    assert g.floor == 0.05
    assert not g.paced_at


def test_bursts_at_the_learned_pace_do_not_ratchet_it_down() -> None:
    """The regression of issue 11: every burst slowed the host further, down to one request
    every 2 s. A burst in which the host accepted fewer requests than the one the pace was
    learned from (a concurrency limit, a slow moment) leaves the pace alone."""
    g = gate(0.1)
    t = 100.0
    for _ in range(8):
        ask(g, t)
        t += 0.12
    t = 101.0
    assert g.learn(t, now=t)
    learned = g.floor
    for accepted in (7, 5, 2, 8, 6):  # later bursts, each after a second at the learned pace
        for i in range(accepted):
            ask(g, t + 1 + i * (1 / accepted) * 0.99)
        t += 2
        g.learn(t, now=t)
        assert g.floor == learned


def test_a_long_quiet_probes_a_faster_pace_up_to_the_configured_one() -> None:
    g = gate(0.2)  # configured: 5/s
    for i in range(5):  # an undercount: 5 asked, 4 accepted before the burst
        ask(g, 100.0 + i * 0.2, accepted=i != 1)
    assert g.learn(101.0, now=101.0)
    assert 1 / g.floor == pytest.approx(3.6)
    g.probe(101.0 + politeness.PROBE_AFTER_QUIET_S - 1)
    assert 1 / g.floor == pytest.approx(3.6)  # not yet
    now = 101.0
    for expected in (4.6, 5.0, 5.0):  # +1/s or a quarter, whichever is more
        now += politeness.PROBE_AFTER_QUIET_S
        g.probe(now)
        assert 1 / g.floor == pytest.approx(expected)


def test_a_429_during_a_probe_goes_back_to_the_pace_that_was_quiet() -> None:
    g = gate(0.1)
    for i in range(8):
        ask(g, 100.0 + i * 0.12)
    assert g.learn(101.0, now=101.0)
    quiet = g.floor
    now = 101.0 + politeness.PROBE_AFTER_QUIET_S
    g.probe(now)
    assert 1 / g.floor == pytest.approx(9.0)  # a quarter faster than 7.2/s
    for i in range(9):  # the probe's faster second: 9 accepted, then a 429
        ask(g, now + 0.65 + i * 0.1)
    assert g.learn(now + 1.6, now=now + 1.6)
    assert g.floor == quiet  # back, not re-learned from the probe's own count (9 -> 8.1/s)
