"""What a change set adds or changes: the links a pull request should be gated on.

`changed_urls` compares the README and the catalog in the working tree with their versions
at a git ref (the pull request's base), so `monitor check --changed-since REF` checks only
those links: a contributor is never blocked by link rot elsewhere, which is the nightly
job's business.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.config.catalog import Catalog, infer_kind, slugify
from monitor.config.urls import is_checkable
from monitor.domain.models import Resource
from monitor.sources.extract import extract_links


class ChangesError(Exception):
    """The ref or the files cannot be compared; `str()` is the message for the user."""


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChangesError(f"cannot run git: {exc}") from None


def _at_ref(ref: str, path: Path) -> str:
    """The file's text at `ref`; empty when it did not exist there."""
    done = _git(["show", f"{ref}:./{path.name}"], path.parent)
    if done.returncode == 0:
        return done.stdout
    if "exists on disk, but not in" in done.stderr or "does not exist in" in done.stderr:
        return ""
    raise ChangesError(f"git show {ref}:{path.name} failed: {done.stderr.strip()}")


def text_at_ref(ref: str, path: Path) -> str:
    """A file's text at git `ref` (empty when it did not exist there)."""
    return _at_ref(ref, path)


def _changed_files(ref: str, paths: Sequence[Path]) -> set[Path]:
    cwd = paths[0].parent
    rels = [str(p.resolve().relative_to(cwd.resolve())) for p in paths]
    done = _git(["diff", "--name-only", "--relative", ref, "--", *rels], cwd)
    if done.returncode != 0:
        raise ChangesError(f"git diff {ref} failed: {done.stderr.strip()}")
    names = {line.strip() for line in done.stdout.splitlines() if line.strip()}
    untracked = _git(["ls-files", "--others", "--", *rels], cwd).stdout.splitlines()
    return {p for p, rel in zip(paths, rels, strict=True) if rel in names or rel in untracked}


def markdown_urls(text: str, name: str = "README.md") -> set[str]:
    """Checkable link targets of a document (`monitor.sources.extract`, the importer's reader)."""
    return {link.url for link in extract_links(text, name) if is_checkable(link.url)}


def _catalog_entries(text: str) -> dict[str, dict[str, Any]]:
    if not text.strip():
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChangesError(f"catalog is not valid TOML: {exc}") from None
    entries = data.get("resources", [])
    return {str(e["url"]): e for e in entries if isinstance(e, dict) and "url" in e}


def catalog_changes(old: str, new: str) -> set[str]:
    """URLs whose catalog entry is new or edited (an edited `accept` changes its check)."""
    before, after = _catalog_entries(old), _catalog_entries(new)
    return {url for url, entry in after.items() if before.get(url) != entry}


def readme_changes(old: str, new: str, name: str = "README.md") -> set[str]:
    return markdown_urls(new, name) - markdown_urls(old, name)


def changed_urls(ref: str, catalog_path: Path, readme_path: Path) -> set[str]:
    """URLs that the diff from `ref` to the working tree adds or changes in README/catalog."""
    urls: set[str] = set()
    paths = [p for p in (catalog_path, readme_path) if p.exists()]
    if not paths:
        return urls
    for path in _changed_files(ref, paths):
        new = path.read_text(encoding="utf-8")
        old = _at_ref(ref, path)
        if path == catalog_path:
            urls |= catalog_changes(old, new)
        else:
            urls |= readme_changes(old, new, path.name)
    return urls


def resources_for(urls: set[str], resources: Sequence[Resource], section: str) -> list[Resource]:
    """The catalog's resources for `urls`, plus ad-hoc ones for links only the README has."""
    out = [r for r in resources if r.url in urls]
    known = {r.url for r in out}
    for url in sorted(urls - known):
        rid = "readme-" + slugify(url, max_len=80)
        out.append(Resource(id=rid, url=url, kind=infer_kind(url), section=section, label=url))
    return out


def changed_resources(cat: Catalog, ref: str) -> list[Resource]:
    """`monitor check --changed-since REF`: the resources to check for a pull request."""
    urls = changed_urls(ref, cat.path, cat.readme_path)
    return resources_for(urls, cat.resources, section="")
