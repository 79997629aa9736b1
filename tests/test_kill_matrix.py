"""kill -9 at random moments: nothing half-written survives (issue 12, the kill matrix).

`monitor check`, `readme`, `report`, `prune`, `import` and `fix --yes` each run on a copy of
one prepared project (a catalog of pages on a loopback server, a README with a table and an
annotated list, a rendered site, a history of 60 days) and are SIGKILLed after a delay drawn
at random (seeded: set MONITOR_KILL_SEED to replay a run) from the length of an uninterrupted
run of the same command: uniformly over the whole run for every other kill, over its last
40% (where the writes and the commit are) for the rest. After each kill:

- the database passes `PRAGMA integrity_check`, and no partial run is visible: every run has
  all of its checks, or the prune happened wholly or not at all;
- every output file (README, catalogs, site pages, badge, status.md) holds either its old
  bytes or the complete bytes an uninterrupted run writes;
- the next start of the same command finishes the job (the files are then exactly the
  uninterrupted run's; `fix --yes` killed between its two writes included) and leaves no
  temporary file behind.

The commands run as real processes forked from a "zygote" that imported `monitor` once
(python start-up and imports take about a second on a loaded machine, longer than most of
these commands): the kill lands in the command's own work, not in the interpreter's start-up.
Each child is `monitor.cli.app:main` with the command's arguments, killed with SIGKILL by
this test, as `kill -9` would.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.catalog import load_catalog
from monitor.domain.models import CheckResult, Metadata, Run, Verdict
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

SEED = int(os.environ.get("MONITOR_KILL_SEED", "20261129"))
KILLS_PER_COMMAND = 4  # 6 commands: 24 kills per run of the test
PAGES = 30
WRITING_S = 0.03  # kills "while writing" land this long at most after the first write
NOW = "2026-11-29T12:00:00+0000"  # `report --now`: the site's bytes do not depend on the clock

ZYGOTE = r"""
import importlib, json, os, pkgutil, sys, time
# Answers go to the test on a copy of stdout; whatever an import prints goes nowhere.
answers = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
import monitor
from monitor.cli.app import main

# Everything a command imports lazily, imported once here (not the fleet, which needs
# Celery and Redis, nor __main__, which runs the app).
SKIP = ("monitor.fleet", "monitor.cli.fleet", "monitor.cli.worker", "monitor.__main__")
for mod in pkgutil.walk_packages(monitor.__path__, "monitor."):
    if not mod.name.startswith(SKIP):
        importlib.import_module(mod.name)
print(json.dumps({"ready": True}), file=answers, flush=True)
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.chdir(req["cwd"])
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.argv = ["monitor", *req["args"]]
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    print(json.dumps({"pid": pid}), file=answers, flush=True)
    _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    done = {"code": os.waitstatus_to_exitcode(status), "elapsed": elapsed}
    print(json.dumps(done), file=answers, flush=True)
