"""`monitor report`: the HTML status page, status.json, the feed, the badges and the Markdown
report, from the store."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

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
from monitor.domain.models import utcnow

NowOption = Annotated[
    datetime | None,
    typer.Option(
        "--now",
        help="Render as of this UTC time (reproducible output) \\[default: the current time].",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        show_default=False,
    ),
]


def as_of(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def repository_from_env() -> str | None:
    """The repository the nightly job runs in (GitHub Actions sets these): the page's
    default `repository_url` when the catalog names none."""
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    owner, _, name = repo.partition("/")
    if (
        not owner
        or not name
        or "/" in name
        or not repo.replace("/", "").replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        return None
    return f"{server}/{repo}"


def report(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "--output",
            "-o",
            help="Folder of the site: index.html, r/, status.json, feed.xml, badge.svg, badges/.",
        ),
    ] = Path("site"),
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", "-m", help="Also write the Markdown report here ('-': stdout)."),
    ] = None,
    now: NowOption = None,
) -> None:
    """Write the status site and optionally status.md.

    The site: index.html, a page per resource (r/<id>.html), status.json, feed.xml (Atom).

    Badges: badge.svg, and per resource badges/<id>.svg and a shields.io badges/<id>.json.

    Reads only the stored history: no link is checked, so it is fast and repeatable.

    Examples:

        monitor report

        monitor report --out site/ --markdown status.md

        monitor report --markdown - >> "$GITHUB_STEP_SUMMARY"
    """
    from monitor.files import write_if_changed
    from monitor.reports.context import load_context
    from monitor.reports.html import write_site
    from monitor.reports.markdown import render_status_md

    cat = load_or_exit(catalog)
    with open_store(db, reads_only="report", catalog=catalog) as store:
        moment = as_of(now)
        snap = store.snapshot(moment, down_after=cat.settings.down_after)
    ctx = load_context(cat, snap, moment, repository_from_env())
    to_stdout = markdown is not None and str(markdown) == "-"
    try:
        changed = write_site(ctx, out)
        if to_stdout:
            typer.echo(render_status_md(ctx, clock=True), nl=False)
        elif markdown is not None and write_if_changed(
            markdown, render_status_md(ctx, clock=False).encode("utf-8")
        ):
            changed.append(markdown)
    except OSError as exc:
        raise fail(f"cannot write the report: {exc}") from None
    (err_console if to_stdout else console).print(
        f"{ctx.healthy}/{ctx.total} healthy; wrote {out / 'index.html'}, {out / 'status.json'}, "
        f"{out / 'feed.xml'}, {out / 'badge.svg'}, {out / 'badges'}"
        + (f", {markdown}" if markdown and not to_stdout else "")
        + ("" if changed else " (unchanged)")
    )


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)
