"""The trust boundary of the configuration: which settings a pull request may not change.

A pull request's job runs `monitor check --changed-since BASE` on the PR's own
`resources.toml`, on a runner that holds a token. Settings that widen what the checker may
reach, or what it sends, would let the PR turn that job against its runner (fetch the cloud
metadata service with `allow_private`, send a `Metadata: true` header, deliver the GitHub
token to a host of its choosing). Those settings are honoured only from the command line, the
environment, or the catalog of the base ref (the default branch); the catalog under review
keeps every other setting. README.md lists them.
"""

from __future__ import annotations

import os
from dataclasses import replace
from urllib.parse import urlsplit

from monitor.config.catalog import (
    Catalog,
    EngineSettings,
    GithubSettings,
    YoutubeSettings,
)

# (table, key): the settings a catalog under review cannot set. Each widens reach or what is
# sent: the address guard, request headers (the User-Agent is one), where the GitHub token
# goes, the proxy yt-dlp connects through, a file read from the runner's disk.
PRIVILEGED: tuple[tuple[str, str], ...] = (
    ("engine", "allow_private"),
    ("engine", "headers"),
    ("engine", "user_agent"),
    ("github", "api_url"),
    ("youtube", "proxy"),
    ("youtube", "cookies_file"),
)

GITHUB_API_HOST = "api.github.com"
# The one way to point the GitHub checker elsewhere (GitHub Enterprise Server, a test API):
# the environment, which a pull request does not control.
ENV_GITHUB_API = "MONITOR_GITHUB_API_URL"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def api_url_problem(url: str, *, env_url: str | None = None) -> str | None:
    """Why `url` may not be the GitHub API a token is sent to, or None.

    https only, and GitHub's host unless the environment (`MONITOR_GITHUB_API_URL`) names
    another one.
    """
    env_url = env_url if env_url is not None else os.environ.get(ENV_GITHUB_API, "").strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return f"api_url {url!r} is not a URL"
    allowed = {GITHUB_API_HOST}
    if env_url:
        allowed.add((urlsplit(env_url).hostname or "").lower())
    if parts.scheme != "https":
        return f"api_url must be https (the GitHub token is sent there), not {parts.scheme!r}"
    if host not in allowed:
        return (
            f"api_url host {host!r} is not {GITHUB_API_HOST}; to use another GitHub API, "
            f"set {ENV_GITHUB_API} in the environment"
        )
    return None


def env_api_problem() -> str | None:
    """What is wrong with the environment's API URL: https, or http to a loopback test API."""
    url = os.environ.get(ENV_GITHUB_API, "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", urlsplit("")
    if host and (parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)):
        return None
    return f"{ENV_GITHUB_API}: must be an https URL (plain http only to a loopback test API)"


def env_api_url() -> str | None:
    """The API URL the environment names, when it is an acceptable one."""
    url = os.environ.get(ENV_GITHUB_API, "").strip()
    return url if url and env_api_problem() is None else None


def _privileged(catalog: Catalog | None) -> tuple[EngineSettings, GithubSettings, YoutubeSettings]:
    if catalog is None:
        return EngineSettings(), GithubSettings(), YoutubeSettings()
    return catalog.engine, catalog.github, catalog.youtube


def ignored_settings(judged: Catalog, trusted: Catalog | None) -> list[str]:
    """The privileged settings the judged catalog sets differently from the trusted one."""
    mine, theirs = _privileged(judged), _privileged(trusted)
    tables = {"engine": 0, "github": 1, "youtube": 2}
    out = []
    for table, key in PRIVILEGED:
        i = tables[table]
        if getattr(mine[i], key) != getattr(theirs[i], key):
            out.append(f"{table}.{key}")
    return out


def with_trusted_settings(judged: Catalog, trusted: Catalog | None) -> Catalog:
    """`judged` with every privileged setting taken from `trusted` (defaults when None)."""
    engine, github, youtube = _privileged(trusted)
    updates: dict[str, dict[str, object]] = {"engine": {}, "github": {}, "youtube": {}}
    source = {"engine": engine, "github": github, "youtube": youtube}
    for table, key in PRIVILEGED:
        updates[table][key] = getattr(source[table], key)
    return replace(
        judged,
        engine=judged.engine.model_copy(update=updates["engine"]),
        github=judged.github.model_copy(update=updates["github"]),
        youtube=judged.youtube.model_copy(update=updates["youtube"]),
    )
