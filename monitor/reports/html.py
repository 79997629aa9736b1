"""The HTML status page: one self-contained file (inline CSS and JS, no CDN, no fonts).

Autoescape is on for every template: scraped titles and error texts render as text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.files import write_if_changed
from monitor.paths import data_dir
from monitor.reports.badge import render_badge
from monitor.reports.context import ReportContext


@cache
def html_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(data_dir("templates")),
        autoescape=select_autoescape(
            enabled_extensions=("html", "svg", "j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(ctx: ReportContext) -> str:
    return html_environment().get_template("status.html.j2").render(ctx=ctx)


def write_site(ctx: ReportContext, out: Path) -> list[Path]:
    """Write index.html and badge.svg into `out`; returns the files that changed."""
    changed = []
    for name, content in (("index.html", render_html(ctx)), ("badge.svg", render_badge(ctx))):
        path = out / name
        if write_if_changed(path, content.encode("utf-8")):
            changed.append(path)
    return changed
