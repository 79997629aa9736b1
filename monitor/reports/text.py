"""Escaping scraped and user text, one escaper per target.

- Markdown (README tables, `status.md`, `check --format markdown`, the down-links issue):
  `md_escape` for text, `md_link` / `md_url` for links, `md_code` for inline code.
- HTML (the status page): Jinja's autoescape (`monitor.reports.html`), nothing by hand.
- Terminal (Rich markup): `rich.markup.escape`, in the CLI.

Scraped text is untrusted: a page title must not open a link, close a table cell or start an
HTML tag wherever it is shown.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.config.urls import followable_url


class Md(str):
    """Text that is already valid, escaped Markdown."""

    __slots__ = ()


# Characters with a meaning inside a GFM table cell or inline text. `<`/`>` become
# entities (no raw HTML), `&` only when it would start an entity.
_SPECIAL = re.compile(r"([\\`*_~\[\]|])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_BREAKS = re.compile(r"[\r\n\t\f\v\u0085\u2028\u2029]+")
# C0/C1 controls and the invisible direction controls (a right-to-left override makes a
# title or a link read as something else, issue 16).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that would end or split a link destination, or a table cell.
_URL_UNSAFE = re.compile(r"[\s()<>\[\]|`\"'\\{}]")


def md_escape(value: Any) -> str:
    """Escape plain text so it renders as itself on one line of a table or a list."""
    if value is None:
        return ""
    if isinstance(value, Md):
        return value
    text = _CONTROL.sub("", _BREAKS.sub(" ", str(value)))
    text = _SPECIAL.sub(r"\\\1", text)
    text = _ENTITY.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_url(url: str) -> str:
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", url)


def md_link(label: Any, url: str | None) -> Md:
    """`[label](url)`, or the label as text when the URL is not http(s) or relative."""
    target = followable_url(url)
    if target is None:
        return Md(md_escape(label))
    return Md(f"[{md_escape(label)}]({md_url(target)})")


def md_code(value: Any) -> Md:
    """Inline code that no backtick in `value` can close early."""
    text = _CONTROL.sub("", _BREAKS.sub(" ", str(value)))
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")
