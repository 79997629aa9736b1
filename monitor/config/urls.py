"""URL policies, one module: which links we check, and which URLs we write.

What we check (`is_checkable`, `check_url`, `url_problem`): an absolute http(s) URL with a
host, or a path relative to the README (a local file). Everything else (mailto:,
javascript:, same-page "#anchors", absolute or protocol-relative paths, text with spaces or
control characters) is refused with the reason, so the catalog loader can say what is wrong,
extraction can leave it out, and a report never links it (`followable_url`).

What we write (`safe_url`, `sanitize_url`): every URL from the network or a page that we
store or write. A 301 `Location`, a repository name from GitHub's API, a Wayback snapshot:
all are written into README.md and resources.toml by `monitor fix`, and shown in reports.
Only an absolute http(s) URL with a host survives, percent-encoded so that no space, quote,
angle bracket or control character reaches a Markdown link, a TOML string or an HTML
attribute, and bounded in length. Anything else is refused with the reason, never repaired
into something else.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

MAX_URL = 2048
# Kept as they are in path, query and fragment: RFC 3986 unreserved and sub-delims, ":@/?",
# and "%" (re-encoded below when it starts no escape). Everything else is percent-encoded:
# space, quotes, <>, backslash, backtick, {|}^, [ ], non-ASCII.
_SAFE = "-._~!$&'()*+,;=:@/?%"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HOST = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$"
)
_REPO_PART = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class UnsafeUrl(ValueError):
    """A URL we will not store or write; `str()` says why."""


def _encode(part: str) -> str:
    part = quote(part, safe=_SAFE)
    part = _BAD_PERCENT.sub("%25", part)
    if part.count("(") != part.count(")"):  # an unbalanced ")" ends a Markdown link
        part = part.replace("(", "%28").replace(")", "%29")
    return part.replace("'", "%27")  # a TOML literal string or an HTML attribute ends at '


def safe_url(url: str) -> str:
    """`url` as an absolute, percent-encoded http(s) URL; raises UnsafeUrl otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("empty URL")
    if len(url) > MAX_URL * 3:
        raise UnsafeUrl(f"URL of {len(url):,} characters (at most {MAX_URL})")
    if _CONTROL.search(url):
        raise UnsafeUrl("URL contains control or bidi characters")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl(f"scheme {scheme or 'none'!r}: only absolute http(s) URLs are written")
    if not host:
        raise UnsafeUrl("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("URL carries credentials (user@host)")
    netloc_host = _netloc_host(host)
    netloc = netloc_host if port is None else f"{netloc_host}:{port}"
    path = _encode(parts.path)
    clean = urlunsplit((scheme, netloc, path, _encode(parts.query), _encode(parts.fragment)))
    if len(clean) > MAX_URL:
        raise UnsafeUrl(f"URL of {len(clean):,} characters (at most {MAX_URL})")
    return clean


def _netloc_host(host: str) -> str:
    """The host as written back into a URL: an IPv6 literal in brackets, a name in ASCII."""
    if ":" in host:  # IPv6 literal
        if not re.fullmatch(r"[0-9a-f:.]+", host):
            raise UnsafeUrl(f"malformed IPv6 host {host!r}")
        return f"[{host}]"
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeUrl(f"host {host!r} is not a valid domain name") from None
    if not _HOST.match(ascii_host):
        raise UnsafeUrl(f"host {ascii_host!r} is not a valid domain name")
    return ascii_host


def sanitize_url(url: str | None) -> str | None:
    """`safe_url(url)`, or None when the URL is unsafe."""
    if url is None:
        return None
    try:
        return safe_url(url)
    except UnsafeUrl:
        return None


def check_repo_name(full_name: str) -> str:
    """An `owner/name` as GitHub allows them; raises UnsafeUrl otherwise."""
    owner, sep, name = full_name.partition("/")
    if not sep or not _REPO_PART.match(owner) or not _REPO_PART.match(name) or name in (".", ".."):
        raise UnsafeUrl(f"{full_name[:200]!r} is not a GitHub owner/name")
    return full_name


# -- what we check ---------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why `url` is not a link we check, or None when it is."""
    if not url:
        return "URL is empty"
    if any(c.isspace() for c in url):
        return f"URL {url!r} contains whitespace"
    if _CONTROL.search(url):
        return f"URL {url!r} contains control characters (C0, C1 or bidi)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on "https://[" or a bad port)
    except ValueError as exc:
        return f"URL {url!r} is malformed ({exc})"
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


def followable_url(url: str | None) -> str | None:
    """The URL if a reader may follow it from a report (a checkable URL), else None."""
    return url if url is not None and is_checkable(url) else None
