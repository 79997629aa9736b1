"""`monitor init`: adopt monitor in any repository holding a curated list.

It wraps the README's link lists in markers (annotated lists, or generated tables), builds
the catalog from what the markers hold, writes a nightly workflow that uses the reusable
action, and keeps the local history out of git. Every step only adds what is missing, so
running it again changes nothing; nothing the maintainer wrote is removed or reordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

from monitor.config.catalog import CatalogError, parse_catalog
from monitor.config.urls import is_checkable
from monitor.files import write_text_atomic
from monitor.sources.extract import Link, extract_links
from monitor.sources.importer import (
    ImportResult,
    detect_locale,
    import_links,
    plain_link,
    plan_sections,
)
from monitor.sources.markers import (
    END_MARKER,
    Block,
    MarkerError,
    Mode,
    begin_marker,
    find_blocks,
    split_lines,
)

# The reusable action of this repository (action.yml at its root), pinned to a release tag.
ACTION_REPOSITORY = "curated-link-monitor/monitor"
WORKFLOW = Path(".github") / "workflows" / "monitor.yml"
# The history, the status page, and the lock file a run leaves beside its database (wherever
# `--db` puts it: "db/" alone misses `history/x.sqlite.lock`).
GITIGNORE_LINES = ("db/", "site/", "*.sqlite.lock")


@cache
def _md() -> MarkdownIt:
    # Block structure only (lists, headings): no inline text is parsed.
    return MarkdownIt("commonmark").enable(["table"]).disable("inline")


@dataclass(frozen=True)
class Span:
    """Lines [start, end) (0-based) of a top-level list."""

    start: int
    end: int


def list_spans(text: str) -> tuple[list[Span], list[int]]:
    """Top-level bullet and ordered lists (trailing blank lines trimmed), and heading lines."""
    lines = split_lines(text)
    spans: list[Span] = []
    headings: list[int] = []
    for token in _md().parse(text):
        if token.type == "heading_open" and token.map:
            headings.append(token.map[0])
        if token.level != 0 or not token.map:
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start, end = token.map
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1
            spans.append(Span(start, end))
    return spans, headings


@dataclass(frozen=True)
class Wrap:
    section: str
    start: int  # first line of the block's content
    end: int  # line after it


def plan_markers(
    text: str,
    path: str,
    catalog_text: str | None,
    catalog_path: Path,
    mode: Mode,
    locale: str,
    links: list[Link] | None = None,
) -> list[Wrap]:
    """Where markers go: around each list with a checkable link, outside existing blocks
    and code. In table mode a section's lists share one block when only blank lines part
    them; text between them is never put inside a block."""
    blocks: list[Block] = find_blocks(text, path)
    lines = split_lines(text)
    if links is None:
        links = [ln for ln in extract_links(text, path) if is_checkable(ln.url)]
    spans, headings = list_spans(text)
    ids, _ = plan_sections(links, catalog_text, catalog_path, locale)
    wraps: list[Wrap] = []
    for span in spans:
        if any(b.start - 1 <= span.end and span.start <= b.end for b in blocks):
            continue  # already marked (or touching a marked block)
        inside = [i for i, ln in enumerate(links) if span.start < ln.line <= span.end]
        if not inside:
            continue  # a table of contents (same-page anchors) or a list without links
        section = ids[inside[0]]
        last = wraps[-1] if wraps else None
        if (
            mode is Mode.TABLE
            and last is not None
            and last.section == section
            and not any(last.end <= h < span.start for h in headings)
        ):
            # One section, one table. A block is replaced whole by `readme`, so only lists
            # parted by blank lines share it: the author's words or comments between two
            # lists are never inside a block. A later list parted by text stays as written
            # (its links are rows of the section's table all the same).
            if all(not line.strip() for line in lines[last.end : span.start]):
                wraps[-1] = Wrap(section, last.start, span.end)
            continue
        wraps.append(Wrap(section, span.start, span.end))
    return wraps


def dropped_items(text: str, wraps: list[Wrap], links: list[Link]) -> list[int]:
    """The 1-based lines of the items a table made of `wraps` would drop: an item without a
    link monitor checks has no row to keep its words ("- More to come", "- [Mail](mailto:…)").
    An item's other words and nested items live on as its link's description."""
    lines = sorted(ln.line for ln in links)
    dropped = []
    for token in _md().parse(text):
        if token.type != "list_item_open" or token.level != 1 or not token.map:
            continue
        start, end = token.map
        if not any(w.start <= start < w.end for w in wraps):
            continue
        if not any(start < line <= end for line in lines):
            dropped.append(start + 1)
    return dropped


def shifted(links: list[Link], wraps: list[Wrap]) -> list[Link]:
    """The links' lines once the markers of `wraps` are inserted (one line above and one
    below each wrapped list): no second parse of the whole document."""
    out = []
    for link in links:
        index = link.line - 1
        shift = sum(2 if w.end <= index else 1 if w.start <= index else 0 for w in wraps)
        out.append(replace(link, line=link.line + shift) if shift else link)
    return out


def insert_markers(text: str, wraps: list[Wrap], mode: Mode) -> str:
    lines = split_lines(text)
    out: list[str] = []
    cursor = 0
    for wrap in wraps:
        first = lines[wrap.start]
        newline = "\r\n" if first.endswith("\r\n") else "\n"
        out.extend(lines[cursor : wrap.start])
        out.append(begin_marker(wrap.section, mode) + newline)
        body = lines[wrap.start : wrap.end]
        if body and not body[-1].endswith(("\n", "\r")):
            body[-1] += newline  # the list ended the file without a newline
        out.extend(body)
        out.append(END_MARKER + newline)
        cursor = wrap.end
    out.extend(lines[cursor:])
    return "".join(out)


def workflow_text(catalog: str, readme: str, version: str, pages: bool) -> str:
    """The nightly workflow `monitor init` writes: the reusable action, pinned."""
    uses = f"{ACTION_REPOSITORY}@v{version}"
    deploy = (
        """
  deploy:
    needs: check
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Deploy the status page to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128 # v5.0.0
"""
        if pages
        else ""
    )
    return f"""\