"""


def _alive(pid: int) -> bool:
    """Running, or dead and not yet reaped (the zygote reaps its children at once)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Zygote:
    """A Python process that imported `monitor` once and forks one child per command."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert self._read() == {"ready": True}
        except BaseException:
            self.proc.kill()
            self.proc.communicate()
            raise

    def _read(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the zygote died"
        answer: dict[str, object] = json.loads(line)
        return answer

    def run(
        self,
        args: list[str],
        cwd: Path,
        kill_after: float | None = None,
        once: Callable[[], bool] | None = None,
    ) -> tuple[int, float, str]:
        """(exit code, seconds, output); the exit code is -9 when the kill landed. The kill
        comes `kill_after` seconds after the start, or after `once()` first holds."""
        assert self.proc.stdin is not None
        log = cwd / ".run.log"
        request = {"args": args, "cwd": str(cwd), "log": str(log)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        pid = self._read()["pid"]
        assert isinstance(pid, int)
        if kill_after is not None:
            if once is not None:
                while _alive(pid) and not once():
                    time.sleep(0.002)
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # it may have finished
                os.kill(pid, signal.SIGKILL)
        done = self._read()
        code, elapsed = done["code"], done["elapsed"]
        assert isinstance(code, int) and isinstance(elapsed, float)
        output = ""  # a child killed at once has not opened its log yet
        with contextlib.suppress(FileNotFoundError):
            output = log.read_text(encoding="utf-8", errors="replace")
            log.unlink()
        return code, elapsed, output

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            assert self.proc.stdout is not None
            self.proc.stdout.close()


# -- the prepared project --------------------------------------------------------------------


def _routes(server: LoopbackServer) -> None:
    for i in range(PAGES):
        body = f"<html><head><title>Page {i}</title></head><body>{'text ' * 400}</body></html>"
        server.routes[f"/p{i}"] = Reply(200, body.encode(), delay_s=0.02)
    server.routes["/gone"] = Reply(404, b"<html><title>Not Found</title></html>")
    server.routes["/old"] = Reply(301, b"", {"Location": "/new"})
    server.routes["/new"] = Reply(200, b"<html><title>New home</title></html>")


def _catalog(server: LoopbackServer) -> str:
    entries = [
        (f"p{i}", server.url(f"/p{i}"), f"Page {i}", "pages" if i < 20 else "more")
        for i in range(PAGES)
    ]
    entries += [
        ("gone", server.url("/gone"), "A page that is gone", "more"),
        ("moving", server.url("/old"), "A page that moved", "more"),
    ]
    lines = [
        '[settings]\nlocale = "en"\nreadme = "README.md"\n',
        "[engine]\nallow_private = true\nretries = 0\nmin_interval_ms = 5\n",
        '[[sections]]\nid = "pages"\ntitle = "Pages"\n',
        '[[sections]]\nid = "more"\ntitle = "More"\n',
    ]
    for rid, url, label, section in entries:
        lines.append(
            f'[[resources]]\nid = "{rid}"\nurl = "{url}"\nlabel = "{label}"\n'
            f'section = "{section}"\nkind = "web"\n'
        )
    return "\n".join(lines)


def _readme(server: LoopbackServer) -> str:
    items = "".join(f"- [Page {i}]({server.url(f'/p{i}')}) - read it\n" for i in range(20, PAGES))
    return (
        "# Roadmap\n\nProse stays.\n\n"
        "<!-- monitor:begin section=pages -->\n<!-- monitor:end -->\n\n"
        "## More\n\n<!-- monitor:begin section=more mode=list -->\n"
        f"{items}"
        f"- [A page that is gone]({server.url('/gone')}) - sad\n"
        f"- [A page that moved]({server.url('/old')}) - see also [here]({server.url('/old')})\n"
        "<!-- monitor:end -->\n"
    )


def _roadmap(server: LoopbackServer) -> str:
    """The list `monitor import` reads: the catalog `import.toml` knows only half of it."""
    links = "".join(f"- [Item {i}]({server.url(f'/item{i}')})\n" for i in range(60))
    return f"# Awesome list\n\n## Items\n\n{links}"


def _history(project: Path) -> None:
    """60 nights of history (the oldest prunable), the newest with `moving` moved."""
    cat = load_catalog(project / "resources.toml")
    start = datetime(2026, 9, 30, 3, tzinfo=UTC)
    with Store.open(project / "db" / "monitor.sqlite") as store:
        for day in range(60):
            at = start + timedelta(days=day)
            results = []
            for r in cat.resources:
                verdict, moved_to = Verdict.OK, None
                if r.id == "gone" and day >= 57:
                    verdict = Verdict.BROKEN
                if r.id == "moving" and day >= 55:
                    verdict, moved_to = Verdict.MOVED, r.url.replace("/old", "/new")
                results.append(
                    CheckResult(
                        r.id,
                        r.url,
                        verdict,
                        status=200,
                        moved_to=moved_to,
                        checked_at=at,
                        elapsed_ms=20 + day,
                        meta=Metadata(title=r.label, description="words " * 40),
                    )
                )
            store.record_run(Run(None, at, at + timedelta(seconds=30)), results, cat.resources)


@dataclass
class Command:
    name: str
    args: list[str]
    reference: dict[str, bytes] = field(default_factory=dict)
    ref_counts: tuple[int, int] = (0, 0)
    ref_code: int = 0
    seconds: float = 0.0


REPORT = ["report", "--db", "db/monitor.sqlite", "--out", "site", "--markdown", "status.md"]
COMMANDS = [
    Command("check", ["check", "--db", "db/monitor.sqlite", "--quiet"]),
    Command("readme", ["readme", "--db", "db/monitor.sqlite"]),
    Command(
        "report",
        [*REPORT, "--now", NOW],
    ),
    Command("prune", ["prune", "--db", "db/monitor.sqlite", "--older-than", "7"]),
    Command("import", ["import", "roadmap.md", "--catalog", "import.toml"]),
    Command("fix", ["fix", "--db", "db/monitor.sqlite", "--yes", "--no-wayback"]),
]


def _files(project: Path) -> dict[str, bytes]:
    """Every output file of the project: everything but the database and our run log."""
    out = {}
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project).as_posix()
        if path.is_file() and not rel.startswith("db/") and rel != ".run.log":
            out[rel] = path.read_bytes()
    return out


def _writing(project: Path) -> Callable[[], bool]:
    """Whether a command has begun writing: a temporary file of an atomic write exists, or
    the database's write-ahead log has grown (a transaction is writing)."""
    folders = [project, project / "site", project / "site" / "r"]
    wal = project / "db" / "monitor.sqlite-wal"

    def started() -> bool:
        for folder in folders:
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
                if any(e.name.endswith(".tmp") for e in entries):
                    return True
        with contextlib.suppress(FileNotFoundError):
            return wal.stat().st_size > 0
        return False

    return started


