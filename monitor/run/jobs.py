"""The scheduled jobs' bodies: check (everything, or what is failing), record, publish.

Library functions, not the CLI: `monitor schedule` wires them into `monitor.run.scheduler`. Each
run reloads the catalog, so edits to `resources.toml` apply from the next run on. A stop
request cancels the checks and the run is not recorded (abandoned, never half-written).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from monitor.checkers import CheckContext
from monitor.config.catalog import Catalog, load_catalog
from monitor.domain.models import Resource, utcnow
from monitor.files import write_if_changed
from monitor.net.engine import HttpEngine
from monitor.reports.context import load_context
from monitor.reports.html import write_site
from monitor.reports.markdown import render_status_md
from monitor.reports.readme import ReadmeError, update_readme
from monitor.run.pipeline import Outcome, run_checks
from monitor.store.database import Store
from monitor.store.queries import failure_streaks, load_snapshot

# Run after a recorded run (`publish`: reports, README): (catalog, store) -> summary.
AfterHook = Callable[[Catalog, Store], str]
_POLL_S = 0.2


def failing_resources(
    store: Store, resources: Sequence[Resource], down_after: int = 2
) -> list[Resource]:
    """Resources whose latest usable checks failed (a failure streak, `monitor.domain.state`):
    re-checked soon to confirm them as down, or to clear them."""
    with store.engine.connect() as conn:
        streaks = failure_streaks(conn, [r.id for r in resources])
    return [r for r in resources if not r.skip and streaks.get(r.id, 0) > 0]


def publish(cat: Catalog, store: Store) -> str:
    """Status page, status.md and README tables from the store, beside the catalog."""
    now = utcnow()
    ctx = load_context(cat, load_snapshot(store, now, down_after=cat.settings.down_after), now)
    written = write_site(ctx, cat.base_dir / "site")
    if write_if_changed(cat.base_dir / "status.md", render_status_md(ctx).encode("utf-8")):
        written.append(cat.base_dir / "status.md")
    try:
        old, new = update_readme(cat.readme_path, ctx, write=True)
    except (ReadmeError, OSError) as exc:
        return f"{len(written)} report file(s) written; README left alone: {exc}"
    readme = "README updated" if old != new else "README unchanged"
    return f"{len(written)} report file(s) written, {readme}"


async def _checks_or_abandon(
    cat: Catalog, store: Store, resources: Sequence[Resource], stop: threading.Event, trigger: str
) -> Outcome | None:
    previous = {r.id: latest for r in resources if (latest := store.latest(r.id, usable_only=True))}
    async with HttpEngine(cat.engine, cat.hosts) as http:
        ctx = CheckContext(
            http=http,
            base_dir=cat.base_dir,
            youtube=cat.youtube,
            github=cat.github,
            previous=previous,
        )
        task = asyncio.create_task(run_checks(resources, ctx, trigger=trigger))
        while not task.done():
            if stop.is_set():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            await asyncio.wait({task}, timeout=_POLL_S)
        return task.result()


def check_and_record(
    catalog_path: Path,
    db: str | None,
    stop: threading.Event,
    *,
    only_failing: bool = False,
    after: Sequence[AfterHook] = (),
) -> str:
    """One scheduled run; returns the log line's summary."""
    cat = load_catalog(catalog_path)
    trigger = "schedule-failing" if only_failing else "schedule"
    with Store.open(db) as store:
        resources = (
            failing_resources(store, cat.resources, cat.settings.down_after)
            if only_failing
            else cat.resources
        )
        if not resources:
            return "nothing to check"
        outcome = asyncio.run(_checks_or_abandon(cat, store, resources, stop, trigger))
        if outcome is None or stop.is_set():
            return "abandoned on shutdown, nothing recorded"
        store.record_run(outcome.run, outcome.results, resources)
        counts = Counter(r.verdict.value for r in outcome.results)
        summary = f"{len(outcome.results)} checked (" + ", ".join(
            f"{n} {v}" for v, n in sorted(counts.items())
        )
        summary += ")" if outcome.run.network_ok else "), network unusable"
        for hook in after:
            if stop.is_set():
                break
            summary += f"; {hook(cat, store)}"
    return summary
