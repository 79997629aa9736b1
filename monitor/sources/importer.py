"""Build or update the catalog from a roadmap: `monitor import ROADMAP.md`.

The roadmap is where maintainers add links; the catalog is where they tune them
(kind, accepted codes, notes). So a link's identity is its URL, import only ever
adds entries and refreshes `line`, and an entry whose link left the roadmap is kept
and reported, never dropped. The file is edited with tomlkit, so comments and
hand-set fields survive, and importing twice writes the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from monitor.config.catalog import (
    Catalog,
    CatalogError,
    infer_kind,
    parse_catalog,
    slugify,
    unique_slug,
)
from monitor.config.urls import check_url
from monitor.domain.models import Kind, Section
from monitor.sources.extract import Link, extract_links

# A new catalog starts as this; `[settings]` spells out the defaults a maintainer edits.
NEW_CATALOG = """\
# The catalog of monitor: every link of the roadmap, grouped by its section.
# `monitor import README.md` keeps it in step with the roadmap; fields you set by hand stay.

[settings]
locale = "pt-BR"
readme = "README.md"
"""
# Section of links written before any heading.
FALLBACK_SECTION = "Links"

# The README's generated tables: `<!-- monitor:begin section=ID -->` ... `<!-- monitor:end -->`,
# each marker on a line of its own (one quoted in prose or a code span is not a marker).
_BEGIN = re.compile(r"^\s*<!--\s*monitor:begin\b(?P<args>.*?)-->\s*$")
_END = re.compile(r"^\s*<!--\s*monitor:end\b.*?-->\s*$")
_SECTION_ARG = re.compile(r"\bsection=(?P<id>[a-z0-9][a-z0-9-]*)")


@dataclass(frozen=True)
class Region:
    """Lines (1-based, inclusive) between a pair of monitor markers."""

    start: int
    end: int
    section: str | None


@dataclass(frozen=True)
class Added:
    id: str
    url: str
    section: str
    kind: Kind
    line: int


@dataclass(frozen=True)
class Kept:
    """A catalog entry whose URL is no longer in the roadmap (kept, not dropped)."""

    id: str
    url: str


@dataclass(frozen=True)
class Skipped:
    link: Link
    reason: str


@dataclass(frozen=True)
class ImportResult:
    text: str  # the catalog after import
    changed: bool
    links: int  # links considered (inside the markers when the roadmap has them)
    added: tuple[Added, ...]
    relined: tuple[str, ...]  # ids whose `line` was refreshed
    new_sections: tuple[Section, ...]
    missing: tuple[Kept, ...]
    skipped: tuple[Skipped, ...]
    anchors: int  # same-page "#..." links, ignored
    duplicates: int  # repeated URLs in the roadmap; the first one counts


def managed_regions(text: str) -> list[Region]:
    """The marker pairs of a roadmap whose tables `monitor` regenerates (README.md)."""
    regions: list[Region] = []
    open_at: tuple[int, str | None] | None = None
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if (begin := _BEGIN.match(line)) is not None:
            arg = _SECTION_ARG.search(begin.group("args"))
            open_at = (number, arg.group("id") if arg else None)
        elif _END.match(line) and open_at is not None:
            regions.append(Region(open_at[0], number, open_at[1]))
            open_at = None
    if open_at is not None:
        regions.append(Region(open_at[0], text.count("\n") + 1, open_at[1]))
    return regions


def roadmap_links(text: str, path: str | None = None) -> tuple[list[Link], list[Region]]:
    """The links to import: only those between monitor markers when there are markers.

    A README that `monitor` maintains also links its badge, status page and tooling
    docs; the roadmap proper is what the generated tables hold.
    """
    links = extract_links(text, path)
    regions = managed_regions(text)
    if regions:
        links = [ln for ln in links if any(r.start <= ln.line <= r.end for r in regions)]
    return links, regions


class _Sections:
    """Maps a link's heading to a section id, creating sections only when none fits.

    A heading's links that are already in the catalog tell which section it is, so a
    heading renamed in the roadmap, or a section title edited in the catalog, does not
    split a section in two.
    """

    def __init__(self, existing: Iterable[Section], neighbours: dict[str, str]) -> None:
        self.by_title = {s.title: s.id for s in existing}
        self.titles = {s.id: s.title for s in existing}
        self.ids = set(self.titles)
        self.neighbours = neighbours
        self.created: list[Section] = []

    def resolve(self, title: str | None, marker_id: str | None) -> str:
        title = title or FALLBACK_SECTION
        if marker_id in self.titles:
            return str(marker_id)
        if title in self.neighbours:
            return self.neighbours[title]
        if title in self.by_title:
            return self.by_title[title]
        slug = marker_id or slugify(title, drop_asides=True)
        # Same id, and no other heading of the roadmap claims that section by its title.
        if slug in self.titles and self.titles[slug] not in self.neighbours:
            return slug
        section = Section(id=unique_slug(slug, self.ids), title=title)
        self.by_title[title] = section.id
        self.created.append(section)
        return section.id


def _aot(doc: TOMLDocument, key: str, path: Path) -> AoT:
    if key not in doc:
        doc.append(key, tomlkit.aot())
    value = doc[key]
    if not isinstance(value, AoT):
        raise CatalogError(path, None, f"`{key}` must be written as [[{key}]] tables to import")
    return value


def _append(aot: AoT, fields: dict[str, Any]) -> None:
    """Append a table separated by one blank line, as a maintainer would write it.

    tomlkit keeps a blank line that ends an entry inside that entry; when the last entry
    has one, the new entry takes over the same ending, so what followed stays apart.
    """
    table = tomlkit.table()
    for key, value in fields.items():
        table.add(key, value)
    if len(aot) and aot[-1].as_string().endswith("\n\n"):
        table.trivia.indent = ""
        table.add(tomlkit.nl())
    else:
        table.trivia.indent = "\n"
    aot.append(table)


def _set_line(table: Table, line: int) -> None:
    if "line" in table:
        table["line"] = line
        return
    keys = [key for key, _ in table.value.body if key is not None]
    if keys:
        # tomlkit has no public insert; after the last key keeps `line` above any
        # trailing comment or blank line of the entry.
        table.value._insert_after(keys[-1], "line", line)
    else:
        table.add("line", line)


def import_links(
    links: Sequence[Link],
    catalog_text: str | None,
    catalog_path: Path,
    regions: Sequence[Region] = (),
) -> ImportResult:
    """Merge roadmap links into the catalog text (None or blank: a new catalog)."""
    fresh = catalog_text is None or not catalog_text.strip()
    old_text = "" if catalog_text is None else catalog_text
    source = NEW_CATALOG if fresh else old_text
    catalog: Catalog = parse_catalog(source, catalog_path)
    doc = tomlkit.parse(source)

    by_url = {r.url: i for i, r in enumerate(catalog.resources)}
    neighbours: dict[str, str] = {}
    for link in links:
        if link.url in by_url:
            title = link.section or FALLBACK_SECTION
            neighbours.setdefault(title, catalog.resources[by_url[link.url]].section)
    sections = _Sections(catalog.sections, neighbours)
    taken_ids = {r.id for r in catalog.resources}
    seen: set[str] = set()
    added: list[Added] = []
    relined: list[str] = []
    skipped: list[Skipped] = []
    anchors = duplicates = 0
    new_entries: list[dict[str, Any]] = []

    for link in links:
        if link.url.startswith("#"):
            anchors += 1
            continue
        try:
            url = check_url(link.url)
        except ValueError as exc:
            skipped.append(Skipped(link, str(exc)))
            continue
        if url in seen:
            duplicates += 1
            continue
        seen.add(url)
        if url in by_url:
            index = by_url[url]
            if catalog.resources[index].line != link.line:
                _set_line(_aot(doc, "resources", catalog_path)[index], link.line)
                relined.append(catalog.resources[index].id)
            continue
        marker = next((r.section for r in regions if r.start <= link.line <= r.end), None)
        section_id = sections.resolve(link.section, marker)
        resource_id = unique_slug(slugify(link.label), taken_ids)
        kind = infer_kind(url)
        new_entries.append(
            {
                "id": resource_id,
                "url": url,
                "label": link.label,
                "section": section_id,
                "kind": kind.value,
                "line": link.line,
            }
        )
        added.append(Added(resource_id, url, section_id, kind, link.line))

    if sections.created:
        aot = _aot(doc, "sections", catalog_path)
        for section in sections.created:
            _append(aot, {"id": section.id, "title": section.title})
    if new_entries:
        aot = _aot(doc, "resources", catalog_path)
        for entry in new_entries:
            _append(aot, entry)

    text = tomlkit.dumps(doc)
    if added or sections.created:
        text = text.rstrip("\n") + "\n"
    parse_catalog(text, catalog_path)  # what we write must load; a bug here is ours
    missing = tuple(Kept(r.id, r.url) for r in catalog.resources if r.url not in seen)
    return ImportResult(
        text=text,
        changed=text != old_text,
        links=len(links),
        added=tuple(added),
        relined=tuple(relined),
        new_sections=tuple(sections.created),
        missing=missing,
        skipped=tuple(skipped),
        anchors=anchors,
        duplicates=duplicates,
    )


def import_roadmap(
    roadmap_text: str, roadmap_path: str | None, catalog_text: str | None, catalog_path: Path
) -> ImportResult:
    """Import the links of a roadmap (Markdown, HTML or a list of URLs) into the catalog."""
    links, regions = roadmap_links(roadmap_text, roadmap_path)
    return import_links(links, catalog_text, catalog_path, regions)


def source_setting(roadmap: Path, catalog_path: Path) -> str:
    """`[settings] readme` for a roadmap: its path relative to the catalog's folder, with `/`.

    Relative links of the roadmap resolve against its folder, and `readme`, `fix` and
    `--changed-since` find it, whatever folder a later command runs from.
    """
    relative = os.path.relpath(roadmap.resolve(), catalog_path.resolve().parent)
    return Path(relative).as_posix()


def record_source(
    result: ImportResult, catalog_text: str | None, roadmap: Path, catalog_path: Path
) -> ImportResult:
    """Write which roadmap was imported into `[settings] readme` when it differs."""
    wanted = source_setting(roadmap, catalog_path)
    doc = tomlkit.parse(result.text)
    settings = doc.get("settings")
    current = settings.get("readme", "README.md") if isinstance(settings, Table) else "README.md"
    if current == wanted:
        return result
    if not isinstance(settings, Table):
        settings = tomlkit.table()
        doc.add("settings", settings)
    settings["readme"] = wanted
    text = tomlkit.dumps(doc)
    parse_catalog(text, catalog_path)
    return dataclasses.replace(result, text=text, changed=text != (catalog_text or ""))