def _temps(project: Path) -> list[str]:
    return sorted(p.relative_to(project).as_posix() for p in project.rglob("*.tmp"))


def _db_state(project: Path) -> tuple[tuple[int, int], list[int]]:
    """((runs, checks), the number of checks of each run), after an integrity check."""
    con = sqlite3.connect(project / "db" / "monitor.sqlite")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = int(con.execute("SELECT count(*) FROM run").fetchone()[0])
        checks = int(con.execute('SELECT count(*) FROM "check"').fetchone()[0])
        per_run = [
            int(n)
            for (n,) in con.execute(
                'SELECT count(c.id) FROM run r LEFT JOIN "check" c ON c.run_id = r.id '
                "GROUP BY r.id ORDER BY r.id"
            )
        ]
        return (runs, checks), per_run
    finally:
        con.close()


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    z = Zygote()
    try:
        yield z
    finally:
        z.close()


@pytest.fixture(scope="module")
def site_server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    # A killed check leaves connections reset mid-answer: expected here, not worth a traceback.
    srv.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    srv.start()
    try:
        _routes(srv)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, site_server: LoopbackServer, zygote: Zygote
) -> Path:
    project = tmp_path_factory.mktemp("kill") / "template"
    project.mkdir()
    (project / "resources.toml").write_text(_catalog(site_server), encoding="utf-8")
    (project / "README.md").write_text(_readme(site_server), encoding="utf-8")
    (project / "roadmap.md").write_text(_roadmap(site_server), encoding="utf-8")
    half = [
        '[settings]\nlocale = "en"\n',
        '[[sections]]\nid = "items"\ntitle = "Items"\n',
    ] + [
        f'[[resources]]\nurl = "{site_server.url(f"/item{i}")}"\nlabel = "Item {i}"\n'
        'section = "items"\n'
        for i in range(0, 60, 2)
    ]
    (project / "import.toml").write_text("\n".join(half), encoding="utf-8")
    _history(project)
    # The site as an older report left it: every page exists, with other bytes.
    code, _, output = zygote.run(
        [*REPORT, "--now", "2026-11-20T12:00:00+0000"],
        project,
    )
    assert code == 0, output
    for command in COMMANDS:  # the reference: an uninterrupted run on a copy
        ref = project.parent / f"ref-{command.name}"
        shutil.copytree(project, ref)
        command.ref_code, command.seconds, output = zygote.run(command.args, ref)
        assert command.ref_code in (0, 1), output
        command.reference = _files(ref)
        command.ref_counts = _db_state(ref)[0]
        assert _temps(ref) == []
    return project


@dataclass
class Tally:
    kills: int = 0
    finished_anyway: int = 0
    new_files_after_kill: int = 0
    temps_left_by_kill: int = 0
    runs_committed_before_kill: int = 0  # check: its run; prune: its thinning
    seconds: float = 0.0


