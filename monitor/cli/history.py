"""`monitor history URL`: the stored checks of one resource."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import (
    DEFAULT_CATALOG,
    SHOWN_LIMIT,
    CatalogOption,
    DbOption,
    console,
    fail,
    load_or_exit,
    open_store,
    shown,
)
from monitor.domain.state import replay, timeline
from monitor.domain.text import inert


def history(
    resource: Annotated[str, typer.Argument(help="The resource's URL or id.")],
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="How many checks, newest first.")] = 20,
) -> None:
    """Show the stored checks of one resource, newest first, and its timeline of states.

    Checks from runs whose network was unusable are listed as "(ignored)": they change
    no state.

    Examples:

        monitor history https://github.com/mlabonne/llm-course

        monitor history llm-course --limit 5
    """
    cat = load_or_exit(catalog)
    entry = cat.find(resource)
    with open_store(db, reads_only="history", catalog=catalog) as store:
        resource_id = entry.id if entry else None
        if resource_id is None:
            stored = store.resource_ids()
            resource_id = next((rid for rid, url in stored.items() if resource in (rid, url)), None)
        if resource_id is None:
            raise fail(f"{resource!r} is neither in {catalog} nor in the database")
        everything = store.history(resource_id)
    down_after = cat.settings.down_after
    steps = replay(list(reversed(everything)), down_after)
    state_of = {(s.check.run.id, s.at): s.state.value for s in steps}
    checks = everything[:limit]
    table = Table(title=f"history of {resource_id}")
    for name in ("checked at", "verdict", "state", "status", "ms", "title", "detail", "network"):
        table.add_column(name)
    for stored_check in checks:
        r = stored_check.result
        table.add_row(
            r.checked_at.strftime("%Y-%m-%d %H:%M"),
            r.verdict.value,
            state_of.get((stored_check.run.id, r.checked_at), "(ignored)"),
            str(r.status or ""),
            str(r.elapsed_ms if r.elapsed_ms is not None else ""),
            shown(r.meta.title or ""),
            shown(r.error or r.note or ""),
            "ok" if stored_check.run.network_ok else "down",
        )
    console.print(table)
    transitions = timeline(steps)
    if transitions:
        console.print(f"timeline (down after {down_after} consecutive failures):")
        for t in reversed(transitions):
            detail = f"  {escape(inert(t.detail, SHOWN_LIMIT) or '')}" if t.detail else ""
            console.print(
                f"  {t.at:%Y-%m-%d %H:%M}  {t.state.value:<9} ({t.verdict.value}){detail}"
            )
    if not checks:
        console.print("no checks stored yet: run `monitor check`")


def register(app: typer.Typer) -> None:
    app.command(name="history")(history)
