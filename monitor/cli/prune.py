"""`monitor prune`: thin old checks (monitor/retention.py) so the database stays small."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import (
    DEFAULT_CATALOG,
    CatalogOption,
    DbOption,
    console,
    fail,
    load_or_exit,
    open_store,
)


def prune(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            help="Keep every check younger than DAYS; thin older ones "
            "\\[default: settings.retention_days, 90].",
            metavar="DAYS",
            show_default=False,
        ),
    ] = None,
    weekly_after: Annotated[
        int | None,
        typer.Option(
            "--weekly-after",
            help="Keep one check a week when older than DAYS "
            "\\[default: settings.retention_weekly_after_days, 365].",
            metavar="DAYS",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--no-dry-run", help="Count what would go; change nothing.")
    ] = False,
    do_vacuum: Annotated[
        bool,
        typer.Option("--vacuum/--no-vacuum", help="Shrink the SQLite file afterwards."),
    ] = True,
) -> None:
    """Thin the history in tiers: every check of the last `retention_days`, one per
    resource per day before that, one per week beyond `retention_weekly_after_days`.

    Kept in the thinned tiers: each day's (or week's) latest usable check, every change of
    verdict, and always the newest check of every resource; kept old checks keep only
    summary metadata. Runs left without checks are removed. All in one transaction; then
    the file is compacted (SQLite VACUUM) and checkpointed, and its size reported.

    Examples:

        monitor prune

        monitor prune --older-than 30 --weekly-after 180 --dry-run
    """
    from monitor.store.retention import prune as prune_store

    cat = load_or_exit(catalog)
    days = older_than if older_than is not None else cat.settings.retention_days
    weekly = weekly_after if weekly_after is not None else cat.settings.retention_weekly_after_days
    if days < 1:
        raise fail("--older-than must be at least 1 day")
    if weekly < days:
        raise fail(
            f"--weekly-after ({weekly}) must be at least --older-than ({days}): checks are "
            "thinned to one a day before they are thinned to one a week"
        )
    with open_store(db, catalog=catalog) as store:
        size_before = store.size()
        report = prune_store(store, days, weekly_after_days=weekly, dry_run=dry_run)
        if do_vacuum and not dry_run:
            store.vacuum()
        else:
            store.checkpoint()
        size_after = store.size()
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"checks older than {report.cutoff:%Y-%m-%d %H:%M} UTC: {verb} "
        f"{report.checks_deleted} of {report.checks_before} checks and "
        f"{report.runs_deleted} of {report.runs_before} runs; "
        f"{report.compacted} kept checks compacted"
    )
    if size_before is not None and size_after is not None:
        sqlite = store.engine.dialect.name == "sqlite"
        what = "database file" if sqlite else "database size"
        sizes = f"{size_after:,}" if dry_run else f"{size_before:,} → {size_after:,}"
        console.print(f"{what}: {sizes} bytes" + (" after the final checkpoint" if sqlite else ""))


def register(app: typer.Typer) -> None:
    app.command(name="prune")(prune)
