"""What counts as a link `monitor` can check: one predicate for the catalog, extraction and
the reports.

A checkable URL is absolute http(s) with a host, or a path relative to the README (a local
file). Everything else (mailto:, javascript:, same-page "#anchors", absolute or
protocol-relative paths, text with spaces or control characters) is refused here, with the
reason, so the catalog loader can say what is wrong, extraction can leave it out, and a
report never turns it into a link a reader could follow.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def url_problem(url: str) -> str | None:
    """Why `url` is not a link we check, or None when it is."""
    if not url:
        return "URL is empty"
    if any(c.isspace() for c in url):
        return f"URL {url!r} contains whitespace"
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return f"URL {url!r} contains control characters"
    parts = urlsplit(url)
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https"):
            return (
                f"URL {url!r} has scheme {parts.scheme!r}; only http, https "
                "and relative file paths are allowed"
            )
        if not parts.hostname:
            return f"URL {url!r} has no host"
        return None
    if parts.netloc:
        return f"URL {url!r} is protocol-relative; write http:// or https://"
    if url.startswith(("/", "\\")):
        return f"file path {url!r} is absolute; write it relative to the README"
    if ":" in url.split("/")[0]:
        return f"file path {url!r} looks like a drive or a scheme; write it relative"
    if not parts.path:
        return f"URL {url!r} names no file (a same-page anchor or query)"
    return None


def is_checkable(url: str) -> bool:
    """An http(s) URL with a host, or a relative file path (not a same-page "#anchor")."""
    return url_problem(url) is None


def check_url(url: str) -> str:
    """A catalog URL, stripped; raises ValueError naming what is wrong with it."""
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        raise ValueError(problem)
    return url


def safe_url(url: str | None) -> str | None:
    """The URL if a reader may follow it from a report (a checkable URL), else None."""
    return url if url is not None and is_checkable(url) else None
