"""Where each catalog resource is written: computed when shown, never stored.

The catalog holds no line numbers (one line added at the top of a README would rewrite
them all), so `monitor check` finds them here: the resource's place in the README (the
k-th resource with a URL is the URL's k-th place, as import writes rows in document
order), else its `[[resources]]` entry in the catalog.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from monitor.config.catalog import Catalog
from monitor.sources.extract import extract_links

_ENTRY = re.compile(r"^[ \t]*\[\[[ \t]*resources[ \t]*\]\]", re.MULTILINE)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def locate(catalog: Catalog) -> dict[str, str]:
    """resource id -> "file:line" for every resource of the catalog."""
    places: dict[str, list[int]] = defaultdict(list)
    readme = catalog.readme_path
    try:
        text = readme.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = ""
    for link in extract_links(text, str(readme)) if text else []:
        places[link.url].append(link.line)
    entries: list[int] = []
    try:
        catalog_text = catalog.path.read_text(encoding="utf-8")
        entries = [
            catalog_text.count("\n", 0, m.start()) + 1 for m in _ENTRY.finditer(catalog_text)
        ]
    except (OSError, UnicodeDecodeError):
        pass
    seen: dict[str, int] = defaultdict(int)
    out: dict[str, str] = {}
    for i, resource in enumerate(catalog.resources):
        k = seen[resource.url]
        seen[resource.url] += 1
        lines = places.get(resource.url, [])
        if k < len(lines):
            out[resource.id] = f"{_display(readme)}:{lines[k]}"
        elif i < len(entries):
            out[resource.id] = f"{_display(catalog.path)}:{entries[i]}"
        else:
            out[resource.id] = _display(catalog.path)
    return out
