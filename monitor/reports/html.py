"""The HTML status page: one self-contained file (inline CSS and JS, no CDN, no fonts).

Autoescape is on for every template: scraped titles and error texts render as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.files import write_if_changed
from monitor.paths import data_dir
from monitor.reports.badge import render_badge, render_resource_badge, render_resource_endpoint
from monitor.reports.context import ReportContext, Row
from monitor.reports.feed import render_feed
from monitor.reports.locale import install_language
from monitor.reports.status_json import render_status_json

# Folders holding one file per resource: a resource gone from the catalog loses its files.
PER_RESOURCE = (("r", "*.html"), ("badges", "*.svg"), ("badges", "*.json"))


@cache
def html_environment(locale: str) -> Environment:
    """The HTML templates in one language (their words come from its gettext catalog)."""
    env = Environment(
        loader=FileSystemLoader(data_dir("templates")),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(
            enabled_extensions=("html", "svg", "j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    install_language(env, locale)
    return env


def render_html(ctx: ReportContext) -> str:
    return html_environment(ctx.locale).get_template("status.html.j2").render(ctx=ctx)


def render_resource(ctx: ReportContext, row: Row) -> str:
    env = html_environment(ctx.locale)
    return env.get_template("resource.html.j2").render(ctx=ctx, row=row)


def site_files(ctx: ReportContext) -> Iterator[tuple[str, str]]:
    """(path inside the site, content) of every file of the site."""
    yield "index.html", render_html(ctx)
    yield "badge.svg", render_badge(ctx)
    yield "status.json", render_status_json(ctx)
    yield "feed.xml", render_feed(ctx)
    for row in ctx.rows:
        yield row.page, render_resource(ctx, row)
        yield f"badges/{row.resource.id}.svg", render_resource_badge(row)
        yield f"badges/{row.resource.id}.json", render_resource_endpoint(row)


def write_site(ctx: ReportContext, out: Path) -> list[Path]:
    """Write the site into `out` (index.html, badge.svg, status.json, feed.xml, r/<id>.html,
    badges/<id>.svg and .json), each file atomically; returns the files that changed. Files of
    resources no longer in the catalog are removed."""
    changed = []
    pages = set()
    for name, content in site_files(ctx):
        path = out / name
        pages.add(path)
        if write_if_changed(path, content.encode("utf-8")):
            changed.append(path)
    for folder, pattern in PER_RESOURCE:
        for stale in sorted((out / folder).glob(pattern)) if (out / folder).is_dir() else ():
            if stale not in pages:
                stale.unlink()
                changed.append(stale)
    return changed
