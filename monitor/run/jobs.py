"""The scheduled jobs' bodies: check (everything, or what is failing), record, publish.

Library functions, not the CLI: `monitor schedule` wires them into `monitor.run.scheduler`. Each
run reloads the catalog, so edits to `resources.toml` apply from the next run on. A stop
request cancels the checks and the run is not recorded (abandoned, never half-written).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from monitor.config.catalog import Catalog, load_catalog
from monitor.domain.models import utcnow
from monitor.files import write_if_changed
from monitor.reports.context import load_context
from monitor.reports.html import write_site
from monitor.reports.markdown import render_status_md
from monitor.reports.readme import ReadmeError, update_readme
from monitor.run.session import Abandoned, Plan, Setup, run_session, select_failing
from monitor.store.database import Store, beside_catalog

# Run after a recorded run (`publish`: reports, README): (catalog, store) -> summary.
AfterHook = Callable[[Catalog, Store], str]


def publish(cat: Catalog, store: Store) -> str:
    """Status page, status.md and README tables from the store, beside the catalog."""
    now = utcnow()
    ctx = load_context(cat, store.snapshot(now, down_after=cat.settings.down_after), now)
    written = write_site(ctx, cat.base_dir / "site")
    status_md = render_status_md(ctx, clock=False).encode("utf-8")
    if write_if_changed(cat.base_dir / "status.md", status_md):
        written.append(cat.base_dir / "status.md")
    try:
        old, new = update_readme(
            cat.readme_path, ctx, write=True, parts=tuple(cat.settings.list_suffix)
        )
    except (ReadmeError, OSError) as exc:
        return f"{len(written)} report file(s) written; README left alone: {exc}"
    readme = "README updated" if old != new else "README unchanged"
    return f"{len(written)} report file(s) written, {readme}"


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
    with Store.open(beside_catalog(db, catalog_path)) as store:
        resources = (
            select_failing(store.all_history(), cat.resources, cat.settings.down_after)
            if only_failing
            else cat.resources
        )
        if not resources:
            return "nothing to check"
        try:
            checking = {r.id for r in resources}
            plan = Plan(
                resources,
                trigger=trigger,
                known_good=[r for r in cat.resources if r.id not in checking],
            )
            done = run_session(plan, Setup.of_catalog(cat), store, stop=stop)
        except Abandoned:
            return "abandoned on shutdown, nothing recorded"
        counts = Counter(r.verdict.value for r in done.results)
        summary = f"{len(done.results)} checked (" + ", ".join(
            f"{n} {v}" for v, n in sorted(counts.items())
        )
        summary += ")" if done.run.network_ok else "), network unusable"
        for hook in after:
            if stop.is_set():
                break
            summary += f"; {hook(cat, store)}"
    return summary
