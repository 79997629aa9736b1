"""`monitor status`: the current state of every resource, problems first."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.common import (
    DEFAULT_CATALOG,
    SHOWN_LIMIT,
    CatalogOption,
    DbOption,
    console,
    load_or_exit,
    open_store,
    shown,
)
from monitor.cli.report import NowOption, as_of
from monitor.domain.text import inert
from monitor.reports.context import load_context


def status(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json/--no-json", help="Print JSON instead of a table.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Print the current state of every resource, problems first, from the stored history.

    States: down (failed N consecutive usable runs, settings.down_after), failing (failed
    once), flaky (alternates), blocked (the site refused us), moved, recovered, ok, skipped,
    unknown (never checked). Runs whose network was unusable are ignored.

    Examples:

        monitor status

        monitor status --json | jq '.[] | select(.state == "down")'
    """
    cat = load_or_exit(catalog)
    with open_store(db, reads_only="status", catalog=catalog) as store:
        moment = as_of(now)
        # No resource's list of latest checks: status shows none.
        snap = store.snapshot(moment, down_after=cat.settings.down_after, lines=0)
    ctx = load_context(cat, snap, moment)
    rows = sorted(ctx.rows, key=lambda r: r.state.severity)
    if as_json:
        out = [
            {
                "id": r.resource.id,
                "url": r.resource.url,
                "label": r.resource.label,
                "section": r.resource.section,
                "state": r.state.value,
                "since": r.st.since.isoformat() if r.st.since else None,
                "verdict": r.st.latest.verdict.value if r.st.latest else None,
                "failures": r.st.failures,
                "uptime": {str(d): u for d, u in r.st.uptime.items()},
                "detail": r.detail or None,
                "moved_to": r.moved_to,
                "changes": list(r.changes),
            }
            for r in rows
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    title = f"monitor status · {ctx.healthy}/{ctx.total} healthy"
    if not console.is_terminal:
        # Piped or redirected (the nightly job, grep, a file): one tab-separated line per
        # resource. Laying out a Rich table took seconds of CPU at 3,000 resources.
        lines = [title, "state\tresource\tsince\tuptime 7/30/90 d\tdetail"]
        lines.extend(
            "\t".join(
                [
                    r.state.value,
                    inert(r.resource.label, SHOWN_LIMIT) or "",
                    r.since_date,
                    " · ".join(r.uptime),
                    inert(r.detail, SHOWN_LIMIT) or "",
                ]
            )
            for r in rows
        )
        typer.echo("\n".join(lines))
        if ctx.last_run and not ctx.last_run.network_ok:
            typer.echo("the last run had no usable network: it changed no state")
        return
    table = Table(title=title)
    for name in ("state", "resource", "since", "uptime 7/30/90 d", "detail"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r.state.value,
            shown(r.resource.label),
            r.since_date,
            " · ".join(r.uptime),
            shown(r.detail),
        )
    console.print(table)
    if ctx.last_run and not ctx.last_run.network_ok:
        console.print("the last run had no usable network: it changed no state")


def register(app: typer.Typer) -> None:
    app.command(name="status")(status)
