"""Untrusted text made inert: what a page, a server or a catalog says, before anyone sees it.

Titles, error messages and URLs come from strangers. Shown on a terminal, a control character
can move the cursor or open a hyperlink (OSC 8); in Markdown, a right-to-left override makes
a link read as something else. These helpers are pure; the escaping proper to each output
(Rich markup, Markdown, HTML) stays with that output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 controls (tab and newlines are folded to spaces separately), DEL, C1 controls (0x9b is a
# one-byte CSI on some terminals), and Unicode's invisible direction controls: LRM, RLM, ALM,
# the embeddings and overrides (U+202A-E) and isolates (U+2066-9). The line and paragraph
# separators break lines where a reader sees none.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_BREAKS = re.compile("[\t\n\r\u2028\u2029\x85]+")
# Messages quote untrusted values; past this they say how long the value was instead.
MESSAGE_LIMIT = 300
REDACTED = "[redacted]"


def strip_invisible(text: str) -> str:
    """Drop control and bidi characters; line breaks become spaces (one line of text)."""
    return _INVISIBLE.sub("", _BREAKS.sub(" ", text))


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """At most about `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()}… ({len(text):,} characters)"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Every occurrence of every secret (at least 4 characters) replaced by [redacted]."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def inert(text: str | None, limit: int = MESSAGE_LIMIT, secrets: Iterable[str] = ()) -> str | None:
    """One line of untrusted text, safe to print and store: stripped, redacted, bounded."""
    if text is None:
        return None
    return truncate(redact(strip_invisible(text), secrets), limit)


def counted(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun in the right number: "1 problem", "2 problems", "0 problems"
    (the terminal's English; the reports' languages go through gettext's ngettext)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
