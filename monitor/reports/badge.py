"""The SVG badge "links | healthy/total", in the flat style readers know from shields.io."""

from __future__ import annotations

from html import escape

from monitor.domain.state import State
from monitor.reports.context import ReportContext

GREEN, YELLOW, RED, GREY = "#2e7d32", "#a15c00", "#c62828", "#6b6b6b"


def _width(text: str) -> int:
    # Verdana 11px averages ~6.5px per character; digits and '/' are a little narrower.
    return int(sum(5.5 if c in "0123456789/ " else 7 for c in text) + 12)


def badge_colour(healthy: int, total: int, checked: bool) -> str:
    if not checked or total == 0:
        return GREY
    if healthy == total:
        return GREEN
    return YELLOW if healthy / total >= 0.8 else RED


def render_badge(ctx: ReportContext) -> str:
    checked = any(row.st.latest is not None for row in ctx.rows)
    label = ctx.lang.pgettext("badge", "links")
    value = f"{ctx.healthy}/{ctx.total}" if checked else ctx.lang.state(State.UNKNOWN)
    colour = badge_colour(ctx.healthy, ctx.total, checked)
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
