"""Benchmark of the reading commands on long histories (issue 14): not a timed test.

    python3 -m uv run python bench/reports_bench.py                       # both sizes, SQLite
    python3 -m uv run python bench/reports_bench.py --backend postgres    # a kept local server
    python3 -m uv run python bench/reports_bench.py --size 3000x90 --runs 3

For each size (resources x days) it builds the history once through the store's own API
(`bench/reports_history.py`: one `Store.record_run` per nightly run, cached in bench/out/),
then runs `monitor report`, `status`, `readme` and `down-report` as separate processes, as the
nightly job does, and records each one's wall time and peak RSS (from `wait4`), plus the size
of `site/index.html`. Targets: each command <= 3 s wall and <= 300 MB peak RSS, index.html
<= 2 MB. Results go to stdout as a Markdown table and to bench/out/reports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

COMMANDS = ("report", "status", "readme", "down-report")
TARGET_S, TARGET_MB, TARGET_INDEX_MB = 3.0, 300.0, 2.0


def _monitor() -> list[str]:
    exe = Path(sys.executable).parent / "monitor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "monitor"]


def build(db_url: str, count: int, days: int, folder: Path) -> Path:
    """The history and its catalog; returns the catalog path."""
    import reports_history

    from monitor.store.database import Store

    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with Store.open(db_url) as store:
        resources = reports_history.build(
            store,
            count,
            days,
            progress=lambda d: print(f"  day {d + 1}/{days}", end="\r", file=sys.stderr),
        )
    catalog = folder / "resources.toml"
    catalog.write_text(reports_history.catalog_toml(resources))
    (folder / "README.md").write_text(
        "".join(
            f"## Section {s}\n\n<!-- monitor:begin section=s{s:02d} -->\n<!-- monitor:end -->\n\n"
            for s in range(reports_history.SECTIONS)
        )
    )
    print(f"  built {count}x{days} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return catalog


class KeptPg:
    """A PostgreSQL server whose data outlives the benchmark (bench/out/pg), so a history
    built once (tens of minutes through the store's API) is measured again by later code."""

    def __init__(self, base: Path) -> None:
        from tests.pg import PORT, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise SystemExit("no PostgreSQL (initdb) found: install Debian's postgresql package")
        self.bin_dir, self.base, self.port = bin_dir, base, PORT
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin_dir / tool), *args], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.base}&port={self.port}"

    def drop_and_create(self, database: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.base), port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')


@contextmanager
def kept_pg_server(base: Path) -> Iterator[KeptPg]:
    """Start the kept server (initdb on first use), stop it when done; the data stays.
    As in tests/pg.py: a Unix socket only, a server time zone that is not UTC."""
    from tests.pg import SERVER_TIMEZONE

    server = KeptPg(base)
    data = base / "data"
    if not data.exists():
        base.mkdir(parents=True, exist_ok=True)
        if server.as_user:
            shutil.chown(base, "postgres", "postgres")
        server.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--locale=C", "--no-sync")  # fmt: skip
    options = (f"-k {base} -p {server.port} -c listen_addresses='' "
               f"-c timezone={SERVER_TIMEZONE} -c fsync=off -c synchronous_commit=off")  # fmt: skip
    server.run("pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start")
    try:
        yield server
    finally:
        server.run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")


def copy_history(source_url: str, target_url: str) -> None:
    """Copy a built history (resources, runs, checks, ids kept) from one database into
    another, then rebuild the state summaries as migration 0004 does: minutes, where building
    2,000 x 365 through the store's API again takes most of an hour on this machine."""
    from sqlalchemy import insert, select, text

    from monitor.store import summary
    from monitor.store.database import CheckRow, ResourceRow, RunRow, Store

    with Store.open(source_url) as source, Store.open(target_url) as target:
        with source.engine.connect() as src, target.engine.begin() as dst:
            for table in (ResourceRow.__table__, RunRow.__table__, CheckRow.__table__):  # type: ignore[attr-defined]
                rows = src.execute(select(table)).mappings()
                while chunk := rows.fetchmany(5000):
                    dst.execute(insert(table), [dict(r) for r in chunk])
            if dst.dialect.name == "postgresql":
                for table in ("run", "check"):
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', "
                                     f"'id'), (SELECT max(id) FROM \"{table}\"))"))  # fmt: skip
            summary.rebuild(dst, None, summary.DEFAULT_DOWN_AFTER)
        if target.engine.dialect.name == "postgresql":
            with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("ANALYZE")


