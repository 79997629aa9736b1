"""The GitHub checker: repository metadata from the REST API, or one GraphQL query for many.

github.com answers 200 for a renamed repository (through a redirect), so the page says
little; the API says whether the repository exists, was renamed or transferred, is archived,
and how popular it is. The token (GITHUB_TOKEN or GH_TOKEN, optional) is only ever put on a
request to the configured API's origin (scheme, host and port); redirects are followed by the
engine, which drops credentials as soon as a hop leaves the origin they were sent to.

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
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from monitor.checkers.base import CheckContext
from monitor.checkers.common import env_first, previous_meta
from monitor.checkers.web import WebChecker
from monitor.config.github_names import GITHUB_RESERVED
from monitor.config.trust import env_api_url
from monitor.config.urls import UnsafeUrl, check_repo_name, safe_url
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import FetchResult

TOKEN_ENV = ("GITHUB_TOKEN", "GH_TOKEN")
API_VERSION = "2022-11-28"
# More repositories than this, with a token, and one GraphQL query replaces N REST calls
# (GraphQL needs a token; anonymous callers get 401).
GRAPHQL_MIN_REPOS = 5
GRAPHQL_BATCH = 100
# A rate-limited answer is asked again once, after the wait GitHub named, when that wait is
# within `retry_after_cap_s`.
RATE_LIMIT_WAITS = 1
CONCURRENCY = 4  # REST calls in flight, so the budget read from headers stays meaningful
GRAPHQL_FIELDS = (
    "nameWithOwner url stargazerCount forkCount isArchived isDisabled pushedAt description "
    "licenseInfo { spdxId } defaultBranchRef { name } primaryLanguage { name } "
    "repositoryTopics(first: 20) { nodes { topic { name } } } "
    # REST's open_issues_count counts open pull requests too; sum both to match it.
    "issues(states: OPEN) { totalCount } pullRequests(states: OPEN) { totalCount }"
)


# Sub-pages of a repository that exist when the repository does: judged by the repository.
REPO_PAGES = frozenset(
    {"issues", "pulls", "releases", "tags", "branches", "commits", "stargazers", "forks",
     "watchers", "contributors", "labels", "milestones"}
)  # fmt: skip
# A blob/tree ref may hold slashes ("feature/x"): try this many ways to split REF from PATH.
MAX_REF_SPLITS = 3


@dataclass(frozen=True)
class Target:
    """What a deep link points at inside a repository, as GraphQL fields that resolve it.

    `fields` are GraphQL selections, one per way to read the link (a ref with slashes can be
    split several ways); the target exists when any of them resolves to an object.
    """

    what: str  # shown in the verdict: "file main:docs/a.md", "issue #12", "release v1.0"
    fields: tuple[str, ...]


@dataclass(frozen=True)
class RepoRef:
    """A repository link: owner, name, and what the link points at inside the repository."""

    owner: str
    name: str
    subpath: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def segments(self) -> list[str]:
        return [unquote(s) for s in (self.subpath or "").split("/") if s]

    @property
    def on_repository(self) -> bool:
        """The link is the repository itself, or a page that exists when it does."""
        segments = self.segments
        return not segments or (len(segments) == 1 and segments[0] in REPO_PAGES)

    def target(self) -> Target | None:
        """The GraphQL fields that resolve this deep link, or None when the API cannot see
        what it points at (wiki, discussions, actions, compare...): the web checker's job."""
        seg = self.segments
        if len(seg) < 2:
            return None
        head, rest = seg[0], seg[1:]
        if head in ("blob", "tree", "blame") and rest:
            return _tree_target(head, rest)
        if head in ("issues", "pull") and rest[0].isdigit() and int(rest[0]) < 2**31:
            number = int(rest[0])
            return Target(
                f"{'pull request' if head == 'pull' else 'issue'} #{number}",
                (f"issueOrPullRequest(number: {number}) {{ __typename }}",),
            )
        if head == "releases" and len(rest) >= 2 and rest[0] == "tag":
            tag = "/".join(rest[1:])
            return Target(f"release {tag}", (f"release(tagName: {json.dumps(tag)}) {{ tagName }}",))
        if head == "commit" and len(rest) == 1:
            return Target(f"commit {rest[0]}", (_object(rest[0]),))
        return None


def _object(expression: str) -> str:
    return f"object(expression: {json.dumps(expression)}) {{ __typename }}"


def _tree_target(head: str, rest: list[str]) -> Target:
    """blob/REF/PATH or tree/REF[/PATH]: REF may itself contain slashes, so each split of the
    first MAX_REF_SPLITS segments is one candidate `object(expression: "REF:PATH")`."""
    if len(rest) == 1:  # tree/REF: a branch or tag (ref), or a commit SHA (object)
        ref = rest[0]
        by_name = f"ref(qualifiedName: {json.dumps(ref)}) {{ name }}"
        return Target(f"ref {ref}", (by_name, _object(ref)))
    splits = range(1, min(MAX_REF_SPLITS, len(rest) - 1) + 1)
    fields = [_object(f"{'/'.join(rest[:k])}:{'/'.join(rest[k:])}") for k in splits]
    if head == "tree":  # tree/feature/x: the whole rest may be the ref
        fields.append(f"ref(qualifiedName: {json.dumps('/'.join(rest))}) {{ name }}")
    kind = "file" if head in ("blob", "blame") else "folder"
    return Target(f"{kind} {rest[0]}:{'/'.join(rest[1:])}", tuple(fields))


