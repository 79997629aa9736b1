"""`monitor prune`: thin old checks (monitor/retention.py) so the database stays small."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from monitor.store.database import Store


def _file_size(store: Store) -> int | None:
    from sqlalchemy.engine import make_url

    url = make_url(str(store.engine.url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    if not path.exists():
        return None
    wal = path.with_name(path.name + "-wal")  # pages not yet checkpointed count too
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def prune(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            help="Thin checks older than DAYS \\[default: settings.retention_days, 90].",
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
    """Thin checks older than the retention age to one per resource per day.

    Kept: each day's latest usable check, every change of verdict, and always the newest
    check of every resource; kept old checks keep only summary metadata. Runs left
    without checks are removed. All in one transaction.

    Examples:

        monitor prune

        monitor prune --older-than 30 --dry-run
    """
    from monitor.store.retention import prune as prune_store

    cat = load_or_exit(catalog)
    days = older_than if older_than is not None else cat.settings.retention_days
    if days < 1:
        raise fail("--older-than must be at least 1 day")
    with open_store(db, catalog=catalog) as store:
        size_before = _file_size(store)
        report = prune_store(store, days, dry_run=dry_run)
        if do_vacuum and not dry_run:
            store.vacuum()
        size_after = _file_size(store)
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"checks older than {report.cutoff:%Y-%m-%d %H:%M} UTC: {verb} "
        f"{report.checks_deleted} of {report.checks_before} checks and "
        f"{report.runs_deleted} of {report.runs_before} runs; "
        f"{report.compacted} kept checks compacted"
    )
    if size_before is not None and size_after is not None and not dry_run:
        console.print(f"database file: {size_before:,} → {size_after:,} bytes")


def register(app: typer.Typer) -> None:
    app.command(name="prune")(prune)