# Written by `monitor init`. Each night: check every link of {readme}, refresh the status
# marks between the monitor markers, commit them and keep the history on the monitor-data
# branch. On pull requests: check only the links they add or change. Edit freely: running
# `monitor init` again leaves this file alone.
name: Link check

on:
  schedule:
    - cron: "17 3 * * *"
  workflow_dispatch:
  pull_request:

permissions: {{}}

concurrency:
  group: monitor-${{{{ github.ref }}}}
  cancel-in-progress: false

jobs:
  check:
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: write # commit {readme} and status.md, push the monitor-data branch
    steps:
      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0
      - uses: {uses}
        with:
          catalog: {catalog}
          readme: {readme}
          mode: nightly
          fail-on: broken
          publish: {"true" if pages else "false"}

  changed-links:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 20
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0
        with:
          fetch-depth: 0
      - uses: {uses}
        with:
          catalog: {catalog}
          mode: pull-request
          fail-on: broken
{deploy}"""


@dataclass
class InitResult:
    locale: str
    mode: Mode
    wrapped: int  # lists given markers now
    blocks: int  # marked blocks in the README afterwards
    imported: ImportResult
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # existing files left alone although different


class InitError(Exception):
    """Why the repository cannot be initialised; `str()` names the file and the line."""


def _refuse_dropped(
    readme: Path, text: str, wraps: list[Wrap], links: list[Link], table: bool
) -> None:
    """In table mode, an item a table would drop is an error naming its line."""
    dropped = dropped_items(text, wraps, links) if table else []
    if dropped:
        more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
        raise InitError(
            f"{readme}:{dropped[0]}: this item has no link monitor checks, so a table would "
            f"drop its words{more}; keep the lists with --mode list, move the item out of the "
            "list, or pass --force to drop it; nothing written"
        )


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise InitError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _write(path: Path, text: str, result: InitResult) -> None:
    if _read(path) == text:
        result.unchanged.append(path)
        return
    write_text_atomic(path, text)
    result.written.append(path)


def init_repository(
    root: Path,
    readme: Path,
    catalog: Path,
    mode: Mode,
    locale: str | None,
    version: str,
    pages: bool = False,
    dry_run: bool = False,
    force: bool = False,
) -> InitResult:
    """Adopt monitor in `root`; paths are relative to it (or absolute). In table mode, an
    item that a table would drop is an error naming its line, unless `force`."""
    readme_path, catalog_path = root / readme, root / catalog
    text = _read(readme_path)
    if text is None:
        raise InitError(f"{readme_path}: file not found (name your list: monitor init FILE)")
    old_catalog = _read(catalog_path)
    chosen: str
    if old_catalog is not None and old_catalog.strip():
        try:
            chosen = parse_catalog(old_catalog, catalog_path).settings.locale
        except CatalogError as exc:
            raise InitError(str(exc)) from None
    else:
        chosen = locale or detect_locale(text)
    links = [plain_link(ln) for ln in extract_links(text, str(readme)) if is_checkable(ln.url)]
    try:
        wraps = plan_markers(text, str(readme), old_catalog, catalog_path, mode, chosen, links)
        _refuse_dropped(readme_path, text, wraps, links, mode is Mode.TABLE and not force)
        marked = insert_markers(text, wraps, mode)
        blocks = find_blocks(marked, str(readme))
    except MarkerError as exc:
        raise InitError(str(exc)) from None
    links = [ln for ln in shifted(links, wraps) if any(b.holds(ln.line) for b in blocks)]
    if not blocks:
        raise InitError(
            f"{readme_path}: no list of links to monitor (init wraps bullet or numbered lists "
            "whose items link to http(s) pages or files); nothing written"
        )
    try:
        readme_setting = readme_path.resolve().relative_to(catalog_path.resolve().parent)
    except ValueError:
        readme_setting = readme_path.resolve()
    try:
        imported = import_links(
            links,
            old_catalog,
            catalog_path,
            blocks,
            locale=chosen,
            readme=readme_setting.as_posix(),
        )
    except CatalogError as exc:
        raise InitError(str(exc)) from None
    result = InitResult(chosen, mode, len(wraps), len(blocks), imported)
    if dry_run:
        return result
    _write(readme_path, marked, result)
    _write(catalog_path, imported.text, result)
    workflow = root / WORKFLOW
    want = workflow_text(
        catalog_path.resolve().relative_to(root.resolve()).as_posix()
        if catalog_path.resolve().is_relative_to(root.resolve())
        else str(catalog),
        readme_path.resolve().relative_to(root.resolve()).as_posix()
        if readme_path.resolve().is_relative_to(root.resolve())
        else str(readme),
        version,
        pages,
    )
    existing = _read(workflow)
    if existing is None:
        _write(workflow, want, result)
    elif existing == want:
        result.unchanged.append(workflow)
    else:
        result.kept.append(workflow)
    gitignore = root / ".gitignore"
    current = _read(gitignore) or ""
    present = {line.strip() for line in current.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if missing:
        sep = "" if not current or current.endswith("\n") else "\n"
        header = "# monitor: local history and status page (kept on the monitor-data branch)\n"
        _write(gitignore, current + sep + header + "\n".join(missing) + "\n", result)
    else:
        result.unchanged.append(gitignore)
    return result
