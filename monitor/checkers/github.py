"""The GitHub checker: repository metadata from the REST API, or one GraphQL query for many.

github.com answers 200 for a renamed repository (through a redirect), so the page says
little; the API says whether the repository exists, was renamed or transferred, is archived,
and how popular it is. The token (GITHUB_TOKEN or GH_TOKEN, optional) is only ever put on a
request to the configured API host: redirects are followed here, hop by hop, and each hop's
headers are rebuilt for its own host (the engine strips credentials on cross-host redirects
too; this does not rely on it).

ETags: GitHub answers `Vary: Accept, Authorization, Cookie`, so a stored ETag only matches
under the same credentials. Anonymous runs and a stable personal token get 304s (which do not
count against the limit); the Actions GITHUB_TOKEN changes every workflow run, so on CI expect
200s. Not measured against the real API (no internet here): the loopback emulation in the
tests only shows that the ETag is sent and a 304 keeps the stored metadata.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx

from monitor.checkers.base import CheckContext
from monitor.checkers.common import env_first, previous_meta
from monitor.config.trust import env_api_url
from monitor.domain.models import CheckResult, Hop, Kind, Metadata, Resource, Verdict
from monitor.net.engine import FetchResult

TOKEN_ENV = ("GITHUB_TOKEN", "GH_TOKEN")
API_VERSION = "2022-11-28"
# More repositories than this, with a token, and one GraphQL query replaces N REST calls
# (GraphQL needs a token; anonymous callers get 401).
GRAPHQL_MIN_REPOS = 5
GRAPHQL_BATCH = 100
MAX_HOPS = 5
CONCURRENCY = 4  # REST calls in flight, so the budget read from headers stays meaningful
REDIRECTS = frozenset({301, 302, 307, 308})
GRAPHQL_FIELDS = (
    "nameWithOwner url stargazerCount forkCount isArchived isDisabled pushedAt description "
    "licenseInfo { spdxId } defaultBranchRef { name } primaryLanguage { name } "
    "repositoryTopics(first: 20) { nodes { topic { name } } } "
    # REST's open_issues_count counts open pull requests too; sum both to match it.
    "issues(states: OPEN) { totalCount } pullRequests(states: OPEN) { totalCount }"
)


@dataclass(frozen=True)
class RepoRef:
    """A repository link: owner, name, and what the link points at inside the repository."""

    owner: str
    name: str
    subpath: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def parse_repo(url: str) -> RepoRef | None:
    """`github.com/o/r[/tree|blob|issues|pull|releases/...]` -> the repo and the sub-path."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) < 2:
        return None
    name = segments[1].removesuffix(".git")
    return RepoRef(segments[0], name, "/".join(segments[2:]) or None)


def moved_url(url: str, full_name: str) -> str:
    """The catalog URL with the repository's new owner/name; path, query and anchor kept."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    rest = [s for s in segments if s][2:]
    path = "/" + "/".join([full_name, *rest])
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def rest_metadata(data: dict[str, Any], etag: str | None) -> Metadata:
    license_ = data.get("license")
    topics = data.get("topics")
    return Metadata(
        title=_str(data.get("full_name")),
        full_name=_str(data.get("full_name")),
        description=_str(data.get("description")),
        canonical_url=_str(data.get("html_url")),
        stars=_int(data.get("stargazers_count")),
        forks=_int(data.get("forks_count")),
        open_issues=_int(data.get("open_issues_count")),
        archived=_bool(data.get("archived")),
        disabled=_bool(data.get("disabled")),
        pushed_at=_str(data.get("pushed_at")),
        license=_str(license_.get("spdx_id")) if isinstance(license_, dict) else None,
        default_branch=_str(data.get("default_branch")),
        primary_language=_str(data.get("language")),
        topics=tuple(t for t in topics if isinstance(t, str)) if isinstance(topics, list) else None,
        etag=etag,
    )


def graphql_metadata(node: dict[str, Any]) -> Metadata:
    def name_of(key: str, field: str = "name") -> str | None:
        value = node.get(key)
        return _str(value.get(field)) if isinstance(value, dict) else None

    def total(key: str) -> int | None:
        value = node.get(key)
        return _int(value.get("totalCount")) if isinstance(value, dict) else None

    topics_node = node.get("repositoryTopics")
    topics = None
    if isinstance(topics_node, dict) and isinstance(topics_node.get("nodes"), list):
        topics = tuple(
            n["topic"]["name"]
            for n in topics_node["nodes"]
            if isinstance(n, dict) and isinstance(n.get("topic"), dict)
            and isinstance(n["topic"].get("name"), str)
        )  # fmt: skip
    issues, pulls = total("issues"), total("pullRequests")
    return Metadata(
        title=_str(node.get("nameWithOwner")),
        full_name=_str(node.get("nameWithOwner")),
        description=_str(node.get("description")),
        canonical_url=_str(node.get("url")),
        stars=_int(node.get("stargazerCount")),
        forks=_int(node.get("forkCount")),
        open_issues=None if issues is None else issues + (pulls or 0),
        archived=_bool(node.get("isArchived")),
        disabled=_bool(node.get("isDisabled")),
        pushed_at=_str(node.get("pushedAt")),
        license=name_of("licenseInfo", "spdxId"),
        default_branch=name_of("defaultBranchRef"),
        primary_language=name_of("primaryLanguage"),
        topics=topics,
    )


def graphql_query(refs: Sequence[RepoRef]) -> str:
    blocks = [
        f"  r{i}: repository(owner: {json.dumps(r.owner)}, name: {json.dumps(r.name)}) "
        f"{{ {GRAPHQL_FIELDS} }}"
        for i, r in enumerate(refs)
    ]
    return "query {\n" + "\n".join(blocks) + "\n}"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(body: bytes) -> dict[str, Any]:
    try:
        return _dict(json.loads(body))
    except ValueError:
        return {}


def same_origin(url: str, api_url: str) -> bool:
    """The token goes only to the API's own scheme, host and port (no downgrade to http)."""
    a, b = urlsplit(url), urlsplit(api_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


class _Budget:
    """The rate-limit budget as GitHub last reported it (x-ratelimit-remaining/reset)."""

    def __init__(self) -> None:
        self.remaining: int | None = None
        self.reset: float = 0.0

    def update(self, headers: httpx.Headers) -> None:
        try:
            remaining = int(headers["x-ratelimit-remaining"])
            reset = float(headers.get("x-ratelimit-reset") or 0)
        except (KeyError, ValueError):
            return
        if self.remaining is None or reset > self.reset:
            self.remaining, self.reset = remaining, reset
        else:  # same window: in-flight requests were already counted
            self.remaining = min(self.remaining, remaining)

    def known(self) -> bool:
        """False once the window has reset: the old count says nothing any more."""
        return self.remaining is not None and time.time() < self.reset

    def exhausted(self) -> bool:
        return self.known() and (self.remaining or 0) <= 0

    def take(self) -> None:
        if self.known() and self.remaining is not None:
            self.remaining -= 1


def _rate_limited(fetch: FetchResult) -> bool:
    headers = fetch.headers
    return fetch.status in (403, 429) and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    )


