"""The file checker: a relative link to a file shipped with the roadmap.

Relative links resolve against the folder of the Markdown file that holds them (the catalog's
folder, `CheckContext.base_dir`). A missing file is `broken`: GitHub shows readers a 404 for
it. So is a `#fragment` naming no heading (GitHub's heading ids) or HTML id of a Markdown
file. A path that leaves the repository (`../x`, or a symlink pointing outside) is `broken` too,
without looking at what lies there: on GitHub such a link is a 404 for every reader, and the
checker must not probe the machine it runs on.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import unquote, urlsplit

from monitor.checkers.base import CheckContext
from monitor.domain.models import FILE_CHECKER, CheckResult, Kind, Metadata, Resource, Verdict
from monitor.sources.extract import MARKDOWN_SUFFIXES, markdown_anchors

# Magic numbers of the types a roadmap ships, checked when the extension claims one of them
# (a PDF saved from an error page is HTML with a .pdf name).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/zip": (b"PK\x03\x04",),
}


def sniff(head: bytes) -> str | None:
    for content_type, signatures in MAGIC.items():
        if head.startswith(signatures):
            return content_type
    return None


class FileChecker:
    name = FILE_CHECKER

    def handles(self, resource: Resource) -> bool:
        return resource.kind is Kind.FILE

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        base = CheckResult(
            resource_id=resource.id, url=resource.url, verdict=Verdict.OK, checker=self.name
        )
        parts = urlsplit(resource.url)
        relative = unquote(parts.path)  # queries ignored; a fragment is checked below
        root = ctx.base_dir.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            return _with(base, Verdict.BROKEN, error=f"{relative!r} points outside the repository")
        shown = target.relative_to(root).as_posix() or "."
        if not target.exists():
            return _with(base, Verdict.BROKEN, error=f"file not found: {shown}")
        if target.is_dir():
            return _with(
                base, Verdict.OK, note="a folder", meta=Metadata(content_type="inode/directory")
            )
        fragment = unquote(parts.fragment)
        if fragment and target.suffix.lower() in MARKDOWN_SUFFIXES:
            text = target.read_text(encoding="utf-8", errors="replace")
            anchors = {a.casefold() for a in markdown_anchors(text)}
            # GitHub resolves #Install to the heading id "install": compare case-insensitively
            if fragment.casefold() not in anchors:
                return _with(base, Verdict.BROKEN, error=f"missing anchor #{fragment} in {shown}")
        size = target.stat().st_size
        guessed = mimetypes.guess_type(target.name)[0]
        with target.open("rb") as handle:
            head = handle.read(16)
        sniffed = sniff(head)
        note = None
        if guessed in MAGIC and sniffed != guessed:
            note = f"named like {guessed} but the content is not"
        meta = Metadata(
            title=target.name,
            size_bytes=size,
            content_type=sniffed or guessed or "application/octet-stream",
        )
        return _with(base, Verdict.OK, note=note, meta=meta)


def _with(
    base: CheckResult,
    verdict: Verdict,
    *,
    error: str | None = None,
    note: str | None = None,
    meta: Metadata | None = None,
) -> CheckResult:
    return CheckResult(
        resource_id=base.resource_id,
        url=base.url,
        verdict=verdict,
        checker=base.checker,
        final_url=base.url,
        error=error,
        note=note,
        meta=meta or Metadata(),
        elapsed_ms=0,
    )
