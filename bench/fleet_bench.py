"""Benchmark `monitor fleet check` with 1, 2 and 4 `monitor worker` processes.

    python bench/fleet_bench.py                        # 10,000 links, 50 hosts, 5 lists
    python bench/fleet_bench.py --workers 1,2 --n 2000 --hosts 20

Each configuration gets a fresh simulated web (bench/simweb.py, served by the recording
server of tests/fleet/simserver.py, which notes when each request reached each host), a fresh
PostgreSQL database and Redis database (the throwaway servers of tests/pg.py and
tests/redis_server.py), W workers started with `monitor worker`, and one `monitor fleet
check` whose wall time is measured. CPU is every process's own (os.wait4 after a clean stop:
a worker's pool process is counted in its parent). A single-process `monitor check`
of the same links as one catalog (metadata scraped, history written to PostgreSQL, as the fleet
does) is the reference line.

Kinds that only cost deadlines (hang, slow) or a CPU-bound body (large, bomb) are left out:
this measures how work spreads over processes, not timeouts (bench/run.py measures those).
Results: a table on stdout and bench/out/fleet.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))
import simweb  # noqa: E402

from tests.fleet.simserver import busiest_second, running  # noqa: E402
from tests.pg import pg_server  # noqa: E402
from tests.redis_server import redis_server  # noqa: E402

MONITOR = Path(sys.executable).with_name("monitor")
SKIP = frozenset({"hang", "slow", "large", "bomb"})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--lists", type=int, default=5)
    p.add_argument("--workers", default="1,2,4", help="worker counts to measure ('' for none)")
    p.add_argument("--shards", type=int, default=8, help="N shard queues (MONITOR_SHARDS)")
    p.add_argument("--no-single", action="store_true", help="skip the single-process line")
    p.add_argument("--out", type=Path, default=BENCH / "out")
    return p.parse_args(argv)


def write_inputs(tmp: Path, links: list[simweb.Link], lists: int) -> tuple[Path, Path]:
    per = -(-len(links) // lists)
    entries = []
    for k in range(lists):
        chunk = links[k * per : (k + 1) * per]
        lines = [
            "[engine]",
            "allow_private = true",
            "",
            "[[sections]]",
            'id = "s"',
            'title = "S"',
            "",
        ]
        for i, link in enumerate(chunk):
            lines += [
                "[[resources]]",
                f'id = "l{k}-{i}"',
                f'url = "{link.url}"',
                f'label = "{link.kind} {i}"',
                'section = "s"',
                "",
            ]
        path = tmp / f"list{k}.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        entries.append(f'[[list]]\nname = "list{k}"\ncatalog = "{path.name}"\n')
    fleet = tmp / "fleet.toml"
    fleet.write_text("[engine]\nallow_private = true\n\n" + "\n".join(entries), encoding="utf-8")
    # the same links as one catalog, for the single-process reference
    lines = ["[engine]", "allow_private = true", "", "[[sections]]", 'id = "s"', 'title = "S"']
    for k in range(lists):
        text = (tmp / f"list{k}.toml").read_text(encoding="utf-8")
        lines.append(text.split('title = "S"', 1)[1])
    everything = tmp / "all.toml"
    everything.write_text("\n".join(lines), encoding="utf-8")
    return fleet, everything


def cpu_of(proc: subprocess.Popen[bytes]) -> float:
    """Wait for the process; its CPU seconds (its reaped children's included)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def server_view(seen: dict[str, Any], wall: float) -> dict[str, Any]:
    arrivals = seen["arrivals"]
    counts = {host: len(times) for host, times in arrivals.items()}
    busy = [host for host, n in counts.items() if n]
    return {
        "requests": sum(counts.values()),
        "mean_per_host_per_s": round(sum(counts[h] for h in busy) / len(busy) / wall, 2),
        "busiest_host_second": max(busiest_second(t) for t in arrivals.values()),
        "max_in_flight_per_host": max(seen["peak"].values()),
    }


def single(catalog: Path, env: dict[str, str], tmp: Path) -> tuple[float, float, int]:
    """`monitor check` of every link as one catalog, recorded into the same kind of database:
    the same work as the fleet (metadata scraped, history written) in one process."""
    argv = [
        str(MONITOR),
        "check",
        "--catalog",
        str(catalog),
        "--quiet",
        "--format",
        "json",
        "--output",
        str(tmp / "single.json"),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = cpu_of(proc)
    return time.monotonic() - started, cpu, proc.returncode


def fleet_run(
    workers: int, fleet: Path, env: dict[str, str], tmp: Path
) -> tuple[float, float, float, int]:
    procs, logs = [], []
    for i in range(workers):
        log = tmp / f"w{workers}-{i}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(MONITOR), "worker", "--loglevel", "INFO", "--", "--hostname", f"b{i}@%h"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    deadline = time.monotonic() + 120
    while not all(b" ready." in log.read_bytes() for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.2)
    started = time.monotonic()
    coordinator = subprocess.Popen(
        [str(MONITOR), "fleet", "check", str(fleet), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    coordinator_cpu = cpu_of(coordinator)
    wall = time.monotonic() - started
    worker_cpu = 0.0
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown: the pool process is reaped
        worker_cpu += cpu_of(proc)
    return wall, worker_cpu, coordinator_cpu, coordinator.returncode


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    specs = simweb.host_specs(args.hosts)
    rows: list[dict[str, Any]] = []
    with pg_server() as pg, redis_server() as rd, tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        base_env = {**os.environ, "MONITOR_SHARDS": str(args.shards)}
        runs: list[int | None] = ([] if args.no_single else [None]) + counts  # type: ignore[list-item]
        for workers in runs:
            with running(specs) as web:
                links = simweb.build_links(args.n, specs, web.port, skip=SKIP)
                fleet, everything = write_inputs(tmp, links, args.lists)
                env = {
                    **base_env,
                    "MONITOR_BROKER_URL": rd.new_database(),
                    "MONITOR_DATABASE_URL": pg.new_database(),
                }
                if workers is None:
                    wall, cpu, code = single(everything, env, tmp)
                    row = {
                        "setup": "monitor check (one process)",
                        "workers": 0,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "exit": code,
                    }
                else:
                    wall, wcpu, ccpu, code = fleet_run(workers, fleet, env, tmp)
                    row = {
                        "setup": f"fleet, {workers} worker(s), {args.shards} shards",
                        "workers": workers,
                        "wall_s": wall,
                        "cpu_s": wcpu + ccpu,
                        "worker_cpu_s": wcpu,
                        "coordinator_cpu_s": ccpu,
                        "exit": code,
                    }
                row.update(server_view(web.take(), row["wall_s"]))
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "n": args.n,
        "hosts": args.hosts,
        "lists": args.lists,
        "shards": args.shards,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
        },
        "rows": rows,
    }
    (args.out / "fleet.json").write_text(json.dumps(result, indent=1))
    print("\n| setup | wall s | CPU s | req/host/s (mean) | busiest host-second | max in flight |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['setup']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['mean_per_host_per_s']} | {r['busiest_host_second']} | "
            f"{r['max_in_flight_per_host']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