class GithubChecker:
    name = "github"

    def __init__(self) -> None:
        self._batched: dict[str, CheckResult] = {}
        self._budget = _Budget()
        self._gates: dict[int, asyncio.Semaphore] = {}
        # Requests made by this checker, by API: what the tests and the report measure.
        self.requests = {"rest": 0, "graphql": 0}

    def handles(self, resource: Resource) -> bool:
        return resource.kind is Kind.GITHUB

    def _gate(self) -> asyncio.Semaphore:
        # One semaphore per event loop: the registry's checker outlives `asyncio.run`.
        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._gates:
            self._gates = {loop_id: asyncio.Semaphore(CONCURRENCY)}
        return self._gates[loop_id]

    def _headers(self, url: str, api_url: str, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if token and same_origin(url, api_url):
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def prepare(self, resources: Sequence[Resource], ctx: CheckContext) -> None:
        """With a token and many repositories, fetch them all in GraphQL batches of 100."""
        self._batched = {}
        token = env_first(*TOKEN_ENV)
        refs = [(r, ref) for r in resources if (ref := parse_repo(r.url)) is not None]
        if not token or len(refs) <= GRAPHQL_MIN_REPOS:
            return
        for start in range(0, len(refs), GRAPHQL_BATCH):
            await self._graphql(refs[start : start + GRAPHQL_BATCH], ctx, token)

    async def _graphql(
        self, batch: Sequence[tuple[Resource, RepoRef]], ctx: CheckContext, token: str
    ) -> None:
        api = (env_api_url() or ctx.github.api_url).rstrip("/")
        url = f"{api}/graphql"
        body = json.dumps({"query": graphql_query([ref for _, ref in batch])}).encode()
        headers = self._headers(url, api, token) | {"Content-Type": "application/json"}
        self.requests["graphql"] += 1
        fetch = await ctx.http.fetch(
            url, method="POST", headers=headers, content=body, follow_redirects=False
        )
        if fetch.status != 200:
            return  # every repository falls back to REST
        payload = _json(fetch.body)
        data = _dict(payload.get("data"))
        not_found = {
            str(err["path"][0])
            for err in payload.get("errors") or []
            if isinstance(err, dict)
            and err.get("type") == "NOT_FOUND"
            and isinstance(err.get("path"), list)
            and err["path"]
        }
        for i, (resource, ref) in enumerate(batch):
            alias = f"r{i}"
            node = data.get(alias)
            base = CheckResult(
                resource_id=resource.id, url=resource.url, verdict=Verdict.OK,
                checker=self.name, status=200, final_url=resource.url,
                elapsed_ms=fetch.elapsed_ms, note="via GraphQL",
            )  # fmt: skip
            if isinstance(node, dict):
                self._batched[resource.id] = self._judged(base, ref, graphql_metadata(node))
            elif alias in not_found:
                self._batched[resource.id] = replace(
                    base, verdict=Verdict.BROKEN, status=None,
                    error=f"repository {ref.full_name} not found (GraphQL NOT_FOUND)",
                )  # fmt: skip
            # anything else (FORBIDDEN, RATE_LIMITED...): left to REST

    def _judged(self, base: CheckResult, ref: RepoRef, meta: Metadata) -> CheckResult:
        """ok, or moved when GitHub names the repository differently (renamed, transferred)."""
        notes = [n for n in (base.note,) if n]
        if ref.subpath:
            notes.append(f"path in repository: {ref.subpath}")
        if meta.archived:
            notes.append("archived: read-only")
        if meta.disabled:
            notes.append("disabled by GitHub")
        result = replace(base, meta=meta, note="; ".join(notes) or None)
        if meta.full_name and meta.full_name.lower() != ref.full_name.lower():
            target = moved_url(base.url, meta.full_name)
            return replace(result, verdict=Verdict.MOVED, moved_to=target)
        return result

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        if resource.id in self._batched:
            return self._batched.pop(resource.id)
        ref = parse_repo(resource.url)
        base = CheckResult(
            resource_id=resource.id, url=resource.url, verdict=Verdict.OK, checker=self.name
        )
        if ref is None:
            return replace(base, verdict=Verdict.ERROR, error="not a repository URL")
        async with self._gate():
            if self._budget.exhausted():
                wait = self._budget.reset - time.time() + 1
                if wait > ctx.http.settings.retry_after_cap_s:
                    at = datetime.fromtimestamp(self._budget.reset, UTC).strftime("%H:%M UTC")
                    return replace(
                        base, verdict=Verdict.BLOCKED, partial=True,
                        meta=previous_meta(resource, ctx),
                        note=f"deferred: rate limit (resets at {at})",
                    )  # fmt: skip
                await asyncio.sleep(max(wait, 0))
            self._budget.take()
            return await self._rest(resource, ref, ctx, base)

    async def _rest(
        self, resource: Resource, ref: RepoRef, ctx: CheckContext, base: CheckResult
    ) -> CheckResult:
        token = env_first(*TOKEN_ENV)
        api = (env_api_url() or ctx.github.api_url).rstrip("/")
        url = f"{api}/repos/{quote(ref.owner, safe='')}/{quote(ref.name, safe='')}"
        known = previous_meta(resource, ctx)
        hops: list[Hop] = []
        started = time.monotonic()
        for _ in range(MAX_HOPS):
            headers = self._headers(url, api, token)
            if known.etag:
                headers["If-None-Match"] = known.etag
            self.requests["rest"] += 1
            fetch = await ctx.http.fetch(
                url, headers=headers, follow_redirects=False, max_bytes=2_000_000
            )
            self._budget.update(fetch.headers)
            location = fetch.headers.get("location")
            if fetch.failure is None and fetch.status in REDIRECTS and location:
                hops.append(Hop(url=url, status=fetch.status))
                url = urljoin(url, location)
                continue
            break
        base = replace(
            base, status=fetch.status, final_url=url, redirects=tuple(hops),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )  # fmt: skip
        return self._verdict(base, ref, fetch, known)

    def _verdict(
        self, base: CheckResult, ref: RepoRef, fetch: FetchResult, known: Metadata
    ) -> CheckResult:
        status = fetch.status
        if fetch.failure is not None:
            return replace(
                base, verdict=Verdict.ERROR, error=fetch.error, meta=known, partial=True,
                network_failure=fetch.failure.network_level,
            )  # fmt: skip
        if status == 200:
            meta = rest_metadata(_json(fetch.body), fetch.headers.get("etag"))
            return self._judged(base, ref, meta)
        if status == 304:
            return self._judged(replace(base, note="not modified (ETag)"), ref, known)
        if status == 404:
            return replace(
                base, verdict=Verdict.BROKEN,
                error=f"repository {ref.full_name} not found (deleted or private)",
            )  # fmt: skip
        if status == 451:
            data = _json(fetch.body)
            block = _dict(data.get("block"))
            why = ", ".join(
                str(v) for v in (data.get("message"), block.get("reason"), block.get("html_url"))
                if v
            )  # fmt: skip
            return replace(
                base, verdict=Verdict.BROKEN, error=f"unavailable for legal reasons: {why}"
            )
        if _rate_limited(fetch):
            reset = fetch.headers.get("x-ratelimit-reset") or fetch.headers.get("retry-after")
            return replace(
                base, verdict=Verdict.BLOCKED, meta=known, partial=True,
                error=f"rate limited by GitHub (HTTP {status}; reset {reset})",
            )  # fmt: skip
        if status in (401, 403, 429):
            message = _json(fetch.body).get("message")
            return replace(
                base, verdict=Verdict.BLOCKED, meta=known, partial=True,
                error=f"HTTP {status}: {message}" if message else f"HTTP {status}",
            )  # fmt: skip
        return replace(
            base, verdict=Verdict.ERROR, meta=known, partial=True, error=f"HTTP {status}"
        )
