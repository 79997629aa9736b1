"""The README marker grammar, one reader for `monitor readme`, `import` and `init`.

A marker is a whole line (surrounding spaces allowed) outside code:

    <!-- monitor:begin section=cursos -->             a generated table (the default)
    <!-- monitor:begin section=tools mode=list -->    an annotated bullet list
    <!-- monitor:end -->

Lines inside fenced or indented code blocks are never markers: a README that documents the
markers in a code block (as an adoption guide does) keeps its example untouched. A marker
mentioned inside a line of prose or a code span is not a marker either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

MARKER = re.compile(r"<!--\s*monitor:")
BEGIN = re.compile(r"<!--\s*monitor:begin\s+section=(?P<id>\S+?)(?:\s+mode=(?P<mode>\S+?))?\s*-->")
END = re.compile(r"<!--\s*monitor:end\s*-->")


class Mode(StrEnum):
    TABLE = "table"
    LIST = "list"


class MarkerError(Exception):
    """Markers that cannot be used safely; names the file and the line."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = Path(path), line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Block:
    """Lines [start, end) (0-based) lie between a begin marker (start - 1) and its end (end)."""

    section: str
    mode: Mode
    start: int
    end: int

    def holds(self, line: int) -> bool:
        """Whether a 1-based source line lies between this block's markers."""
        return self.start < line <= self.end


@cache
def _md() -> MarkdownIt:
    # Block structure only: code blocks are known without parsing any inline text.
    return MarkdownIt("commonmark").disable("inline")


def code_lines(text: str) -> frozenset[int]:
    """0-based line numbers inside fenced or indented code blocks."""
    lines: set[int] = set()
    for token in _md().parse(text):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(token.map[0], token.map[1]))
    return frozenset(lines)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept, split where CommonMark splits (not on \\f or U+2028,
    which `str.splitlines` also takes as line ends), so numbers match markdown-it's."""
    return _LINE.findall(text)


def find_blocks(
    text: str, path: Path | str = "README.md", sections: set[str] | None = None
) -> list[Block]:
    """Pair the markers outside code; unknown, nested or unbalanced ones raise MarkerError.

    `sections`, when given, are the ids a begin marker may name (the catalog's).
    """
    lines = split_lines(text)
    in_code = code_lines(text)
    blocks: list[Block] = []
    open_at: int | None = None
    open_section, open_mode = "", Mode.TABLE
    for index, raw in enumerate(lines):
        line = raw.strip()
        if index in in_code or not MARKER.match(line):
            continue
        number = index + 1
        if begin := BEGIN.fullmatch(line):
            if open_at is not None:
                raise MarkerError(
                    path,
                    number,
                    f"nested marker: section {open_section!r} opened at "
                    f"line {open_at + 1} is not closed by <!-- monitor:end -->",
                )
            section, mode = begin.group("id"), begin.group("mode") or Mode.TABLE.value
            if mode not in Mode.__members__.values():
                raise MarkerError(
                    path, number, f"unknown mode {mode!r} in marker (known: list, table)"
                )
            if sections is not None and section not in sections:
                known = ", ".join(sorted(sections)) or "none"
                raise MarkerError(
                    path, number, f"unknown section {section!r} in marker (known: {known})"
                )
            open_at, open_section, open_mode = index, section, Mode(mode)
        elif END.fullmatch(line):
            if open_at is None:
                raise MarkerError(path, number, "<!-- monitor:end --> without a begin marker")
            blocks.append(Block(open_section, open_mode, open_at + 1, index))
            open_at = None
        else:
            raise MarkerError(
                path,
                number,
                f"unknown marker {line!r}; expected "
                "<!-- monitor:begin section=ID [mode=list] --> or <!-- monitor:end -->",
            )
    if open_at is not None:
        raise MarkerError(
            path, open_at + 1, f"section {open_section!r} is never closed by <!-- monitor:end -->"
        )
    return blocks


def begin_marker(section: str, mode: Mode) -> str:
    suffix = " mode=list" if mode is Mode.LIST else ""
    return f"<!-- monitor:begin section={section}{suffix} -->"


END_MARKER = "<!-- monitor:end -->"
