"""`monitor fix`: apply moved links to the catalog and README; suggest archived copies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from monitor.cli.common import (
    DEFAULT_CATALOG,
    CatalogOption,
    DbOption,
    console,
    err_console,
    fail,
    load_or_exit,
    open_store,
)
from monitor.config.catalog import Catalog
from monitor.domain.models import Resource
from monitor.domain.text import inert
from monitor.files import clean_stale_temps, write_text_atomic
from monitor.net.engine import HttpEngine
from monitor.run.fix import (
    WAYBACK_API,
    Refusal,
    Snapshot,
    apply_to_catalog,
    apply_to_markdown,
    broken_resources,
    moves_from_store,
    unfinished_moves,
    unified_diff,
    wayback_snapshot,
)


def fix(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    yes: Annotated[
        bool,
        typer.Option("--yes/--no-yes", "-y", help="Write the changes (otherwise only show them)."),
    ] = False,
    wayback: Annotated[
        bool,
        typer.Option(
            "--wayback/--no-wayback", help="Suggest Wayback Machine copies of broken links."
        ),
    ] = True,
    wayback_api: Annotated[
        str,
        typer.Option(
            envvar="MONITOR_WAYBACK_API",
            help="The archive.org availability API endpoint.",
        ),
    ] = WAYBACK_API,
) -> None:
    """Apply `moved` verdicts to resources.toml and the README links, shown as a diff first.

    A link moves when its newest check found a permanent redirect (or a renamed repository).
    Its catalog entry keeps its id; only the URL changes, in the catalog and in every
    Markdown link of the README. For broken links, the latest Wayback Machine snapshot is
    printed as a suggestion, never applied. The catalog is written first, then the README;
    after an interrupted `--yes`, a rerun completes it (README links that moved to the URL
    the catalog now holds are rewritten too).

    Examples:

        monitor fix            # show the diff and the suggestions

        monitor fix --yes      # write them

        monitor fix --no-wayback
    """
    cat = load_or_exit(catalog)
    files = [(cat.path, apply_to_catalog), (cat.readme_path, apply_to_markdown)]
    texts = {path: path.read_text(encoding="utf-8") for path, _ in files if path.exists()}
    with open_store(db, reads_only="fix", catalog=catalog) as store:
        refused: list[Refusal] = []
        # Moves a killed `fix --yes` wrote to the catalog but not yet to the README come
        # first, so a move of the new URL (a second move) applies after them.
        readme_text = texts.get(cat.readme_path, "")
        unfinished = unfinished_moves(store, cat.resources, readme_text, cat.readme_path.name)
        moves = unfinished + moves_from_store(store, cat.resources, refused)
        broken = broken_resources(store, cat.resources) if wayback else []
    changed: list[tuple[Path, str]] = []
    for path, apply in files:
        if path in texts and (after := apply(texts[path], moves)) != texts[path]:
            typer.echo(unified_diff(path, texts[path], after), nl=False)  # raw, never re-wrapped
            changed.append((path, after))
    _print_refusals(refused)
    if unfinished and changed:
        console.print(
            f"{len(unfinished)} move(s) already in {cat.path.name} but not yet in "
            f"{cat.readme_path.name} (an interrupted `fix --yes`): completing them"
        )
    if not changed:
        console.print("no moved links to apply")
    if broken:
        _print_suggestions(asyncio.run(_snapshots(cat, broken, wayback_api)))
    if yes:  # what a killed earlier `fix --yes` left beside the files goes, changed or not
        for path in texts:
            clean_stale_temps(path)
    if not changed:
        return
    if not yes:
        console.print(f"{len(moves)} moved link(s) shown above; run with --yes to write them")
        return
    try:
        for path, text in changed:
            write_text_atomic(path, text)
    except OSError as exc:
        raise fail(f"cannot write: {exc}") from None
    console.print(f"updated {', '.join(str(p) for p, _ in changed)}")


def _print_refusals(refused: list[Refusal]) -> None:
    for refusal in refused:
        err_console.print(
            f"refused to write the new address of {inert(refusal.resource_id, 120)}: "
            f"{inert(refusal.new_url, 200)} ({inert(refusal.reason)})",
            markup=False,
            soft_wrap=True,
        )


async def _snapshots(cat: Catalog, broken: list[Resource], api: str) -> list[Snapshot]:
    async with HttpEngine(cat.engine, cat.hosts) as http:
        return list(await asyncio.gather(*(wayback_snapshot(http, r, api) for r in broken)))


def _print_suggestions(snapshots: list[Snapshot]) -> None:
    console.print("\n[bold]Suggestions for broken links (not applied):[/]")
    for snap in snapshots:
        if snap.snapshot_url:
            console.print(
                f"  {escape(snap.resource_id)}: {escape(snap.url)} is broken; archived copy "
                f"from {snap.date or 'an unknown date'}: {escape(snap.snapshot_url)}",
                soft_wrap=True,
            )
        elif snap.error:
            err_console.print(f"  {escape(snap.resource_id)}: {escape(snap.error)}")
        else:
            console.print(f"  {escape(snap.resource_id)}: no archived copy of {escape(snap.url)}")


def register(app: typer.Typer) -> None:
    app.command(name="fix")(fix)