def _trial(
    command: Command, template: Path, zygote: Zygote, rng: random.Random, tally: Tally, n: int
) -> None:
    live = template.parent / f"live-{command.name}-{n}"
    shutil.copytree(template, live)
    old_files = _files(template)
    (old_counts, old_per_run) = _db_state(template)
    if n % 2:  # any moment of the run
        delay, once, when = rng.uniform(0.0, command.seconds), None, "after"
    else:  # a moment of its writing: up to WRITING_S after its first temp file or DB write
        delay, once, when = rng.uniform(0.0, WRITING_S), _writing(live), "writing, then"
    code, elapsed, output = zygote.run(command.args, live, kill_after=delay, once=once)
    if os.environ.get("KILL_DEBUG"):
        print(command.name, f"{command.seconds:.2f} {when} {delay:.3f} {code} {elapsed:.2f}")
    if code != -signal.SIGKILL:  # it finished first: not a kill, try another moment
        assert code == command.ref_code, output
        command.seconds = min(command.seconds, elapsed)
        tally.finished_anyway += 1
        shutil.rmtree(live)
        return
    tally.kills += 1
    where = f"{command.name} killed {when} {delay:.3f} s (seed {SEED}, trial {n})"

    # The database: intact, and no partial run.
    counts, per_run = _db_state(live)
    if command.name == "prune":  # one transaction: all of it or nothing
        assert counts in (old_counts, command.ref_counts), where
        tally.runs_committed_before_kill += counts != old_counts
    elif command.name == "check":  # its run whole, or not at all
        assert counts in (old_counts, (old_counts[0] + 1, old_counts[1] + PAGES + 2)), where
        assert set(per_run) == {PAGES + 2}, where  # every run has all of its checks
        tally.runs_committed_before_kill += counts != old_counts
    else:
        assert (counts, per_run) == (old_counts, old_per_run), where
    # Every output file: the old bytes or the complete new bytes.
    temps = _temps(live)
    tally.temps_left_by_kill += len(temps)
    now_files = {k: v for k, v in _files(live).items() if not k.endswith(".tmp")}
    assert set(now_files) == set(old_files), where
    for name, data in now_files.items():
        assert data in (old_files[name], command.reference[name]), f"{where}: {name} is torn"
        tally.new_files_after_kill += data != old_files[name]

    # The next start finishes the job and leaves no temporary file.
    code, elapsed, output = zygote.run(command.args, live)
    command.seconds = min(command.seconds, elapsed)  # the first run was the coldest
    assert code == command.ref_code, f"{where}; rerun: {output}"
    assert _temps(live) == [], where
    assert _files(live) == command.reference, where
    counts, per_run = _db_state(live)
    if command.name == "check":
        assert counts[0] in (old_counts[0] + 1, old_counts[0] + 2), where
        assert set(per_run) == {PAGES + 2}, where
    else:
        assert counts == command.ref_counts, where
    shutil.rmtree(live)


def test_kill_9_at_random_moments(template: Path, zygote: Zygote) -> None:
    rng = random.Random(SEED)
    tallies = {c.name: Tally() for c in COMMANDS}
    started = time.monotonic()
    for command in COMMANDS:
        tally = tallies[command.name]
        began = time.monotonic()
        attempts = 0
        while tally.kills < KILLS_PER_COMMAND:
            attempts += 1
            assert attempts <= 4 * KILLS_PER_COMMAND, f"{command.name}: the kills keep missing"
            _trial(command, template, zygote, rng, tally, attempts)
        tally.seconds = time.monotonic() - began
    total = sum(t.kills for t in tallies.values())
    assert total >= 20
    summary = [
        f"{name}: {t.kills} kills ({t.finished_anyway} finished first), "
        f"{t.new_files_after_kill} new files, {t.temps_left_by_kill} temp files, "
        f"{t.runs_committed_before_kill} committed before the kill, {t.seconds:.1f} s"
        for name, t in tallies.items()
    ]
    print(f"\nkill matrix, seed {SEED}: {total} kills in {time.monotonic() - started:.1f} s")
    print("\n".join(summary))
