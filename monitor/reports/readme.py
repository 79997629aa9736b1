"""The README between `monitor` markers: generated tables, or annotated bullet lists.

Table mode (`<!-- monitor:begin section=ID -->`) replaces the block with a table of the
section's resources. List mode (`... section=ID mode=list -->`) keeps every item of the
author's bullet list byte for byte and maintains only a short suffix per item, between the
invisible inline delimiters `<!--monitor-->` and `<!--/monitor-->` (GitHub renders HTML
comments as nothing): the item's status, and its duration and stars when the catalog's
`[settings] list_suffix` asks for them. A contributor's edit to the item survives; the
suffix is rewritten.

Everything outside the markers is kept byte for byte (line endings, BOM, trailing
spaces). The output holds no clock: the same data renders the same bytes, so the
nightly job commits only when something really changed. Marker grammar:
`monitor.sources.markers` (markers inside code blocks are not markers).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from monitor.domain.state import State
from monitor.files import clean_stale_temps, write_atomic
from monitor.reports.context import ReportContext, Row, SectionView
from monitor.reports.markdown import md_environment
from monitor.reports.text import md_escape
from monitor.sources.markers import Block, MarkerError, Mode, find_blocks, split_lines

# Kept under its old name: callers catch it around `update_readme`.
ReadmeError = MarkerError

OPEN, CLOSE = "<!--monitor-->", "<!--/monitor-->"
# One generated suffix with the space that separates it from the author's text.
SUFFIX = re.compile(r" ?<!--monitor-->.*?<!--/monitor-->")
SUFFIX_PARTS = ("status", "duration", "stars")


def render_table(ctx: ReportContext, section: SectionView) -> str:
    env = md_environment(ctx.locale)
    return env.get_template("readme_table.md.j2").render(ctx=ctx, section=section)


@cache
def _list_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    if md.linkify is not None:  # as link extraction does: bare URLs with a scheme only
        md.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


@dataclass(frozen=True)
class Item:
    """One list item: the line that ends its first paragraph, and its links (href, text)."""

    line: int  # 0-based, within the block
    links: tuple[tuple[str, str], ...]


def _link_texts(children: Sequence[Token]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    href, depth = "", 0
    text: list[str] = []
    for tok in children:
        if tok.type == "link_open":
            depth += 1
            if depth == 1:
                href, text = str(tok.attrGet("href") or ""), []
        elif tok.type == "link_close":
            depth -= 1
            if depth == 0:
                out.append((href, " ".join("".join(text).split())))
        elif depth and tok.type in ("text", "code_inline"):
            text.append(tok.content)
    return out


def list_items(text: str) -> list[Item]:
    """Items of the bullet and ordered lists in `text`, nested ones too, in document order."""
    tokens = _list_parser().parse(text)
    items: list[Item] = []
    for i, tok in enumerate(tokens):
        if tok.type != "list_item_open":
            continue
        # The item's own first paragraph: the first inline before any nested block closes it.
        for nxt in tokens[i + 1 :]:
            if nxt.type in ("list_item_close", "bullet_list_open", "ordered_list_open"):
                break
            if nxt.type == "inline" and nxt.map:
                items.append(Item(nxt.map[1] - 1, tuple(_link_texts(nxt.children or []))))
                break
    return items


def _suffix(main: Row, others: Sequence[tuple[str, Row]], parts: Sequence[str]) -> str:
    shown: list[str] = []
    if "status" in parts and main.state is not State.UNKNOWN:
        shown.append(main.emoji)
    if "duration" in parts and main.duration:
        shown.append(f"⏱ {main.duration}")
    # An item whose home page has no stars shows its repository's (the "Source Code" link).
    stars = main.stars or next((row.stars for _, row in others if row.stars), "")
    if "stars" in parts and stars:
        shown.append(f"⭐ {stars}")
    if "status" in parts:
        # The item's other links (Demo, Source Code) show up only when they have a problem.
        problems = [(text, row) for text, row in others if row.state.is_problem]
        shown.extend(f"{md_escape(text)} {row.emoji}" for text, row in problems)
    return " · ".join(shown)


def annotate_list(lines: Sequence[str], section: SectionView, parts: Sequence[str]) -> list[str]:
    """The block's lines with each item's generated suffix rewritten, nothing else."""
    clean = [SUFFIX.sub("", line) for line in lines]
    by_url: dict[str, list[Row]] = defaultdict(list)
    for row in section.catalog_rows:
        by_url[row.resource.url].append(row)
    used: dict[str, int] = defaultdict(int)
    out = list(clean)
    for item in list_items("".join(clean)):
        if not item.links or item.links[0][0] not in by_url:
            continue
        url = item.links[0][0]
        candidates = by_url[url]
        main = candidates[min(used[url], len(candidates) - 1)]
        used[url] += 1
        others = [
            (text, by_url[href][0])
            for href, text in item.links[1:]
            if href in by_url and href != url  # "Source Code" linking the main URL again
        ]
        suffix = _suffix(main, others, parts)
        if not suffix:
            continue
        line = out[item.line]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        content = body.rstrip(" \t")
        out[item.line] = f"{content} {OPEN}{suffix}{CLOSE}{body[len(content) :]}{ending}"
    return out


def rewrite(
    text: str, ctx: ReportContext, path: Path | str = "README.md", parts: Sequence[str] = ()
) -> str:
    """The README with every marked block regenerated from `ctx`."""
    sections = {s.id: s for s in ctx.sections}
    lines = split_lines(text)
    blocks = find_blocks(text, path, set(sections))
    out: list[str] = []
    cursor = 0
    for block in blocks:
        out.extend(lines[cursor : block.start])
        out.extend(_render(block, lines, ctx, sections[block.section], parts or SUFFIX_PARTS))
        cursor = block.end
    out.extend(lines[cursor:])
    return "".join(out)


def _render(
    block: Block,
    lines: Sequence[str],
    ctx: ReportContext,
    section: SectionView,
    parts: Sequence[str],
) -> list[str]:
    if block.mode is Mode.LIST:
        return annotate_list(lines[block.start : block.end], section, parts)
    begin_line = lines[block.start - 1]
    newline = "\r\n" if begin_line.endswith("\r\n") else "\n"
    return [render_table(ctx, section).replace("\n", newline)]


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ReadmeError(path, None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ReadmeError(path, None, f"not UTF-8 text ({exc.reason})") from None


def update_readme(
    path: Path, ctx: ReportContext, *, write: bool = True, parts: Sequence[str] = ()
) -> tuple[str, str]:
    """(old, new) text; writes atomically when `write` and the text changed. With `write`,
    what a killed earlier writer left beside the file goes, changed or not."""
    old = read_text(path)
    new = rewrite(old, ctx, path, parts)
    if write:
        clean_stale_temps(path)
    if write and new != old:
        write_atomic(path, new.encode("utf-8"))
    return old, new


def diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{name} (current)",
            tofile=f"{name} (regenerated)",
        )
    )
