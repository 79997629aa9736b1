"""Scraped text made fit for machine-readable outputs (status.json, the feed, the badges).

A title is whatever a stranger's page says: a 10,000-character `<title>`, a right-to-left
override that makes a link read backwards, a lone surrogate that no UTF-8 encoder accepts,
a control character that XML forbids. Every string these outputs carry goes through
`bounded`: one line, no invisible direction controls, only characters XML 1.0 allows, and at
most `limit` characters (a cut value ends with "…", so a reader sees it was cut). Escaping
proper to each format (JSON, XML, SVG) stays with that format.
"""

from __future__ import annotations

import json
import re

from monitor.domain.text import strip_invisible

# What an output quotes of a scraped value: enough for any real title, far below a page.
TEXT_LIMIT = 300
# URLs (a catalog URL, a Location header's target) are bounded more generously.
URL_LIMIT = 2048
ELLIPSIS = "…"

# Characters outside XML 1.0's `Char` production (after strip_invisible removed the C0
# controls): lone surrogates (a JSON "\ud800" decodes to one) and the noncharacters
# U+FFFE/U+FFFF. lxml refuses them, and a UTF-8 encoder refuses the surrogates.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def bounded(text: str, limit: int = TEXT_LIMIT) -> str:
    """One line of untrusted text, inert and at most `limit` characters."""
    clean = _NOT_XML.sub("", strip_invisible(text)).strip()
    if len(clean) <= limit:
        return clean
    return clean[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def bounded_or_none(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    return None if text is None else bounded(text, limit)


def json_text(doc: object) -> str:
    """Pretty JSON, UTF-8 text kept readable, with `<`, `>` and `&` written as `\\u003c`,
    `\\u003e`, `\\u0026`: the same values, but a page that inlines the file in a `<script>`
    cannot be closed by a title saying `</script>`, and no `<!-- monitor:` marker appears in
    the file's text. Only strings can hold those characters (JSON's syntax uses none)."""
    text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") + "\n"
