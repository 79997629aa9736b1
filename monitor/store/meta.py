"""Scraped metadata as it is stored: cleaned and capped per field (issue 14).

A checker keeps what a page says; the store keeps what a report can show. One course page
once added 4.3 MB to a single run (its description and instructor list were the whole page's
text), and every night stored it again. Before a check is written its metadata is:

- cleaned: control and direction characters dropped (tabs and line breaks stay: a
  description has paragraphs), so a stored title cannot move a terminal's cursor;
- capped: each text at its field's limit (`CAPS`, else `DEFAULT_CAP` characters), ending in
  "…" when cut; lists at `LIST_ITEMS` items of at most `ITEM_CAP` characters;
- emptied of values that clean to nothing (absent means unknown, as in `Metadata`).

Numbers and booleans are stored as they are.
"""

from __future__ import annotations

import re
from typing import Any

# Characters kept per text field; a title longer than 300 characters is not a title.
CAPS = {
    "title": 300,
    "description": 1000,
    "canonical_url": 2000,
    "channel": 200,
    "author": 200,
    "provider": 200,
    "full_name": 200,
    "license": 100,
    "level": 100,
}
DEFAULT_CAP = 300
LIST_ITEMS = 20
ITEM_CAP = 200
# monitor.domain.text's invisible characters, less tab and line breaks: C0 controls, DEL, C1
# controls, and the direction marks, embeddings, overrides and isolates.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clean_text(value: str, cap: int) -> str:
    text = _INVISIBLE.sub("", value)
    if not text.strip():
        return ""
    if len(text) <= cap:
        return text
    return text[: cap - 1].rstrip() + "…"


def clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata to store (module docstring)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, str):
            value = clean_text(value, CAPS.get(key, DEFAULT_CAP))
        elif isinstance(value, list | tuple):
            items = (clean_text(v, ITEM_CAP) if isinstance(v, str) else v for v in value)
            value = [v for v in items if v not in ("", None)][:LIST_ITEMS]
        if value in ("", []):
            continue
        out[key] = value
    return out
