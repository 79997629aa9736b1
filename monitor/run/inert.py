"""Every check result made inert before anyone stores or shows it (issue 16).

Checkers copy what servers say into results: titles, error bodies, `Location` headers. This
one step, applied to every result the pipeline hands on, strips control and bidi characters,
bounds lengths, redacts secrets (a server that echoes the token back must not get it printed
or stored), and passes every URL from the network through the one URL sanitizer.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from monitor.config.urls import UnsafeUrl, safe_url, sanitize_url
from monitor.domain.models import CheckResult, Hop, Metadata
from monitor.domain.text import inert, redact, strip_invisible, truncate

# Environment variables whose values are secrets wherever they show up.
SECRET_ENV = ("GITHUB_TOKEN", "GH_TOKEN", "MONITOR_YOUTUBE_PROXY", "MONITOR_YOUTUBE_COOKIES")
# Request headers whose values are credentials.
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "private-token"}
)
ERROR_LIMIT = 1000
TEXT_LIMIT = {"description": 1000}
DEFAULT_TEXT_LIMIT = 500
URL_LIMIT = 2048


def known_secrets(headers: Mapping[str, str] = {}) -> tuple[str, ...]:
    """Secret values of this process: tokens, proxy credentials, credential headers."""
    out: list[str] = []
    for name in SECRET_ENV:
        value = os.environ.get(name, "").strip()
        if value:
            out.append(value)
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password:
                out.append(password)
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS and value.strip():
            out.append(value.strip())
            out.extend(part for part in value.split() if len(part) >= 8)  # "Bearer <token>"
    return tuple(out)


def _url_text(url: str | None, secrets: Iterable[str]) -> str | None:
    if url is None:
        return None
    return truncate(redact(strip_invisible(url), secrets), URL_LIMIT)


def _meta(meta: Metadata, secrets: tuple[str, ...]) -> Metadata:
    updates: dict[str, Any] = {}
    for f in dataclasses.fields(meta):
        value = getattr(meta, f.name)
        if f.name == "canonical_url":
            updates[f.name] = sanitize_url(redact(value, secrets)) if value else None
        elif isinstance(value, str):
            updates[f.name] = inert(value, TEXT_LIMIT.get(f.name, DEFAULT_TEXT_LIMIT), secrets)
        elif isinstance(value, tuple):
            updates[f.name] = tuple(inert(str(v), 100, secrets) or "" for v in value)
    return dataclasses.replace(meta, **updates)


def inert_result(result: CheckResult, secrets: tuple[str, ...] = ()) -> CheckResult:
    """`result` with every untrusted string made safe to store, print and write."""
    note = inert(result.note, ERROR_LIMIT, secrets)
    moved_to = result.moved_to
    if moved_to is not None:
        try:
            moved_to = safe_url(redact(moved_to, secrets))
        except UnsafeUrl as exc:
            why = f"the new address is not usable ({exc}): {inert(moved_to, 120, secrets)}"
            note = f"{note}; {why}" if note else why
            moved_to = None
    return dataclasses.replace(
        result,
        error=inert(result.error, ERROR_LIMIT, secrets),
        note=note,
        moved_to=moved_to,
        final_url=_url_text(result.final_url, secrets),
        redirects=tuple(Hop(_url_text(h.url, secrets) or "", h.status) for h in result.redirects),
        meta=_meta(result.meta, secrets),
    )
