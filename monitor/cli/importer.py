"""`monitor import ROADMAP.md`: build or update the catalog from a roadmap."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import DEFAULT_CATALOG, CatalogOption, console, fail
from monitor.config.catalog import CatalogError
from monitor.files import write_text_atomic
from monitor.sources.importer import ImportResult, import_roadmap, record_source


def import_(
    roadmap: Annotated[
        Path, typer.Argument(help="The roadmap or awesome list (Markdown, HTML or a URL list).")
    ],
    catalog: CatalogOption = DEFAULT_CATALOG,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run/--no-dry-run", help="Show the changes as a diff; write nothing."),
    ] = False,
) -> None:
    """Build or update the catalog from the links of a roadmap.

    Each link's heading path becomes its section ("Other" under "Web" and "Other" under
    "CLI" are two sections); a URL listed under several headings gets a row in each. A
    link already in the catalog keeps every field you set. New links are inserted where
    the roadmap has them; entries whose link left the roadmap are kept and listed. A
    secondary link of a list item is labelled by the item's main link ("Nextcloud — Demo").
    When the roadmap has `<!-- monitor:begin -->` markers (outside code blocks), only the
    links between them count. A new catalog's locale is detected from the roadmap's text.
    The roadmap's path, relative to the catalog, is kept in `[settings] readme`: its
    relative links resolve against its folder wherever later commands run from.

    Examples:

        monitor import README.md

        monitor import awesome-list.md --catalog awesome.toml

        monitor import README.md --dry-run
    """
    try:
        text = roadmap.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{roadmap}: cannot read the roadmap: {exc}") from None
    try:
        old = catalog.read_text(encoding="utf-8") if catalog.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{catalog}: cannot read: {exc}") from None
    try:
        result = import_roadmap(text, str(roadmap), old, catalog)
        result = record_source(result, old, roadmap, catalog)
    except CatalogError as exc:
        raise fail(str(exc)) from None
    _print_report(result, roadmap, catalog)
    if dry_run:
        diff = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            result.text.splitlines(keepends=True),
            fromfile=str(catalog),
            tofile=f"{catalog} (after import)",
        )
        _say("".join(diff) or "no change\n", end="")
        return
    if result.changed:
        write_text_atomic(catalog, result.text)
        _say(f"wrote {catalog}")
    else:
        _say(f"{catalog} is up to date")


def _say(text: str, style: str | None = None, end: str = "\n") -> None:
    # Labels and URLs come from the roadmap: printed as plain text, never as Rich markup,
    # and never wrapped (a URL cut in two cannot be copied).
    console.print(text, markup=False, soft_wrap=True, style=style, end=end)


def _print_report(result: ImportResult, roadmap: Path, catalog: Path) -> None:
    _say(f"{result.links} links in {roadmap}")
    for section in result.new_sections:
        _say(f"  new section {section.id}: {section.title}")
    for entry in result.added:
        _say(f"  added {entry.id} ({entry.kind.value}) at {roadmap}:{entry.line}: {entry.url}")
    if result.unlined:
        _say(
            f"  dropped the stored line number of {result.unlined} entries "
            "(locations are computed from the roadmap when shown)"
        )
    for skip in result.skipped:
        _say(f"  skipped {roadmap}:{skip.link.line}: {skip.reason}")
    if result.anchors or result.duplicates:
        _say(
            f"  ignored {result.anchors} same-page anchors, "
            f"{result.duplicates} URLs repeated within a section"
        )
    if result.missing:
        n = len(result.missing)
        _say(
            f"{n} {'entry' if n == 1 else 'entries'} of {catalog} no longer in the roadmap "
            "(kept; remove by hand if they should go):",
            style="yellow",
        )
        for kept in result.missing:
            _say(f"  {kept.id}: {kept.url}")


def register(app: typer.Typer) -> None:
    app.command(name="import")(import_)