def parse_repo(url: str) -> RepoRef | None:
    """`github.com/o/r[/tree|blob|issues|pull|releases/...]` -> the repo and the sub-path.

    None for GitHub's own pages (`github.com/user-attachments/…`, `/advisories/…`, `/orgs/…`:
    `monitor.config.github_names`), a profile page, and anything else that names no repository.
    """
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() in GITHUB_RESERVED:
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
    """One aliased `repository` block per link (r0, r1...); a deep link's target fields are
    aliased t0, t1... inside its block."""
    blocks = []
    for i, r in enumerate(refs):
        target = r.target()
        extra = "".join(f" t{k}: {f}" for k, f in enumerate(target.fields)) if target else ""
        blocks.append(
            f"  r{i}: repository(owner: {json.dumps(r.owner)}, name: {json.dumps(r.name)}) "
            f"{{ {GRAPHQL_FIELDS}{extra} }}"
        )
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
    """The rate-limit budget as GitHub last reported it, per bucket (`x-ratelimit-resource`:
    core for REST, graphql, search...: each has its own count and reset time)."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}
        self.reset: dict[str, float] = {}

    def update(self, headers: httpx.Headers) -> None:
        try:
            remaining = int(headers["x-ratelimit-remaining"])
            reset = float(headers.get("x-ratelimit-reset") or 0)
        except (KeyError, ValueError):
            return
        bucket = headers.get("x-ratelimit-resource") or "core"
        if reset == self.reset.get(bucket):  # same window: in-flight requests already counted
            self.remaining[bucket] = min(self.remaining[bucket], remaining)
        else:
            # The newest answer describes the window now in force, even when its reset is
            # sooner than one seen before (keeping the later reset deferred a repository for
            # an hour on a 403 whose reset was 2 s away).
            self.remaining[bucket], self.reset[bucket] = remaining, reset

    def known(self, bucket: str = "core") -> bool:
        """False once the window has reset: the old count says nothing any more."""
        return bucket in self.remaining and time.time() < self.reset[bucket]

    def exhausted(self, bucket: str = "core") -> bool:
        return self.known(bucket) and self.remaining[bucket] <= 0

    def wait_s(self, bucket: str = "core") -> float:
        """Seconds until the bucket resets (GitHub's reset is a whole second: one more)."""
        return max(0.0, self.reset.get(bucket, 0.0) - time.time() + 1)

    def take(self, bucket: str = "core") -> None:
        if self.known(bucket):
            self.remaining[bucket] -= 1


def _rate_limited(fetch: FetchResult) -> bool:
    headers = fetch.headers
    return fetch.status in (403, 429) and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    )


