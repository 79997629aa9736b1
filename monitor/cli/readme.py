"""`monitor readme`: regenerate the README tables between `monitor` markers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import (
    DEFAULT_CATALOG,
    EXIT_PROBLEMS,
    CatalogOption,
    DbOption,
    console,
    fail,
    load_or_exit,
    open_store,
)
from monitor.domain.models import utcnow


def readme(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    path: Annotated[
        Path | None,
        typer.Option("--readme", help="The README to rewrite \\[default: settings.readme]."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check", help="Write nothing; exit 1 and print a diff when stale."
        ),
    ] = False,
) -> None:
    """Rewrite what lies between `<!-- monitor:begin section=ID -->` and `<!-- monitor:end -->`.

    A block is a generated table, or with `mode=list` in the begin marker the author's own
    bullet list, where each item keeps every byte and gets only a generated suffix between
    `<!--monitor-->` and `<!--/monitor-->` (its status, duration and stars, as
    `[settings] list_suffix` says). Everything outside the markers stays byte for byte; with
    no new data nothing changes. A README without markers exits 1 and nothing is written.
    Unknown, nested or unbalanced markers are an error (exit 2) and the file is untouched.

    Examples:

        monitor readme

        monitor readme --check

        monitor readme --catalog list.toml --readme docs/LIST.md
    """
    from monitor.reports.context import load_context
    from monitor.reports.readme import ReadmeError, diff, read_text, update_readme
    from monitor.sources.markers import find_blocks

    cat = load_or_exit(catalog)
    target = path or cat.readme_path
    # Markers first, before the database is opened (or created): a README without them
    # is a mistake to report, not a file that is "up to date".
    try:
        blocks = (
            find_blocks(read_text(target), target, {s.id for s in cat.sections})
            if target.exists()
            else None  # reported below, after the database
        )
    except ReadmeError as exc:
        raise fail(str(exc)) from None
    if blocks == []:
        raise fail(
            f"{target}: no <!-- monitor:begin section=ID --> markers, so nothing to "
            "regenerate; `monitor init` adds them (tables or annotated lists)",
            EXIT_PROBLEMS,
        )
    with open_store(db, reads_only="readme", catalog=catalog) as store:
        # The README holds no clock, so `now` only matters for uptime, which it does not show.
        # Only the latest states: no uptime windows, response times or change details.
        now = utcnow()
        snap = store.snapshot(now, down_after=cat.settings.down_after, full=False)
    ctx = load_context(cat, snap, now)
    try:
        old, new = update_readme(
            target, ctx, write=not check, parts=tuple(cat.settings.list_suffix)
        )
    except ReadmeError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc}") from None
    if old == new:
        console.print(f"{target} is up to date")
        return
    if check:
        typer.echo(diff(old, new, str(target)), nl=False)
        console.print(f"{target} is stale: run `monitor readme`", style="bold yellow")
        raise typer.Exit(EXIT_PROBLEMS)
    console.print(f"updated {target}")


def register(app: typer.Typer) -> None:
    app.command(name="readme")(readme)
