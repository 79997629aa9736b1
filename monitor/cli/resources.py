"""`monitor resources`: list the catalog."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.common import DEFAULT_CATALOG, CatalogOption, console, load_or_exit, shown
from monitor.domain.models import Kind


def resources(
    catalog: CatalogOption = DEFAULT_CATALOG,
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    section: Annotated[str | None, typer.Option(help="Only this section id.")] = None,
) -> None:
    """List the resources of the catalog.

    Examples:

        monitor resources

        monitor resources --kind youtube

        monitor resources --section cursos
    """
    cat = load_or_exit(catalog)
    table = Table(title=str(catalog))
    for name in ("id", "kind", "section", "label", "url"):
        table.add_column(name)
    for r in cat.resources:
        if (kind is None or r.kind is kind) and (section is None or r.section == section):
            table.add_row(r.id, r.kind.value, r.section, shown(r.label), shown(r.url))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command(name="resources")(resources)
