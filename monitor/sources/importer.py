"""Build or update the catalog from a roadmap: `monitor import ROADMAP.md`.

The roadmap is where maintainers add links; the catalog is where they tune them
(kind, accepted codes, notes). A row's identity is its URL within its section: a URL
listed under two headings is two rows, each shown where it was written. Import only
ever adds entries (in document order, beside their neighbours), and an entry whose link
left the roadmap is kept and reported, never dropped. Sections are known by their heading
path, so five "Other" headings in five chapters stay five sections. The catalog holds no
source line numbers (one line added at the top of a README would rewrite them all);
locations are computed from the README when they are shown. The file is edited with
tomlkit, so comments and hand-set fields survive, and importing twice writes the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
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
from monitor.domain.text import strip_invisible, truncate
from monitor.sources.extract import DESCRIPTION_LIMIT, Link, extract_links
from monitor.sources.markers import Block, MarkerError, Mode, find_blocks

# Section of links written before any heading.
FALLBACK_SECTION = "Links"
# How a section's heading path is written when its own title is not enough.
PATH_JOIN = " › "


def new_catalog(locale: str, readme: str = "README.md") -> str:
    """A new catalog; `[settings]` spells out what a maintainer is most likely to edit."""
    return (
        "# The catalog of monitor: every link of the roadmap, grouped by its section.\n"
        "# `monitor import README.md` keeps it in step with the roadmap; "
        "fields you set by hand stay.\n"
        "\n[settings]\n"
        f"locale = {tomlkit.string(locale).as_string()}\n"
        f"readme = {tomlkit.string(readme).as_string()}\n"
    )


# Words that appear in nearly any paragraph of one language and rarely in the other.
_PT_WORDS = (
    "de que não para com uma os se na por mais dos como mas ao ele das seu sua ou quando "
    "muito nos já também só pelo pela até isso ela entre depois sem mesmo aos seus quem nas "
    "esse eles você essa num nem suas meu às minha numa pelos são está aqui sobre ser tem "
    "pode podem cursos vídeos recursos é em"
)
_EN_WORDS = (
    "the of and to in is that for it was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if can "
    "more will about how what these other into your also some than its only use using list "
    "tools"
)
_STOPWORDS = {"pt-BR": frozenset(_PT_WORDS.split()), "en": frozenset(_EN_WORDS.split())}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LINKISH = re.compile(r"\]\([^)]*\)|<[^>]*>|https?://\S+|`[^`]*`")


def detect_locale(text: str) -> str:
    """`pt-BR` or `en` for a README's prose (links, tags and code spans left out)."""
    words = [w.lower() for w in _WORD.findall(_LINKISH.sub(" ", text))]
    scores = {loc: sum(w in stop for w in words) for loc, stop in _STOPWORDS.items()}
    return "pt-BR" if scores["pt-BR"] > scores["en"] else "en"


@dataclass(frozen=True)
class Added:
    id: str
    url: str
    section: str
    kind: Kind
    line: int  # where it is in the roadmap (reported, never stored)
    description: str = ""  # stored for a link of a table block (the table shows it)


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
    unlined: int  # entries whose stored `line` was dropped (locations are computed now)
    new_sections: tuple[Section, ...]
    missing: tuple[Kept, ...]
    skipped: tuple[Skipped, ...]
    anchors: int  # same-page "#..." links, ignored
    duplicates: int  # a URL repeated within one section; the first one counts


def roadmap_links(text: str, path: str | None = None) -> tuple[list[Link], list[Block]]:
    """The links to import: only those between monitor markers when there are markers.

    A README that `monitor` maintains also links its badge, status page and tooling
    docs; the roadmap proper is what the marked blocks hold. Markers inside code blocks
    are examples, not markers.
    """
    links = [plain_link(ln) for ln in extract_links(text, path)]
    try:
        blocks = find_blocks(text, path or "roadmap")
    except MarkerError as exc:
        raise CatalogError(exc.path, exc.line, exc.problem) from None
    if blocks:
        links = [ln for ln in links if any(b.holds(ln.line) for b in blocks)]
    return links, blocks


def heading_paths(links: Sequence[Link]) -> dict[int, tuple[str, ...]]:
    """Each link's heading path (by position), without the document's own title: when every
    link sits under one top heading (`# Awesome Python`), that heading names no section."""
    paths = [link.headings or ((link.section,) if link.section else ()) for link in links]
    firsts = {p[0] for p in paths if p}
    strip = len(firsts) == 1 and all(p for p in paths) and any(len(p) > 1 for p in paths)
    return {i: (p[1:] if strip and len(p) > 1 else p) for i, p in enumerate(paths)}


# Labels and section titles go into TOML strings: bounded (tomlkit escapes a string in time
# quadratic in its escapes: an 800 KB heading of quotes took 8 s, issue 16) and free of the
# control and bidi characters the catalog refuses.
MAX_LABEL = 300


def _plain(text: str) -> str:
    return truncate(strip_invisible(text), MAX_LABEL)


