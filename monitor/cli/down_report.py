"""`monitor down-report`: the links that are down, for the nightly workflow's issue."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from monitor.cli.common import (
    DEFAULT_CATALOG,
    CatalogOption,
    DbOption,
    load_or_exit,
    open_store,
)
from monitor.reports.downlist import down_resources, render_markdown, render_text


class Format(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"


def down_report(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
) -> None:
    """Print the links that are down: failed (broken or error) on the last N usable checks.

    N is settings.down_after (default 2). In Markdown the output is empty when nothing is
    down, and stable while the list does not change: the nightly workflow uses it as the
    body of its one `link-rot` issue.

    Examples:

        monitor down-report

        monitor down-report --format markdown > down.md
    """
    from monitor.domain.models import utcnow

    cat = load_or_exit(catalog)
    with open_store(db, reads_only="down-report", catalog=catalog) as store:
        snap = store.snapshot(utcnow(), down_after=cat.settings.down_after, full=False)
    downs = down_resources(cat.resources, snap)
    text = (
        render_markdown(downs, cat.settings.down_after)
        if fmt is Format.MARKDOWN
        else render_text(downs)
    )
    typer.echo(text, nl=False)  # raw: a body for `gh`, tabs kept


def register(app: typer.Typer) -> None:
    app.command(name="down-report")(down_report)
