"""`monitor init`: adopt monitor in the repository of any curated list."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import DEFAULT_CATALOG, CatalogOption, console, fail


class LocaleChoice(StrEnum):
    AUTO = "auto"
    EN = "en"
    PT_BR = "pt-BR"


class ModeChoice(StrEnum):
    LIST = "list"
    TABLE = "table"


def init(
    readme: Annotated[
        Path, typer.Argument(help="The list to monitor (Markdown).", show_default=True)
    ] = Path("README.md"),
    catalog: CatalogOption = DEFAULT_CATALOG,
    mode: Annotated[
        ModeChoice,
        typer.Option(
            "--mode",
            help="list: keep your bullet lists and add a status suffix to each item; "
            "table: replace each section's lists with a generated table.",
        ),
    ] = ModeChoice.LIST,
    locale: Annotated[
        LocaleChoice,
        typer.Option(
            "--locale", help="Language of the generated text; auto detects it from the list."
        ),
    ] = LocaleChoice.AUTO,
    pages: Annotated[
        bool,
        typer.Option(
            "--pages/--no-pages",
            help="Also publish the status page with GitHub Pages from the workflow.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--no-dry-run", help="Say what would change; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force/--no-force",
            help="With --mode table: make tables even of lists with items that have no link "
            "monitor checks (a table has no row for them: they are dropped).",
        ),
    ] = False,
) -> None:
    """Set up monitor for a list: markers in the README, the catalog, a nightly workflow.

    Wraps each bullet list that holds links in `<!-- monitor:begin section=ID mode=list -->`
    ... `<!-- monitor:end -->` (nothing inside is changed; code blocks are never touched),
    writes the catalog from the links between the markers, writes
    .github/workflows/monitor.yml (it uses the reusable action) and adds db/, site/ and
    *.sqlite.lock to .gitignore. With `--mode table` an item's words beside its link are kept
    in the catalog (`description`) and shown in the table. Only what is missing is added:
    running it again changes nothing.

    Examples:

        monitor init

        monitor init docs/LIST.md --mode table --locale en

        monitor init --pages --dry-run
    """
    from monitor.cli.app import _version
    from monitor.sources.adopt import InitError, init_repository
    from monitor.sources.markers import Mode

    root = Path.cwd()
    try:
        result = init_repository(
            root,
            readme,
            catalog,
            Mode(mode.value),
            None if locale is LocaleChoice.AUTO else locale.value,
            _version(),
            pages=pages,
            dry_run=dry_run,
            force=force,
        )
    except InitError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write: {exc}") from None
    imported = result.imported

    def say(text: str = "") -> None:
        console.print(text, markup=False, soft_wrap=True, highlight=False)

    say(f"{readme}: {result.blocks} marked blocks ({result.wrapped} added now, mode {mode.value})")
    say(
        f"{catalog}: {len(imported.added)} links added, {len(imported.new_sections)} sections "
        f"new, locale {result.locale}"
    )
    described = sum(1 for entry in imported.added if entry.description)
    if described:
        say(
            f"  descriptions (an item's words beside its link) kept in {catalog} for the "
            f"table's Description column: {described}"
        )
    for skip in imported.skipped:
        say(f"  skipped {readme}:{skip.link.line}: {skip.reason}")
    if dry_run:
        say("dry run: nothing written")
        return
    for path in result.written:
        say(f"wrote {_rel(path, root)}")
    for path in result.kept:
        say(f"left {_rel(path, root)} as it is (it differs from what init would write)")
    if not result.written:
        say("nothing to do: already set up")
        return
    say("")
    say("Next steps:")
    say("  monitor check     # check every link now (history in db/monitor.sqlite)")
    say(f"  monitor readme    # write the status of each link into {readme}")
    say(f"  git add {readme} {catalog} .gitignore .github/workflows/monitor.yml")
    say("  git commit -m 'Monitor the links of this list' && git push")
    say("The workflow then runs every night, and on demand from the Actions tab.")


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def register(app: typer.Typer) -> None:
    app.command(name="init")(init)