def plain_link(link: Link) -> Link:
    section = _plain(link.section) if link.section is not None else None
    headings = tuple(_plain(h) for h in link.headings)
    return dataclasses.replace(
        link,
        label=_plain(link.label) or link.url,
        section=section,
        headings=headings,
        description=truncate(strip_invisible(link.description), DESCRIPTION_LIMIT),
    )


class _Sections:
    """Maps a link's heading path to a section id, creating sections only when none fits.

    A heading's links that are already in the catalog tell which section it is, so a
    heading renamed in the roadmap, or a section title edited in the catalog, does not
    split a section in two. Titles are matched only when no other heading of the roadmap
    has the same one.
    """

    def __init__(
        self,
        existing: Iterable[Section],
        neighbours: dict[tuple[str, ...], str],
        paths: Iterable[tuple[str, ...]],
    ) -> None:
        self.titles = {s.id: s.title for s in existing}
        self.by_title: dict[str, list[str]] = {}
        for sid, title in self.titles.items():
            self.by_title.setdefault(title, []).append(sid)
        self.ids = set(self.titles)
        self.neighbours = neighbours
        self.by_path: dict[tuple[str, ...], str] = {}
        distinct = set(paths)
        self.shared = {t for t, n in Counter(p[-1] for p in distinct if p).items() if n > 1}
        self.created: list[Section] = []

    def title_for(self, path: tuple[str, ...]) -> str:
        if not path:
            return FALLBACK_SECTION
        return PATH_JOIN.join(path) if path[-1] in self.shared else path[-1]

    def resolve(self, path: tuple[str, ...], marker_id: str | None) -> str:
        if marker_id in self.titles:
            return str(marker_id)
        if path in self.by_path:
            return self.by_path[path]
        if path in self.neighbours:
            return self.neighbours[path]
        title = self.title_for(path)
        claimed = set(self.neighbours.values())
        for candidate in self.by_title.get(title, []):
            if candidate not in claimed:
                self.by_path[path] = candidate
                return candidate
        slug = marker_id or slugify(title, drop_asides=True)
        # Same id, and no other heading of the roadmap claims that section.
        if slug in self.titles and slug not in claimed and slug not in self.by_path.values():
            self.by_path[path] = slug
            return slug
        section = Section(id=unique_slug(slug, self.ids), title=title)
        self.titles[section.id] = title
        self.by_path[path] = section.id
        self.created.append(section)
        return section.id


def _aot(doc: TOMLDocument, key: str, path: Path) -> AoT:
    if key not in doc:
        doc.append(key, tomlkit.aot())
    value = doc[key]
    if not isinstance(value, AoT):
        raise CatalogError(path, None, f"`{key}` must be written as [[{key}]] tables to import")
    return value


def _table(fields: dict[str, Any]) -> Any:
    table = tomlkit.table()
    for key, value in fields.items():
        table.add(key, value)
    return table


def _append(aot: AoT, fields: dict[str, Any]) -> None:
    """Append a table separated by one blank line, as a maintainer would write it.

    tomlkit keeps a blank line that ends an entry inside that entry; when the last entry
    has one, the new entry takes over the same ending, so what followed stays apart.
    """
    table = _table(fields)
    if len(aot) and aot[-1].as_string().endswith("\n\n"):
        table.trivia.indent = ""
        table.add(tomlkit.nl())
    else:
        table.trivia.indent = "\n"
    aot.append(table)


def _insert(aot: AoT, index: int, fields: dict[str, Any]) -> None:
    """Insert a table before entry `index`, ending in the blank line that parts entries."""
    if index >= len(aot):
        _append(aot, fields)
        return
    table = _table(fields)
    table.trivia.indent = ""
    table.add(tomlkit.nl())
    aot.insert(index, table)


def _drop_lines(aot: AoT) -> int:
    dropped = 0
    for table in aot:
        if "line" in table:
            del table["line"]
            dropped += 1
    return dropped


def _resolver(
    links: Sequence[Link], catalog: Catalog, blocks: Sequence[Block]
) -> tuple[dict[int, tuple[str, ...]], list[str | None], _Sections]:
    """Each link's heading path and marker section, and the section resolver for them."""
    paths = heading_paths(links)
    markers = [next((b.section for b in blocks if b.holds(ln.line)), None) for ln in links]
    by_url: dict[str, list[int]] = {}
    for i, r in enumerate(catalog.resources):
        by_url.setdefault(r.url, []).append(i)
    neighbours: dict[tuple[str, ...], str] = {}
    for i, link in enumerate(links):
        if markers[i] is None and len(by_url.get(link.url, ())) == 1:
            neighbours.setdefault(paths[i], catalog.resources[by_url[link.url][0]].section)
    return paths, markers, _Sections(catalog.sections, neighbours, paths.values())


def plan_sections(
    links: Sequence[Link], catalog_text: str | None, catalog_path: Path, locale: str = "en"
) -> tuple[list[str], list[Section]]:
    """The section id each link would be imported into, and the sections that would be
    created: `monitor init` writes these ids into the markers it inserts, and the import
    that follows resolves them to the same sections."""
    source = catalog_text if catalog_text and catalog_text.strip() else new_catalog(locale)
    catalog = parse_catalog(source, catalog_path)
    paths, markers, sections = _resolver(links, catalog, ())
    ids = [sections.resolve(paths[i], markers[i]) for i in range(len(links))]
    return ids, sections.created


