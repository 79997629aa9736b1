"""`monitor fix`: apply `moved` verdicts to the catalog and the README; suggest archived copies.

Moves come from the newest usable check of each resource (verdict `moved` with a `moved_to`
URL, checked at the catalog's current URL). They are applied to `resources.toml` with tomlkit,
so comments, order and every other field stay as written (the resource keeps its id), and to
every Markdown link of the README that points at the old URL. Nothing is written until the
caller says so, and then atomically (temporary file + rename), the catalog first.

The two writes are two files, so a kill can fall between them: the catalog already has the
new URL, the README still links the old one. What to apply is therefore derived from the
README and the catalog together (`unfinished_moves`): a README link that no catalog entry
has, which the history shows moved to a resource's current URL, is rewritten too, so a rerun
of `fix --yes` completes the job, even after a later `check` recorded the new URL.

For `broken` resources the Wayback Machine's availability API is asked for the latest
snapshot, through the shared HTTP engine; those are suggestions only, never applied.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import tomlkit

from monitor.config.urls import UnsafeUrl, safe_url
from monitor.domain.models import Resource, Verdict
from monitor.net.engine import HttpEngine

if TYPE_CHECKING:  # the store (sqlalchemy) loads only when a command opens one
    from monitor.store.database import Store

WAYBACK_API = "https://archive.org/wayback/available"
# The availability API answers with http:// snapshot URLs; the archive serves them over https.
SNAPSHOT_REWRITES: tuple[tuple[str, str], ...] = (
    ("http://web.archive.org/", "https://web.archive.org/"),
)


@dataclass(frozen=True)
class Move:
    resource_id: str
    old_url: str
    new_url: str


@dataclass(frozen=True)
class Snapshot:
    """A Wayback Machine copy of a broken link: a suggestion, never applied."""

    resource_id: str
    url: str
    snapshot_url: str | None
    timestamp: str | None = None
    error: str | None = None

    @property
    def date(self) -> str | None:
        ts = self.timestamp
        return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}" if ts and len(ts) >= 8 else None


@dataclass(frozen=True)
class Refusal:
    """A stored move `fix` will not write, and why (issue 16: URLs from servers are untrusted)."""

    resource_id: str
    new_url: str
    reason: str


def moves_from_store(
    store: Store, resources: Sequence[Resource], refused: list[Refusal] | None = None
) -> list[Move]:
    """The `moved` suggestions still pending for the catalog's current URLs.

    A target that is not a safe absolute http(s) URL (`monitor.config.urls.safe_url`) is not a
    move: it goes to `refused` with the reason instead, and nothing is written for it.
    """
    taken = {r.url for r in resources}
    newest = store.latest_many([r.id for r in resources], usable_only=True)
    moves = []
    for resource in resources:
        latest = newest.get(resource.id)
        if (
            latest is None
            or latest.verdict is not Verdict.MOVED
            or not latest.moved_to
            or latest.url != resource.url
            or latest.moved_to == resource.url
            or latest.moved_to in taken  # would duplicate another entry: leave it to a human
        ):
            continue
        try:
            target = safe_url(latest.moved_to)
        except UnsafeUrl as exc:
            if refused is not None:
                refused.append(Refusal(resource.id, latest.moved_to, str(exc)))
            continue
        if target != latest.moved_to:
            if refused is not None:
                refused.append(Refusal(resource.id, latest.moved_to, f"not encoded (as {target})"))
            continue
        moves.append(Move(resource.id, resource.url, target))
        taken.add(target)
    return moves


def unfinished_moves(
    store: Store, resources: Sequence[Resource], readme_text: str, readme_name: str = "README.md"
) -> list[Move]:
    """Moves already written to the catalog whose old URL the README still links.

    Candidates are the README's links that no catalog entry has; one of them is an unfinished
    move when the newest usable check at that URL found that its resource moved to the URL
    the catalog now holds for it.
    """
    from monitor.sources.changes import markdown_urls  # markdown-it: only when asked

    current = {r.id: r.url for r in resources}
    strays = markdown_urls(readme_text, readme_name) - set(current.values())
    if not strays:
        return []
    moves = []
    for url, check in sorted(store.latest_at(strays).items()):
        if (
            check.verdict is Verdict.MOVED
            and check.moved_to is not None
            and current.get(check.resource_id) == check.moved_to
        ):
            moves.append(Move(check.resource_id, url, check.moved_to))
    return moves


def broken_resources(store: Store, resources: Sequence[Resource]) -> list[Resource]:
    newest = store.latest_many([r.id for r in resources], usable_only=True)
    out = []
    for resource in resources:
        latest = newest.get(resource.id)
        if latest is not None and latest.verdict is Verdict.BROKEN and latest.url == resource.url:
            out.append(resource)
    return out


def apply_to_catalog(text: str, moves: Sequence[Move]) -> str:
    """The catalog text with each moved URL replaced; everything else byte for byte."""
    if not moves:
        return text
    doc = tomlkit.parse(text)
    by_url = {m.old_url: m for m in moves}
    for entry in doc.get("resources", []):
        move = by_url.get(str(entry.get("url", "")))
        if move is not None:
            entry["url"] = move.new_url
    return tomlkit.dumps(doc)


def _link_patterns(url: str) -> tuple[re.Pattern[str], ...]:
    u = re.escape(url)
    return (
        # inline link or image: [label](URL) or [label](URL "title")
        re.compile(rf"(\]\(\s*<?){u}(>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\))"),
        # reference definition: [ref]: URL
        re.compile(rf"(^[ ]{{0,3}}\[[^\]]+\]:[ \t]*<?){u}(>?(?=\s|$))", re.MULTILINE),
        # autolink: <URL>
        re.compile(rf"(<){u}(>)"),
    )


def apply_to_markdown(text: str, moves: Sequence[Move]) -> str:
    """Replace each old URL wherever a Markdown link points at it (not in plain prose)."""
    for move in moves:

        def swap(match: re.Match[str], new: str = move.new_url) -> str:
            return match.group(1) + new + match.group(2)

        for pattern in _link_patterns(move.old_url):
            text = pattern.sub(swap, text)
    return text


def unified_diff(path: Path, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path.name}",
            tofile=f"b/{path.name}",
        )
    )


def parse_availability(body: bytes) -> tuple[str | None, str | None]:
    """(snapshot URL, timestamp) from an availability API answer; (None, None) when none."""
    data = json.loads(body)
    closest = ((data or {}).get("archived_snapshots") or {}).get("closest") or {}
    if not closest.get("available") or not closest.get("url"):
        return None, None
    url = str(closest["url"])
    for old, new in SNAPSHOT_REWRITES:
        if url.startswith(old):
            url = new + url[len(old) :]
    url = safe_url(url)  # UnsafeUrl (a ValueError): an unexpected answer
    timestamp = closest.get("timestamp")
    return url, str(timestamp) if timestamp else None


async def wayback_snapshot(
    http: HttpEngine, resource: Resource, api: str = WAYBACK_API
) -> Snapshot:
    """Ask the availability API for the copy of `resource.url` closest to now."""
    result = await http.fetch(f"{api}?{urlencode({'url': resource.url})}", max_bytes=1_000_000)
    if not result.ok:
        why = result.error or f"HTTP {result.status}"
        return Snapshot(resource.id, resource.url, None, error=f"archive lookup failed: {why}")
    try:
        snapshot, timestamp = parse_availability(result.body)
    except (ValueError, AttributeError) as exc:
        return Snapshot(resource.id, resource.url, None, error=f"unexpected answer: {exc}")
    return Snapshot(resource.id, resource.url, snapshot, timestamp)
