"""Markdown output: the Jinja environment of the Markdown templates and `status.md`.

The environment escapes every `{{ value }}` by default (its `finalize`, with
`monitor.reports.text.md_escape`), the way autoescape does for HTML: scraped titles and error
texts cannot open a link, close a table cell or start an HTML tag. Only values built as `Md`
pass unescaped.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.paths import data_dir
from monitor.reports.context import ReportContext
from monitor.reports.locale import install_language
from monitor.reports.text import Md, md_code, md_escape, md_link

__all__ = ["Md", "md_code", "md_environment", "md_escape", "md_link", "render_status_md"]


def _finalize(value: Any) -> Any:
    return md_escape(value)


@cache
def md_environment(locale: str) -> Environment:
    """The Markdown templates in one language (their words come from its gettext catalog)."""
    env = Environment(
        loader=FileSystemLoader(data_dir("templates")),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,  # noqa: S701 - Markdown, not HTML: `_finalize` escapes instead
        finalize=_finalize,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["link"] = md_link
    env.filters["code"] = md_code
    install_language(env, locale)
    return env


def render_status_md(ctx: ReportContext, *, clock: bool) -> str:
    """The Markdown report: summary, problems with what to do, changes since last run.

    `clock=False` leaves out the time of the last check: a committed `status.md` then
    changes only when a reader-visible fact does (a state, a problem, a change), so the
    nightly job does not commit every night; the time lives on the status page. The job
    summary (`--markdown -`) keeps it (`clock=True`)."""
    template = md_environment(ctx.locale).get_template("status.md.j2")
    return template.render(ctx=ctx, clock=clock)
