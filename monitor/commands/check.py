"""`monitor check`: check every resource of the catalog and store the run."""

from __future__ import annotations

import asyncio
from collections import Counter

import typer
from rich.table import Table

from monitor.checkers import CheckContext
from monitor.commands.common import (
    DEFAULT_CATALOG,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_PROBLEMS,
    CatalogOption,
    DbOption,
    console,
    err_console,
    load_or_exit,
    open_store,
)
from monitor.http import HttpEngine
from monitor.models import Verdict
from monitor.pipeline import Outcome, run_checks

# Problems first in every listing.
VERDICT_ORDER = [Verdict.BROKEN, Verdict.MOVED, Verdict.BLOCKED, Verdict.ERROR]
VERDICT_ORDER += [Verdict.SKIPPED, Verdict.OK]


def check(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
) -> None:
    """Check every resource of the catalog and store the results as one run.

    Examples:

        monitor check

        monitor check --catalog my-list.toml --db sqlite:///tmp/history.sqlite

    Exit codes: 0 healthy, 1 broken links found, 2 configuration error,
    3 the network itself was unusable (no link is called broken then).
    """
    cat = load_or_exit(catalog)
    with open_store(db) as store:
        previous = {
            r.id: latest for r in cat.resources if (latest := store.latest(r.id, usable_only=True))
        }

        async def go() -> Outcome:
            async with HttpEngine(cat.engine, cat.hosts) as http:
                ctx = CheckContext(
                    http=http,
                    base_dir=cat.base_dir,
                    youtube=cat.youtube,
                    github=cat.github,
                    previous=previous,
                )
                return await run_checks(cat.resources, ctx)

        outcome = asyncio.run(go())
        store.record_run(outcome.run, outcome.results, cat.resources)
    _print_summary(outcome)
    if not outcome.run.network_ok:
        err_console.print(
            "[bold yellow]network unusable:[/] nearly every host failed at DNS or connect "
            "level; this run is recorded but no link is reported broken."
        )
        raise typer.Exit(EXIT_NETWORK)
    broken = any(r.verdict is Verdict.BROKEN for r in outcome.results)
    raise typer.Exit(EXIT_PROBLEMS if broken else EXIT_OK)


def _print_summary(outcome: Outcome) -> None:
    table = Table(title="monitor check", show_lines=False)
    table.add_column("verdict")
    table.add_column("resource")
    table.add_column("detail")
    order = {v: i for i, v in enumerate(VERDICT_ORDER)}
    for result in sorted(outcome.results, key=lambda r: (order[r.verdict], r.resource_id)):
        detail = result.error or result.note or (str(result.status) if result.status else "")
        table.add_row(result.verdict.value, result.url, detail)
    console.print(table)
    counts = Counter(r.verdict for r in outcome.results)
    console.print(", ".join(f"{counts[v]} {v.value}" for v in VERDICT_ORDER if counts[v]))


def register(app: typer.Typer) -> None:
    app.command(name="check")(check)