def _rate_limit_wait(fetch: FetchResult) -> float | None:
    """How long GitHub told us to wait (Retry-After, else the reset time), or None."""
    retry_after = fetch.headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    try:
        reset = float(fetch.headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    return max(0.0, reset - time.time() + 1)


class GithubChecker:
    name = "github"

    def __init__(self) -> None:
        self._batched: dict[str, CheckResult] = {}
        self._graphql_failed = False
        self._web = WebChecker()
        # per API host: the registry's checker outlives a run, and GitHub Enterprise hosts
        # have budgets of their own
        self._budgets: dict[str, _Budget] = {}
        self._gates: dict[int, asyncio.Semaphore] = {}
        # Requests made by this checker, by API: what the tests and the report measure.
        self.requests = {"rest": 0, "graphql": 0}

    def handles(self, resource: Resource) -> bool:
        """Repository links only: GitHub's own pages (`github.com/advisories/…`, attachments)
        and profiles are web pages, left to the web checker."""
        return resource.kind is Kind.GITHUB and parse_repo(resource.url) is not None

    def _budget(self, ctx: CheckContext) -> _Budget:
        api = (env_api_url() or ctx.github.api_url).rstrip("/")
        return self._budgets.setdefault(api, _Budget())

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
        """With a token, fetch many repositories, or any deep link the API can see (a file,
        issue, ref or release), in GraphQL batches of 100."""
        self._batched = {}
        self._graphql_failed = False
        token = env_first(*TOKEN_ENV)
        refs = [
            (r, ref)
            for r in resources
            if (ref := parse_repo(r.url)) is not None and (ref.on_repository or ref.target())
        ]
        deep = any(not ref.on_repository for _, ref in refs)
        if not token or not (deep or len(refs) > GRAPHQL_MIN_REPOS):
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
        self._budget(ctx).update(fetch.headers)
        if fetch.status != 200:
            self._graphql_failed = True
            return  # repositories fall back to REST, deep links to their web pages
        payload = _json(fetch.body)
        data = _dict(payload.get("data"))
        # A NOT_FOUND at ["r3"] is the repository; at ["r3", "t0"] only a deep link's target.
        not_found = {
            str(err["path"][0])
            for err in payload.get("errors") or []
            if isinstance(err, dict)
            and err.get("type") == "NOT_FOUND"
            and isinstance(err.get("path"), list)
            and len(err["path"]) == 1
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
                result = self._judged(base, ref, graphql_metadata(node))
                self._batched[resource.id] = self._target_judged(result, ref, node)
            elif alias in not_found:
                self._batched[resource.id] = replace(
                    base, verdict=Verdict.BROKEN, status=None,
                    error=f"repository {ref.full_name} not found (GraphQL NOT_FOUND)",
                )  # fmt: skip
            # anything else (FORBIDDEN, RATE_LIMITED...): left to REST or the web page

    def _target_judged(
        self, result: CheckResult, ref: RepoRef, node: dict[str, Any]
    ) -> CheckResult:
        """A deep link is ok only if its target resolves (a file, issue, ref or release)."""
        target = ref.target()
        if ref.on_repository or target is None:
            return result
        if any(isinstance(node.get(f"t{k}"), dict) for k in range(len(target.fields))):
            return result
        name = _str(node.get("nameWithOwner")) or ref.full_name
        return replace(
            result, verdict=Verdict.BROKEN, moved_to=None,
            error=f"{target.what} not found in {name}",
        )  # fmt: skip

    def _judged(self, base: CheckResult, ref: RepoRef, meta: Metadata) -> CheckResult:
        """ok, or moved when GitHub names the repository differently (renamed, transferred)."""
        notes = [n for n in (base.note,) if n]
        if ref.subpath and ref.on_repository:
            notes.append(f"path in repository: {ref.subpath}")
        if meta.archived:
            notes.append("archived: read-only")
        if meta.disabled:
            notes.append("disabled by GitHub")
        result = replace(base, meta=meta, note="; ".join(notes) or None)
        if meta.full_name and meta.full_name.lower() != ref.full_name.lower():
            try:
                target = safe_url(moved_url(base.url, check_repo_name(meta.full_name)))
            except UnsafeUrl as exc:
                # the API's answer is untrusted too: never a URL built from a bad name
                why = f"GitHub names this repository differently, unusably: {exc}"
                return replace(result, note="; ".join([*notes, why]))
            return replace(result, verdict=Verdict.MOVED, moved_to=target)
        return result

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        if resource.id in self._batched:
            return self._batched.pop(resource.id)
        ref = parse_repo(resource.url)
        if ref is None:
            return await self._web.check(resource, ctx)
        if not ref.on_repository:
            # A deep link: its target, through GraphQL with a token, else its web page (the
            # engine paces github.com like any host).
            token = env_first(*TOKEN_ENV)
            if token and ref.target() is not None and not self._graphql_failed:
                await self._graphql([(resource, ref)], ctx, token)
                if resource.id in self._batched:
                    return self._batched.pop(resource.id)
            return await self._web.check(resource, ctx)
        base = CheckResult(
            resource_id=resource.id, url=resource.url, verdict=Verdict.OK, checker=self.name
        )
        budget = self._budget(ctx)
        async with self._gate():
            if budget.exhausted():
                wait = budget.wait_s()
                if wait > ctx.http.settings.retry_after_cap_s:
                    reset = budget.reset["core"]
                    at = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
                    return replace(
                        base, verdict=Verdict.BLOCKED, partial=True, deferred=True,
                        meta=previous_meta(resource, ctx),
                        note=f"deferred: rate limit (resets at {at})",
                    )  # fmt: skip
                await asyncio.sleep(wait)
            budget.take()
            return await self._rest(resource, ref, ctx, base)

    async def _rest(
        self, resource: Resource, ref: RepoRef, ctx: CheckContext, base: CheckResult
    ) -> CheckResult:
        token = env_first(*TOKEN_ENV)
        api = (env_api_url() or ctx.github.api_url).rstrip("/")
        url = f"{api}/repos/{quote(ref.owner, safe='')}/{quote(ref.name, safe='')}"
        known = previous_meta(resource, ctx)
        started = time.monotonic()
        for attempt in range(1 + RATE_LIMIT_WAITS):
            headers = self._headers(url, api, token)
            if known.etag:
                headers["If-None-Match"] = known.etag
            self.requests["rest"] += 1
            fetch = await ctx.http.fetch(url, headers=headers, max_bytes=2_000_000)
            self._budget(ctx).update(fetch.headers)
            wait = _rate_limit_wait(fetch) if _rate_limited(fetch) else None
            if wait is None or wait > ctx.http.settings.retry_after_cap_s:
                break
            if attempt < RATE_LIMIT_WAITS:
                # A limit that lifts within what a run waits for is waited out, not reported.
                await asyncio.sleep(wait)
        base = replace(
            base, status=fetch.status, final_url=fetch.final_url, redirects=fetch.redirects,
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
