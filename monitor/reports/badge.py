"""SVG badges in the flat style readers know from shields.io: the overall "links | 8/13" and
one per resource ("<label> | <state>"), plus a shields.io endpoint JSON per resource
(https://shields.io/badges/endpoint-badge, `schemaVersion` 1) for readers who want shields'
own styles. Every text is bounded and escaped: a label is a roadmap's text, which `monitor
import` takes from someone else's list.
"""

from __future__ import annotations

from html import escape

from monitor.domain.state import State
from monitor.reports.bounded import bounded, json_text
from monitor.reports.context import ReportContext, Row

GREEN, YELLOW, RED, GREY = "#2e7d32", "#a15c00", "#c62828", "#6b6b6b"
# A badge sits in a line of text: a longer label is cut (with "…").
LABEL_LIMIT = 40
# What a reader sees on a resource's badge: green works, yellow needs a look, red is gone,
# grey cannot tell (blocked: the site refused us; never checked; skipped by configuration).
STATE_COLOUR = {
    State.OK: GREEN,
    State.RECOVERED: GREEN,
    State.MOVED: YELLOW,
    State.FLAKY: YELLOW,
    State.FAILING: YELLOW,
    State.DOWN: RED,
    State.BLOCKED: GREY,
    State.SKIPPED: GREY,
    State.UNKNOWN: GREY,
}
# shields.io caches an endpoint for at least 300 s; checks run nightly, an hour is fresh enough.
CACHE_SECONDS = 3600


def _width(text: str) -> int:
    # Verdana 11px averages ~6.5px per character; digits and '/' are a little narrower.
    return int(sum(5.5 if c in "0123456789/ " else 7 for c in text) + 12)


def badge_colour(healthy: int, total: int, checked: bool) -> str:
    if not checked or total == 0:
        return GREY
    if healthy == total:
        return GREEN
    return YELLOW if healthy / total >= 0.8 else RED


def draw_badge(label: str, value: str, colour: str) -> str:
    """The SVG of a two-part badge; `label` and `value` are plain text (escaped here)."""
    lw, vw = _width(label), _width(value)
    total_w = lw + vw
    title = f"{label}: {value}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="20" '
        f'role="img" aria-label="{escape(title)}">\n'
        f"<title>{escape(title)}</title>\n"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>\n'
        f'<clipPath id="r"><rect width="{total_w}" height="20" rx="3" fill="#fff"/></clipPath>\n'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
        f'<rect width="{total_w}" height="20" fill="url(#s)"/></g>\n'
        f'<g fill="#fff" text-anchor="middle" '
        f'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2:.1f}" y="14">{escape(label)}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="14">{escape(value)}</text></g>\n'
        f"</svg>\n"
    )


def render_badge(ctx: ReportContext) -> str:
    checked = any(row.st.latest is not None for row in ctx.rows)
    label = ctx.lang.pgettext("badge", "links")
    value = f"{ctx.healthy}/{ctx.total}" if checked else ctx.lang.state(State.UNKNOWN)
    return draw_badge(label, value, badge_colour(ctx.healthy, ctx.total, checked))


def badge_parts(row: Row) -> tuple[str, str, str]:
    """(label, message, colour) of a resource's badge: its roadmap label and its state."""
    return bounded(row.resource.label, LABEL_LIMIT), row.state_label, STATE_COLOUR[row.state]


def render_resource_badge(row: Row) -> str:
    """site/badges/<id>.svg"""
    return draw_badge(*badge_parts(row))


def render_resource_endpoint(row: Row) -> str:
    """site/badges/<id>.json: the shields.io endpoint badge of the same badge."""
    label, message, colour = badge_parts(row)
    doc = {
        "schemaVersion": 1,
        "label": label,
        "message": message,
        "color": colour.removeprefix("#"),
        "cacheSeconds": CACHE_SECONDS,
    }
    return json_text(doc)