def import_links(
    links: Sequence[Link],
    catalog_text: str | None,
    catalog_path: Path,
    blocks: Sequence[Block] = (),
    locale: str = "en",
    readme: str = "README.md",
) -> ImportResult:
    """Merge roadmap links into the catalog text (None or blank: a new catalog)."""
    fresh = catalog_text is None or not catalog_text.strip()
    old_text = "" if catalog_text is None else catalog_text
    source = new_catalog(locale, readme) if fresh else old_text
    catalog: Catalog = parse_catalog(source, catalog_path)
    doc = tomlkit.parse(source)

    paths, markers, sections = _resolver(links, catalog, blocks)
    by_key = {(r.url, r.section): i for i, r in enumerate(catalog.resources)}
    by_url: dict[str, list[int]] = {}
    for i, r in enumerate(catalog.resources):
        by_url.setdefault(r.url, []).append(i)
    taken_ids = {r.id for r in catalog.resources}

    # Pass 1: every checkable link's URL and section, in document order.
    placed: list[tuple[Link, str, str, bool]] = []
    skipped: list[Skipped] = []
    anchors = duplicates = 0
    seen: set[tuple[str, str]] = set()
    for i, link in enumerate(links):
        if link.url.startswith("#"):
            anchors += 1
            continue
        try:
            url = check_url(link.url)
        except ValueError as exc:
            skipped.append(Skipped(link, str(exc)))
            continue
        section_id = sections.resolve(paths[i], markers[i])
        if (url, section_id) in seen:
            duplicates += 1
            continue
        seen.add((url, section_id))
        table = any(b.mode is Mode.TABLE and b.holds(link.line) for b in blocks)
        placed.append((link, url, section_id, table))

    # Pass 2: each row is an existing entry (its index) or a new one (its fields).
    matched: set[int] = set()
    order: list[int | dict[str, Any]] = []
    added: list[Added] = []
    for link, url, section_id, table in placed:
        index = by_key.get((url, section_id))
        if index is None:
            # The URL's entry under another section that the roadmap no longer lists it
            # under: the heading was renamed or the link moved; it keeps its fields.
            index = next(
                (
                    j
                    for j in by_url.get(url, ())
                    if j not in matched and (url, catalog.resources[j].section) not in seen
                ),
                None,
            )
        if index is not None:
            matched.add(index)
            order.append(index)
            continue
        resource_id = unique_slug(slugify(link.label), taken_ids)
        kind = infer_kind(url)
        fields = {
            "id": resource_id,
            "url": url,
            "label": link.label,
            "section": section_id,
            "kind": kind.value,
        }
        # A table block is replaced by rows made from the catalog, so the words an item
        # has beside its link live on there; an annotated list keeps them in the README.
        description = link.description if table else ""
        if description:
            fields["description"] = description
        order.append(fields)
        added.append(Added(resource_id, url, section_id, kind, link.line, description))

    if sections.created:
        aot = _aot(doc, "sections", catalog_path)
        for section in sections.created:
            _append(aot, {"id": section.id, "title": section.title})
    unlined = 0
    if "resources" in doc:
        unlined = _drop_lines(_aot(doc, "resources", catalog_path))
    if added:
        aot = _aot(doc, "resources", catalog_path)
        _place(aot, order, len(catalog.resources))

    text = tomlkit.dumps(doc)
    if added or sections.created:
        text = text.rstrip("\n") + "\n"
    parse_catalog(text, catalog_path)  # what we write must load; a bug here is ours
    missing = tuple(Kept(r.id, r.url) for i, r in enumerate(catalog.resources) if i not in matched)
    return ImportResult(
        text=text,
        changed=text != old_text,
        links=len(links),
        added=tuple(added),
        unlined=unlined,
        new_sections=tuple(sections.created),
        missing=missing,
        skipped=tuple(skipped),
        anchors=anchors,
        duplicates=duplicates,
    )


def _place(aot: AoT, order: Sequence[int | dict[str, Any]], existing: int) -> None:
    """Insert the new entries of `order` after the entry of the link written before them
    (existing entries keep their places; new ones at the top go before the first)."""
    position = {i: i for i in range(existing)}  # existing index -> current index in aot
    after = -1  # aot index after which the next new entry goes
    for item in order:
        if isinstance(item, int):
            after = position[item]
            continue
        at = after + 1
        if at < len(aot):  # in the middle: the entries after it move down one
            for key, value in position.items():
                if value >= at:
                    position[key] = value + 1
        _insert(aot, at, item)
        after = at


def import_roadmap(
    roadmap_text: str, roadmap_path: str | None, catalog_text: str | None, catalog_path: Path
) -> ImportResult:
    """Import the links of a roadmap (Markdown, HTML or a list of URLs) into the catalog."""
    links, blocks = roadmap_links(roadmap_text, roadmap_path)
    return import_links(
        links, catalog_text, catalog_path, blocks, locale=detect_locale(roadmap_text)
    )


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
