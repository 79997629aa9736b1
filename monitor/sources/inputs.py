"""The inputs of `monitor check` without a catalog: files, standard input (`-`) and URLs.

lychee's conventions: several inputs at once, each link reported with where it was written
(`file:line`), images checked unless told not to. A link found in several inputs is checked
once and reported at its first place.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO
from urllib.parse import quote, urljoin, urlsplit

from monitor.config.urls import is_checkable, url_problem
from monitor.sources.extract import Link, extract_links
from monitor.sources.images import extract_images

STDIN = "-"
MAX_INPUT_BYTES = 20_000_000  # a README or a page, not a download


class InputError(Exception):
    """An input that cannot be read; `str()` names it and the problem."""


@dataclass(frozen=True)
class Found:
    """A link to check and where it was first written."""

    url: str  # as it will be checked (relative file links: relative to `base`)
    label: str
    source: str  # "README.md:12", "-:3", "https://example.org/list:5"
    section: str
    image: bool
    # Why it is not checked (a root-relative "/path", mailto:): reported `skipped` with this
    # reason, never dropped (issue 10). None: checked.
    skip_reason: str | None = None


def is_url(name: str) -> bool:
    return urlsplit(name).scheme in ("http", "https")


def fetch_text(url: str, *, allow_private: bool) -> str:
    """An input given as a URL: fetched once, redirects followed, size capped.

    Every hop's host is resolved and vetted by the address guard (unless `allow_private`),
    like any link the engine fetches.
    """
    import httpx

    from monitor.net.guard import default_policy
    from monitor.net.sockets import ConnectionRefusedByGuard, vet

    current = url
    with httpx.Client(timeout=30.0, follow_redirects=False) as client:
        for _ in range(10):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InputError(f"{url}: redirected to {current!r}, which is not http(s)")
            if not allow_private:
                try:
                    vet(parts.hostname, parts.port or 443, default_policy)
                except (ConnectionRefusedByGuard, OSError) as exc:
                    raise InputError(f"{url}: {exc} (--allow-private lifts this)") from None
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise InputError(f"{url}: HTTP {response.status_code}")
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_INPUT_BYTES:
                            raise InputError(f"{url}: larger than {MAX_INPUT_BYTES} bytes")
                    return body.decode(response.encoding or "utf-8", errors="replace")
            except httpx.HTTPError as exc:
                raise InputError(f"{url}: cannot fetch: {exc}") from None
    raise InputError(f"{url}: too many redirects")


def _name_for_extraction(name: str) -> str:
    """A path whose suffix tells the extractor the format (URLs: their path's suffix)."""
    if is_url(name):
        return PurePosixPath(urlsplit(name).path or "/").name or "index.html"
    return name


def collect(
    names: Sequence[str],
    *,
    images: bool = True,
    stdin: TextIO | None = None,
    fetch: Callable[[str], str] | None = None,
    cwd: Path | None = None,
) -> tuple[list[Found], Path]:
    """Every checkable link of the inputs, first place first, and the folder relative file
    links are resolved against (the inputs' folder when they share one, else `cwd`)."""
    cwd = cwd or Path.cwd()
    folders = {Path(n).resolve().parent for n in names if n != STDIN and not is_url(n)}
    base = folders.pop() if len(folders) == 1 and all(n != STDIN for n in names) else cwd
    found: list[Found] = []
    seen: set[str] = set()
    for name in names:
        text = _read(name, stdin, fetch)
        kind_of = _name_for_extraction(name) if name != STDIN else None
        both = [(link, False) for link in extract_links(text, kind_of)]
        if images:
            both += [(img, True) for img in extract_images(text, kind_of)]
        both.sort(key=lambda pair: pair[0].line)  # stable: document order within a line
        for link, image in both:
            url, reason = _placed(link, name, base)
            if url in seen:
                continue
            seen.add(url)
            found.append(
                Found(
                    url=url,
                    label=link.label or url,
                    source=f"{name}:{link.line}",
                    section=link.section or "",
                    image=image,
                    skip_reason=reason,
                )
            )
    return found, base


def _read(name: str, stdin: TextIO | None, fetch: Callable[[str], str] | None) -> str:
    if name == STDIN:
        return (stdin or sys.stdin).read()
    if is_url(name):
        if fetch is None:
            raise InputError(f"{name}: URL inputs need a fetcher")
        return fetch(name)
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None


def _placed(link: Link, name: str, base: Path) -> tuple[str, str | None]:
    """The link as it will be checked, and why it will not be (None: it will).

    A same-page "#anchor" is checked against its own document: the file's heading ids (the
    file checker), or the page's anchors when the input is a URL.
    """
    url = link.url
    if is_url(name):
        url = urljoin(name, url)  # a page's relative links are on its site
    elif url.startswith("#") and len(url) > 1 and name != STDIN:
        url = quote(Path(name).name) + url
    if not is_checkable(url):
        return url, unchecked_reason(url)
    if urlsplit(url).scheme or name == STDIN:
        return url, None
    folder = Path(name).resolve().parent
    if folder == base:
        return url, None
    return Path(os.path.relpath(folder / url, base)).as_posix(), None


def unchecked_reason(url: str) -> str:
    """A short reason, the same for every link of its kind (the summary counts by it)."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)  # not urlsplit: "https://[" raises
    scheme = match.group(1).lower() if match else ""
    if url.startswith("//"):
        return "protocol-relative link, not checked"
    if url.startswith("/"):
        return "root-relative link, no site root"
    if scheme and scheme not in ("http", "https") and len(scheme) > 1:
        return f"{scheme} link, not checked"
    if not url.strip() or url == "#":
        return "empty link"
    problem = url_problem(url)
    # The summary counts by the text before the first colon: one kind, the detail after it.
    return f"malformed URL: {problem}" if problem else "not a link we check"
