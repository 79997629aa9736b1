"""bench/simweb.py's simulated web, serving from a child process and recording when each
request reached each host, so a test can check what a client's politeness looked like from
the servers' side: the most requests in flight at once and the most started in any second.

simweb is imported, not edited (bench/ is the benchmark's).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import sys
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import simweb


class _Recording(simweb.SimWeb):
    def __init__(self, specs: list[simweb.HostSpec], seed: int) -> None:
        super().__init__(specs, seed)
        self.arrivals: dict[str, list[float]] = {s.name: [] for s in specs}
        self.peak: dict[str, int] = dict.fromkeys(self.arrivals, 0)

    async def _respond(self, state: simweb.HostState, *args: Any) -> bool:
        self.arrivals[state.spec.name].append(time.monotonic())
        self.peak[state.spec.name] = max(self.peak[state.spec.name], state.inflight + 1)
        return await super()._respond(state, *args)

    def take(self) -> dict[str, Any]:
        """What the hosts saw since the last call, then start counting afresh."""
        out = {"arrivals": self.arrivals, "peak": self.peak}
        self.arrivals = {name: [] for name in self.arrivals}
        self.peak = dict.fromkeys(self.arrivals, 0)
        return out


def _serve(specs: list[simweb.HostSpec], seed: int, conn: Any) -> None:
    async def main() -> None:
        web = _Recording(specs, seed)
        port, socks = simweb._bind_all(specs)
        servers = [await asyncio.start_server(web.handle, sock=s, limit=65536) for s in socks]
        conn.send(port)
        loop = asyncio.get_running_loop()
        while True:
            ready = loop.create_future()
            loop.add_reader(conn.fileno(), lambda f=ready: f.done() or f.set_result(None))
            try:
                await asyncio.wait_for(ready, 600)
            except TimeoutError:
                break
            finally:
                loop.remove_reader(conn.fileno())
            command = conn.recv()
            conn.send(web.take())
            if command == "stop":
                break
        for server in servers:
            server.close()

    asyncio.run(main())


@dataclass
class SimWebProcess:
    specs: list[simweb.HostSpec]
    port: int
    conn: Any
    process: Any

    def take(self) -> dict[str, Any]:
        self.conn.send("take")
        result: dict[str, Any] = self.conn.recv()
        return result


@contextlib.contextmanager
def running(specs: list[simweb.HostSpec], seed: int = 1) -> Iterator[SimWebProcess]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(specs, seed, child), daemon=True)
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the simulated web did not start")
        yield SimWebProcess(specs, parent.recv(), parent, process)
    finally:
        with contextlib.suppress(Exception):
            parent.send("stop")
            parent.poll(10) and parent.recv()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)


def busiest_second(arrivals: list[float]) -> int:
    """The most requests that started within any one second ([t, t + 1))."""
    ordered = sorted(arrivals)
    return max(
        (bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)),
        default=0,
    )