def measure(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall s, peak RSS MB, CPU s (user + system), exit code) of one command."""
    started = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, proc.returncode


def run_size(
    size: str, backend: str, runs: int, stack: ExitStack, *, copy: bool = False
) -> dict[str, object]:
    count, days = (int(x) for x in size.split("x"))
    folder = OUT / f"reports-{backend}-{size}"
    if backend == "sqlite":
        db = folder / "history.sqlite"
        db_url = str(db)
        if not (folder / "resources.toml").exists() or not db.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(db_url, count, days, folder)
    else:
        server = stack.enter_context(kept_pg_server(OUT / "pg"))
        name = f"h{count}x{days}"
        db_url = server.url(name)
        if not (folder / "built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            server.drop_and_create(name)
            built = OUT / f"reports-sqlite-{size}"
            if copy and (built / "history.sqlite").exists():
                started = time.monotonic()
                copy_history(str(built / "history.sqlite"), db_url)
                folder.mkdir(parents=True)
                for name_ in ("resources.toml", "README.md"):
                    shutil.copy(built / name_, folder / name_)
                print(f"  copied {size} from SQLite in {time.monotonic() - started:.0f} s",
                      file=sys.stderr)  # fmt: skip
            else:
                build(db_url, count, days, folder)
            (folder / "built").write_text(db_url)
    catalog = folder / "resources.toml"
    # Bytecode cached once, as an installed copy has it (uv compiles at install): sandboxes
    # that set PYTHONDONTWRITEBYTECODE would otherwise compile ~600 modules on every run.
    env = {
        **os.environ,
        "MONITOR_DATABASE_URL": db_url,
        "PYTHONPYCACHEPREFIX": str(OUT / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results: dict[str, object] = {"size": size, "backend": backend}
    for command in COMMANDS:
        args = [*_monitor(), command, "--catalog", str(catalog)]
        if command == "readme":
            args += ["--readme", str(folder / "README.md")]
        if command == "report":
            args += ["--out", str(folder / "site")]
        measure(args, folder, env)  # warm: the bytecode cache, the OS's page cache
        walls, rss, cpus, loads = [], [], [], []
        for _ in range(runs):
            loads.append(os.getloadavg()[0])
            wall, mb, cpu, _code = measure(args, folder, env)
            walls.append(wall)
            rss.append(mb)
            cpus.append(cpu)
        results[command] = {
            "wall_s": statistics.median(walls),
            "cpu_s": statistics.median(cpus),
            "rss_mb": max(rss),
            "load": statistics.median(loads),
            "walls": walls,
        }
        print(f"  {size} {backend} {command}: {statistics.median(walls):.2f} s wall, "
              f"{statistics.median(cpus):.2f} s CPU, {max(rss):.0f} MB, "
              f"load {statistics.median(loads):.1f}", file=sys.stderr)  # fmt: skip
    site = folder / "site"
    results["index_mb"] = (site / "index.html").stat().st_size / 1e6
    results["pages"] = len(list((site / "r").glob("*.html"))) if (site / "r").exists() else 0
    return results


def table(rows: list[dict[str, object]]) -> str:
    head = "| history | backend | " + " | ".join(f"`{c}`" for c in COMMANDS)
    lines = [head + " | index.html |", "|---|---|" + "---|" * (len(COMMANDS) + 1)]
    for r in rows:
        cells = []
        for c in COMMANDS:
            m = r[c]
            assert isinstance(m, dict)
            cells.append(
                f"{m['wall_s']:.2f} s ({m['cpu_s']:.2f} s CPU), {m['rss_mb']:.0f} MB, "
                f"load {m['load']:.1f}"
            )
        lines.append(
            f"| {r['size']} | {r['backend']} | "
            + " | ".join(cells)
            + f" | {r['index_mb']:.2f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", help="RESOURCESxDAYS (repeatable)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median)")
    parser.add_argument(
        "--copy-from-sqlite",
        action="store_true",
        help="PostgreSQL: copy the history the SQLite run built instead of building it again",
    )
    opts = parser.parse_args()
    sizes = opts.size or ["3000x90", "2000x365"]
    rows = []
    with ExitStack() as stack:
        for size in sizes:
            rows.append(run_size(size, opts.backend, opts.runs, stack, copy=opts.copy_from_sqlite))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"reports-{opts.backend}.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))
    over = [
        f"{r['size']} {c}"
        for r in rows
        for c in COMMANDS
        if isinstance(m := r[c], dict) and (m["wall_s"] > TARGET_S or m["rss_mb"] > TARGET_MB)
    ]
    if over:
        print(f"\nover target ({TARGET_S} s, {TARGET_MB} MB): {', '.join(over)}")


if __name__ == "__main__":
    main()
