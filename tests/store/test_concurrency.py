"""Several writers on one SQLite history at once: nothing lost, nobody crashes.

A real SQLite file in WAL mode; catalogs of local files, so no network is involved:

- two `monitor check` processes adding the same new resources at once (they used to collide
  on the resource id: IntegrityError, one run thrown away, exit 1), and the same race with
  threads and separate stores, which hits it every time without process start-up costs;
- a run recorded while another writer holds the write lock longer than the old 10 s busy
  timeout (a prune of a large history holds it about that long): it used to fail with
  "database is locked";
- ten processes opening a brand-new database together (they used to race on creating the
  schema).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict, utcnow
from monitor.store.database import Store

MONITOR = str(Path(sys.executable).parent / "monitor")


def _catalog(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i in range(n):
        (folder / f"f{i}.txt").write_text(f"file {i}\n", encoding="utf-8")
        entries.append(
            f'[[resources]]\nid = "r{i}"\nurl = "f{i}.txt"\nlabel = "File {i}"\n'
            'section = "s"\nkind = "file"\n'
        )
    catalog = folder / "resources.toml"
    catalog.write_text('[[sections]]\nid = "s"\ntitle = "S"\n\n' + "\n".join(entries), "utf-8")
    return catalog


def _start(catalog: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [MONITOR, "check", "--catalog", str(catalog), "--db", str(db), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str]]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        out.append((proc.returncode, stdout + stderr))
    return out


def _count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    finally:
        con.close()


def test_two_checks_adding_the_same_new_resources(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "roadmap", 40)
    for attempt in range(1):
        db = tmp_path / f"h{attempt}.sqlite"
        # The schema first, so both runs race on the resource rows, not on creating tables.
        assert _finish([_start(_catalog(tmp_path / "empty", 0), db)])[0][0] == 0
        results = _finish([_start(catalog, db), _start(catalog, db)])
        for code, output in results:
            assert code == 0, output
            assert "Traceback" not in output
        assert _count(db, "resource") == 40
        assert _count(db, "run") == 2  # both checks: no run lost
        assert _count(db, "check") == 80


def test_a_writer_waits_for_another_holding_the_lock(tmp_path: Path) -> None:
    """As a check recording its run while a prune of a large history holds the write lock
    for longer than the old 10 s busy timeout: it waits, then lands."""
    db = tmp_path / "h.sqlite"
    Store.open(db).close()
    held = threading.Event()

    def hold(seconds: float) -> None:
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")  # the write lock, as a long prune holds it
        con.execute(
            "INSERT INTO run (started_at, network_ok, trigger, note) "
            "VALUES ('2026-01-01 00:00:00', 1, 'prune-stand-in', '')"
        )
        held.set()
        time.sleep(seconds)
        con.execute("COMMIT")
        con.close()

    holder = threading.Thread(target=hold, args=(12.0,))
    holder.start()
    assert held.wait(10)
    started = time.monotonic()
    resource = Resource(id="r", url="f.txt", kind=Kind.FILE, section="s", label="R")
    with Store.open(db) as store:
        store.record_run(
            Run(id=None, started_at=utcnow()),
            [CheckResult(resource_id="r", url="f.txt", verdict=Verdict.OK)],
            [resource],
        )
    holder.join()
    assert time.monotonic() - started >= 10  # it really waited for the lock
    assert _count(db, "run") == 2


def test_store_writers_racing_on_new_resources(tmp_path: Path) -> None:
    """The same race without process start-up costs: threads, each with its own Store (its
    own connections), recording runs that add the same new resources at the same moment."""
    db = tmp_path / "h.sqlite"
    Store.open(db).close()
    writers = 4
    for round_ in range(5):
        resources = [
            Resource(
                id=f"n{round_}-{i}", url=f"f{i}.txt", kind=Kind.FILE, section="s", label=f"File {i}"
            )
            for i in range(30)
        ]
        barrier = threading.Barrier(writers)
        errors: list[BaseException] = []

        def write(
            resources: list[Resource] = resources,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            store = Store.open(db)
            try:
                results = [
                    CheckResult(resource_id=r.id, url=r.url, verdict=Verdict.OK) for r in resources
                ]
                barrier.wait()
                store.record_run(Run(id=None, started_at=utcnow()), results, resources)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                store.close()

        threads = [threading.Thread(target=write) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    assert _count(db, "run") == 5 * writers
    assert _count(db, "resource") == 5 * 30


# One process of the race: imports done, then for each round it waits at a barrier (a FIFO
# every process opens for reading: the kernel releases them all when the test opens it for
# writing), opens that round's brand-new database and records one run.
OPEN_AND_RECORD = """
import os, sys, traceback
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict, utcnow
from monitor.store.database import Store

folder, rounds = sys.argv[1], int(sys.argv[2])
resource = Resource(id="r", url="f.txt", kind=Kind.FILE, section="s", label="R")
for n in range(rounds):
    print("ready", flush=True)
    with open(os.path.join(folder, f"go{n}"), "rb"):
        pass
    try:
        with Store.open(os.path.join(folder, f"h{n}.sqlite")) as store:
            store.record_run(
                Run(id=None, started_at=utcnow()),
                [CheckResult(resource_id="r", url="f.txt", verdict=Verdict.OK)],
                [resource],
            )
        print("ok", flush=True)
    except Exception:
        print("error " + traceback.format_exc().replace(chr(10), " | "), flush=True)
"""


def test_ten_processes_open_a_brand_new_database(tmp_path: Path) -> None:
    """Ten processes create the schema of the same new database at the same moment (a
    barrier releases them together), then each records a run; three rounds, three databases.
    Without the schema lock some of them fail on `CREATE TABLE` (table already exists)."""
    rounds, processes = 3, 10
    for n in range(rounds):
        os.mkfifo(tmp_path / f"go{n}")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_RECORD, str(tmp_path), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    errors: list[str] = []
    try:
        for n in range(rounds):
            for proc in procs:
                assert proc.stdout is not None
                assert proc.stdout.readline() == "ready\n"
            time.sleep(0.2)  # all of them blocked in open() on the FIFO by now
            with (tmp_path / f"go{n}").open("wb"):
                pass  # the barrier opens for everyone at once
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                if line != "ok\n":
                    errors.append(f"round {n}: {line.strip()[:400]}")
    finally:
        results = _finish(procs)
    assert errors == [], f"{len(errors)} of {rounds * processes} failed: {errors[:3]}"
    for code, output in results:
        assert code == 0, output
    for n in range(rounds):
        assert _count(tmp_path / f"h{n}.sqlite", "run") == processes
        assert _count(tmp_path / f"h{n}.sqlite", "resource") == 1
