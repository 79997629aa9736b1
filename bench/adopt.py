"""Times `monitor init --mode list` and `monitor readme` on a generated 3,000-link awesome list.

    python bench/adopt.py [--links 3000] [--sections 60]

The list is shaped like awesome-selfhosted: sections of bullet items with a description,
secondary links (Demo, Source Code), repeated "Other" headings and a URL under two headings.
The history is filled with one synthetic run (every verdict appears), so `readme` writes a
suffix on every item; nothing touches the network. Prints the wall times of `init`, of the
first `readme` and of the second (a no-op).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config.catalog import load_catalog
from monitor.domain.models import CheckResult, Metadata, Run, Verdict

VERDICTS = [Verdict.OK] * 17 + [Verdict.BROKEN, Verdict.MOVED, Verdict.BLOCKED]


def awesome(links: int, sections: int) -> str:
    lines = ["# Awesome Generated", "", "A curated list of things that are worth your time.", ""]
    per = max(links // sections, 1)
    n = 0
    for s in range(sections):
        chapter = s // 5
        if s % 5 == 0:
            lines += [f"## Chapter {chapter}", ""]
        title = "Other" if s % 5 == 4 else f"Topic {s}"
        lines += [f"### {title}", ""]
        i = 0
        while i < per and n < links:
            if i % 3 == 0 and n + 3 <= links:
                lines.append(
                    f"- [Project {n}](https://p{n % 97}.example.org/{n}) - Does thing {n} well. "
                    f"([Demo](https://demo.example.org/{n}), "
                    f"[Source Code](https://github.com/owner{n % 50}/project{n})) `MIT` `Go`"
                )
                n += 3
                i += 3
            else:
                lines.append(f"- [Tool {n}](https://t{n % 89}.example.net/{n}) - A tool.")
                n += 1
                i += 1
        lines.append("")
    lines += ["## Also", "", "- [Project 0](https://p0.example.org/0) - listed twice.", ""]
    return "\n".join(lines)


def fill(db: Path, catalog_path: Path) -> None:
    from monitor.store.database import Store

    catalog = load_catalog(catalog_path)
    at = datetime.now(UTC) - timedelta(hours=1)
    results = []
    for i, r in enumerate(catalog.resources):
        verdict = VERDICTS[i % len(VERDICTS)]
        meta = (
            Metadata(stars=1200 + i)
            if "github.com" in r.url and verdict is Verdict.OK
            else Metadata()
        )
        results.append(CheckResult(r.id, r.url, verdict, status=200, meta=meta, checked_at=at))
    with Store.open(db) as store:
        store.record_run(
            Run(None, at, at + timedelta(seconds=60)), results, list(catalog.resources)
        )


def timed(args: list[str], cwd: Path) -> str:
    """Wall and CPU (user + system) seconds of one command: CPU is what a busy machine
    does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return f"{elapsed:.2f} s ({cpu:.2f} s CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--links", type=int, default=3000)
    parser.add_argument("--sections", type=int, default=60)
    ns = parser.parse_args()
    monitor = str(Path(sys.executable).parent / "monitor")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "README.md").write_text(awesome(ns.links, ns.sections), encoding="utf-8")
        env_db = root / "db" / "monitor.sqlite"
        os.environ.pop("MONITOR_DATABASE_URL", None)
        t_init = timed([monitor, "init", "--mode", "list"], root)
        catalog = load_catalog(root / "resources.toml")
        env_db.parent.mkdir(exist_ok=True)
        fill(env_db, root / "resources.toml")
        t_first = timed([monitor, "readme"], root)
        first = (root / "README.md").read_bytes()
        t_second = timed([monitor, "readme"], root)
        assert (root / "README.md").read_bytes() == first
        suffixes = first.decode().count("<!--monitor-->")
        t_reinit = timed([monitor, "init", "--mode", "list"], root)
        print(
            f"{len(catalog.resources)} catalog rows, {len(catalog.sections)} sections, "
            f"{suffixes} item suffixes\n"
            f"init {t_init}, readme {t_first}, readme again (no-op) {t_second}, "
            f"init again (no-op) {t_reinit}; load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
