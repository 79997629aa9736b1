"""README tables: rewrite only what lies between `monitor` markers, nothing else.

A marker is a whole line (surrounding spaces allowed):

    <!-- monitor:begin section=cursos -->
    ...generated table...
    <!-- monitor:end -->

Everything outside the markers is kept byte for byte (line endings, BOM, trailing
spaces). The output holds no clock: the same data renders the same bytes, so the
nightly job commits only when something really changed. A marker mentioned inside a
line of prose (as this docstring does) is not a marker.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.files import write_atomic
from monitor.reports.context import ReportContext, SectionView
from monitor.reports.markdown import md_environment

MARKER = re.compile(r"<!--\s*monitor:")
BEGIN = re.compile(r"<!--\s*monitor:begin\s+section=(\S+?)\s*-->")
END = re.compile(r"<!--\s*monitor:end\s*-->")


class ReadmeError(Exception):
    """A README that cannot be rewritten safely; names the file and the line."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = Path(path), line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Block:
    """Lines [start, end) lie between a begin marker (start - 1) and its end marker (end)."""

    section: str
    start: int
    end: int


def find_blocks(lines: list[str], path: Path | str, sections: set[str]) -> list[Block]:
    """Pair the markers; unknown, nested or unbalanced markers raise `ReadmeError`."""
    blocks: list[Block] = []
    open_at: int | None = None
    open_section = ""
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not MARKER.match(line):
            continue
        number = index + 1
        if begin := BEGIN.fullmatch(line):
            if open_at is not None:
                raise ReadmeError(
                    path,
                    number,
                    f"nested marker: section {open_section!r} opened at "
                    f"line {open_at + 1} is not closed by <!-- monitor:end -->",
                )
            section = begin.group(1)
            if section not in sections:
                known = ", ".join(sorted(sections)) or "none"
                raise ReadmeError(
                    path, number, f"unknown section {section!r} in marker (known: {known})"
                )
            open_at, open_section = index, section
        elif END.fullmatch(line):
            if open_at is None:
                raise ReadmeError(path, number, "<!-- monitor:end --> without a begin marker")
            blocks.append(Block(open_section, open_at + 1, index))
            open_at = None
        else:
            raise ReadmeError(
                path,
                number,
                f"unknown marker {line!r}; expected "
                "<!-- monitor:begin section=ID --> or <!-- monitor:end -->",
            )
    if open_at is not None:
        raise ReadmeError(
            path, open_at + 1, f"section {open_section!r} is never closed by <!-- monitor:end -->"
        )
    return blocks


def render_table(ctx: ReportContext, section: SectionView) -> str:
    return md_environment().get_template("readme_table.md.j2").render(ctx=ctx, section=section)


def rewrite(text: str, ctx: ReportContext, path: Path | str = "README.md") -> str:
    """The README with every marked block regenerated from `ctx`."""
    sections = {s.id: s for s in ctx.sections}
    lines = text.splitlines(keepends=True)
    blocks = find_blocks(lines, path, set(sections))
    out: list[str] = []
    cursor = 0
    for block in blocks:
        out.extend(lines[cursor : block.start])
        begin_line = lines[block.start - 1]
        newline = "\r\n" if begin_line.endswith("\r\n") else "\n"
        table = render_table(ctx, sections[block.section])
        out.append(table.replace("\n", newline))
        cursor = block.end
    out.extend(lines[cursor:])
    return "".join(out)


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ReadmeError(path, None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ReadmeError(path, None, f"not UTF-8 text ({exc.reason})") from None


def update_readme(path: Path, ctx: ReportContext, *, write: bool = True) -> tuple[str, str]:
    """(old, new) text; writes atomically when `write` and the text changed."""
    old = read_text(path)
    new = rewrite(old, ctx, path)
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
