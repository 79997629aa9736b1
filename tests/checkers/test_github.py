"""The GitHub checker against a loopback emulation of the REST and GraphQL APIs."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator

import pytest

from monitor.checkers import checker_for
from monitor.checkers.base import CheckContext
from monitor.checkers.github import GithubChecker, graphql_query, moved_url, parse_repo
from monitor.config.catalog import EngineSettings, GithubSettings, infer_kind
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import HttpEngine
from tests.conftest import FIXTURES, LoopbackServer, Reply, Seen

GH = FIXTURES / "github"
LLM_COURSE = (GH / "repo_llm-course.json").read_bytes()
HANDS_ON = (GH / "repo_hands-on-llms.json").read_bytes()
GRAPHQL = json.loads((GH / "graphql_response.json").read_text())
TOKEN = "ghp_test0000000000000000000000000000000"
JSON = {"Content-Type": "application/json; charset=utf-8"}


def limits(remaining: int = 4999, reset: float | None = None) -> dict[str, str]:
    return {
        **JSON,
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset or time.time() + 3600)),
        "x-ratelimit-resource": "core",
    }


class GithubApi:
    """REST `GET /repos/{owner}/{repo}` and `POST /graphql` as GitHub answers them."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.graphql_nodes: dict[str, dict[str, object]] = {}
        # What lives inside each repository (lower-case full name), as GitHub resolves it:
        # `object(expression:)` -> "REF:PATH" or a commit, `ref(qualifiedName:)` -> a branch or
        # tag, `issueOrPullRequest(number:)`, `release(tagName:)`.
        self.objects: dict[str, set[str]] = {}
        self.refs: dict[str, set[str]] = {}
        self.numbers: dict[str, set[int]] = {}
        self.releases: dict[str, set[str]] = {}
        self.queries: list[str] = []
        server.routes["/graphql"] = self._graphql

    def repo(self, full_name: str, reply: Reply) -> None:
        self.server.routes[f"/repos/{full_name}"] = reply

    def rest_calls(self) -> list[Seen]:
        return [s for s in self.server.requests if s.path.startswith(("/repos/", "/repositories/"))]

    def graphql_calls(self) -> list[Seen]:
        return [s for s in self.server.requests if s.path == "/graphql"]

    def _graphql(self, seen: Seen) -> Reply:
        query = json.loads(seen.body)["query"]
        data: dict[str, object] = {}
        errors = []
        pattern = r'(r\d+): repository\(owner: "([^"]+)", name: "([^"]+)"\)'
        for line_no, line in enumerate(query.splitlines(), start=1):
            m = re.search(pattern, line)
            if not m:
                continue
            alias, owner, name = m.groups()
            key = f"{owner}/{name}".lower()
            node = self.graphql_nodes.get(key)
            if node is not None:
                node = {**node, **self._targets(key, alias, line, errors, line_no)}
            data[alias] = node
            if node is None:
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [{"line": line_no, "column": 3}],
                        "message": "Could not resolve to a Repository with the name "
                        f"'{owner}/{name}'.",
                    }
                )
        body: dict[str, object] = {"data": data}
        self.queries.append(query)
        if errors:
            body["errors"] = errors
        return Reply(200, json.dumps(body).encode(), limits())

    _FIELD = re.compile(
        r'(t\d+): (object|ref|issueOrPullRequest|release)\((\w+): ("(?:[^"\\]|\\.)*"|\d+)\)'
    )

    def _targets(
        self, key: str, alias: str, line: str, errors: list[dict[str, object]], line_no: int
    ) -> dict[str, object]:
        found: dict[str, object] = {}
        for m in self._FIELD.finditer(line):
            field_alias, kind, _, raw = m.groups()
            value = json.loads(raw)
            if kind == "object":
                hit = value in self.objects.get(key, set())
                found[field_alias] = {"__typename": "Blob"} if hit else None
            elif kind == "ref":
                hit = value in self.refs.get(key, set())
                found[field_alias] = {"name": value} if hit else None
            elif kind == "release":
                hit = value in self.releases.get(key, set())
                found[field_alias] = {"tagName": value} if hit else None
            else:
                hit = value in self.numbers.get(key, set())
                found[field_alias] = {"__typename": "Issue"} if hit else None
                if not hit:  # GitHub answers null *and* a NOT_FOUND error at the field's path
                    errors.append(
                        {
                            "type": "NOT_FOUND",
                            "path": [alias, field_alias],
                            "locations": [{"line": line_no, "column": 3}],
                            "message": "Could not resolve to an issue or pull request with "
                            f"the number of {value}.",
                        }
                    )
        return found


@pytest.fixture
def api(server: LoopbackServer) -> GithubApi:
    return GithubApi(server)


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    yield TOKEN


def res(url: str, rid: str = "repo") -> Resource:
    return Resource(id=rid, url=url, kind=Kind.GITHUB, section="s", label="l")


async def check_all(
    checker: GithubChecker,
    resources: list[Resource],
    api_url: str,
    previous: dict[str, CheckResult] | None = None,
    retry_after_cap_s: float = 60,
) -> list[CheckResult]:
    settings = EngineSettings(allow_private=True, retries=0, retry_after_cap_s=retry_after_cap_s)
    async with HttpEngine(settings) as http:
        ctx = CheckContext(
            http=http, github=GithubSettings(api_url=api_url), previous=previous or {}
        )
        await checker.prepare(resources, ctx)
        return [await checker.check(r, ctx) for r in resources]


def test_parse_repo_and_moved_url() -> None:
    ref = parse_repo("https://github.com/iusztinpaul/hands-on-llms?tab=readme-ov-file#hands-on")
    assert ref is not None and ref.full_name == "iusztinpaul/hands-on-llms" and ref.subpath is None
    ref = parse_repo("https://github.com/o/r.git/blob/main/docs/a.md")
    assert ref is not None and (ref.name, ref.subpath) == ("r", "blob/main/docs/a.md")
    assert (
        moved_url("https://github.com/old/r/tree/main/x?tab=1#top", "new/r2")
        == "https://github.com/new/r2/tree/main/x?tab=1#top"
    )


async def test_rest_fields_headers_and_etag(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits() | {"ETag": 'W/"5e3f1a"'}))
    [result] = await check_all(
        GithubChecker(), [res("https://github.com/mlabonne/llm-course")], server.url()
    )
    assert result.verdict is Verdict.OK, result
    meta = result.meta
    assert (meta.full_name, meta.stars, meta.forks, meta.open_issues) == (
        "mlabonne/llm-course",
        71842,
        8120,
        83,
    )
    assert (meta.archived, meta.disabled, meta.license, meta.default_branch) == (
        False,
        False,
        "Apache-2.0",
        "main",
    )
    assert meta.pushed_at == "2026-10-02T11:50:40Z" and meta.primary_language is None
    assert meta.topics == ("course", "large-language-models", "llm", "machine-learning", "roadmap")
    assert meta.etag == 'W/"5e3f1a"'
    sent = api.rest_calls()[0].headers
    assert sent["Accept"] == "application/vnd.github+json"
    assert sent["X-GitHub-Api-Version"] == "2022-11-28"
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert "If-None-Match" not in sent


async def test_without_token_no_authorization(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("iusztinpaul/hands-on-llms", Reply(200, HANDS_ON, limits(59)))
    url = "https://github.com/iusztinpaul/hands-on-llms?tab=readme-ov-file#hands-on-llms-course-"
    [result] = await check_all(GithubChecker(), [res(url)], server.url())
    assert "Authorization" not in api.rest_calls()[0].headers
    assert result.verdict is Verdict.OK
    assert result.meta.archived is True and "archived" in (result.note or "")


async def test_304_keeps_previous_metadata(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    def conditional(seen: Seen) -> Reply:
        if seen.headers.get("If-None-Match") == 'W/"5e3f1a"':
            return Reply(304, b"", limits(60))
        return Reply(200, LLM_COURSE, limits(59) | {"ETag": 'W/"5e3f1a"'})

    server.routes["/repos/mlabonne/llm-course"] = conditional
    r = res("https://github.com/mlabonne/llm-course")
    [first] = await check_all(GithubChecker(), [r], server.url())
    [second] = await check_all(GithubChecker(), [r], server.url(), previous={r.id: first})
    assert second.verdict is Verdict.OK and second.status == 304
    assert second.note == "not modified (ETag)"
    assert second.meta == first.meta and second.meta.stars == 71842


async def test_renamed_repo_301_is_moved(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    moved = server.url("/repositories/665296150")
    api.repo(
        "oldname/llm-course",
        Reply(301, (GH / "moved_301.json").read_bytes(), {**JSON, "Location": moved}),
    )
    server.routes["/repositories/665296150"] = Reply(200, LLM_COURSE, limits())
    [result] = await check_all(
        GithubChecker(), [res("https://github.com/oldname/llm-course#readme")], server.url()
    )
    assert result.verdict is Verdict.MOVED
    assert result.moved_to == "https://github.com/mlabonne/llm-course#readme"
    assert [h.status for h in result.redirects] == [301]
    assert result.meta.stars == 71842


async def test_case_only_difference_is_ok_other_name_is_moved(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("MLabonne/LLM-Course", Reply(200, LLM_COURSE, limits()))
    api.repo("someone/llm-course", Reply(200, LLM_COURSE, limits()))
    results = await check_all(
        GithubChecker(),
        [
            res("https://github.com/MLabonne/LLM-Course", "a"),
            res("https://github.com/someone/llm-course", "b"),
        ],
        server.url(),
    )
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.MOVED]
    assert results[1].moved_to == "https://github.com/mlabonne/llm-course"


async def test_404_and_451_are_broken(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("ghost/gone", Reply(404, (GH / "not_found_404.json").read_bytes(), limits()))
    api.repo("taken/down", Reply(451, (GH / "dmca_451.json").read_bytes(), limits()))
    gone, down = await check_all(
        GithubChecker(),
        [res("https://github.com/ghost/gone", "a"), res("https://github.com/taken/down", "b")],
        server.url(),
    )
    assert gone.verdict is Verdict.BROKEN and "not found" in (gone.error or "")
    assert down.verdict is Verdict.BROKEN
    assert "dmca" in (down.error or "") and "github/dmca" in (down.error or "")


@pytest.mark.parametrize(
    "headers",
    [limits(0), {**JSON, "retry-after": "60"}],
    ids=["remaining-0", "retry-after"],
)
@pytest.mark.parametrize("status", [403, 429])
async def test_rate_limit_is_blocked_never_broken(
    api: GithubApi, server: LoopbackServer, no_token: None, headers: dict[str, str], status: int
) -> None:
    api.repo(
        "mlabonne/llm-course", Reply(status, (GH / "rate_limited_403.json").read_bytes(), headers)
    )
    r = res("https://github.com/mlabonne/llm-course")
    previous = {
        r.id: CheckResult(
            r.id, r.url, Verdict.OK, meta=Metadata(stars=70000, full_name="mlabonne/llm-course")
        )
    }
    # a wait beyond what the run accepts (here 5 s) is not waited out
    [result] = await check_all(
        GithubChecker(), [r], server.url(), previous=previous, retry_after_cap_s=5
    )
    assert result.verdict is Verdict.BLOCKED
    assert result.meta.stars == 70000 and result.partial


async def test_budget_defers_the_rest(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits(1)))
    for i in range(3):
        api.repo(f"o/r{i}", Reply(200, LLM_COURSE, limits(0)))
    resources = [res("https://github.com/mlabonne/llm-course", "first")]
    resources += [res(f"https://github.com/o/r{i}", f"r{i}") for i in range(3)]
    results = await check_all(GithubChecker(), resources, server.url())
    # One request left after the first answer: one more is spent, the other two deferred.
    assert len(api.rest_calls()) == 2
    assert [r.verdict for r in results[2:]] == [Verdict.BLOCKED, Verdict.BLOCKED]
    assert all((r.note or "").startswith("deferred: rate limit") for r in results[2:])


async def test_budget_waits_for_a_near_reset(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    # 2.2 s: the header holds whole seconds, and a loaded machine may stall a few tenths
    # between the answer and the next check (a reset already past is rightly not waited for)
    reset = time.time() + 2.2
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits(0, reset)))
    api.repo("o/next", Reply(200, LLM_COURSE, limits(59)))
    resources = [
        res("https://github.com/mlabonne/llm-course", "a"),
        res("https://github.com/o/next", "b"),
    ]
    results = await check_all(GithubChecker(), resources, server.url(), retry_after_cap_s=30)
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.MOVED]
    calls = api.rest_calls()
    # The second request waited for the (whole-second) reset time the server announced.
    assert len(calls) == 2 and time.time() >= int(reset)
    assert calls[1].at - calls[0].at >= 0.2


async def test_token_never_leaves_the_api_host_across_redirects(
    server: LoopbackServer, token: str
) -> None:
    other = LoopbackServer(host="127.0.0.2").start()
    try:
        server.routes["/repos/old/llm-course"] = Reply(
            301,
            (GH / "moved_301.json").read_bytes(),
            {**JSON, "Location": other.url("/repositories/665296150")},
        )
        other.routes["/repositories/665296150"] = Reply(200, LLM_COURSE, limits())
        [result] = await check_all(
            GithubChecker(), [res("https://github.com/old/llm-course")], server.url()
        )
    finally:
        other.stop()
    assert result.verdict is Verdict.MOVED
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(other.requests) == 1
    assert all(TOKEN not in value for value in other.requests[0].headers.values())
    assert "Authorization" not in other.requests[0].headers


def _node(full_name: str) -> dict[str, object]:
    node = copy.deepcopy(GRAPHQL["data"]["r0"])
    node["nameWithOwner"] = full_name
    node["url"] = f"https://github.com/{full_name}"
    return node


async def test_graphql_batch_one_request_for_many(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    names = [f"owner{i}/repo{i}" for i in range(6)]
    for name in names:
        api.graphql_nodes[name] = _node(name)
    api.graphql_nodes["renamed/repo"] = _node("newowner/repo")  # GraphQL resolves renames
    resources = [res(f"https://github.com/{n}", f"id{i}") for i, n in enumerate(names)]
    resources += [res("https://github.com/ghost-owner/deleted-repo", "gone")]
    resources += [res("https://github.com/renamed/repo", "renamed")]
    checker = GithubChecker()
    results = await check_all(checker, resources, server.url())
    assert len(api.graphql_calls()) == 1 and api.rest_calls() == []
    assert checker.requests == {"rest": 0, "graphql": 1}
    assert api.graphql_calls()[0].headers["Authorization"] == f"Bearer {TOKEN}"
    by_id = {r.resource_id: r for r in results}
    assert all(by_id[f"id{i}"].verdict is Verdict.OK for i in range(6))
    assert by_id["id0"].meta.stars == 71842 and by_id["id0"].meta.open_issues == 61 + 22
    assert by_id["id0"].meta.topics == (
        "course",
        "large-language-models",
        "llm",
        "machine-learning",
        "roadmap",
    )
    assert by_id["gone"].verdict is Verdict.BROKEN and "NOT_FOUND" in (by_id["gone"].error or "")
    assert by_id["renamed"].verdict is Verdict.MOVED
    assert by_id["renamed"].moved_to == "https://github.com/newowner/repo"


async def test_without_token_many_repos_use_rest(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    names = [f"owner{i}/repo{i}" for i in range(8)]
    for name in names:
        body = json.loads(LLM_COURSE)
        body["full_name"] = name
        api.repo(name, Reply(200, json.dumps(body).encode(), limits()))
    checker = GithubChecker()
    results = await check_all(
        checker, [res(f"https://github.com/{n}", n) for n in names], server.url()
    )
    assert all(r.verdict is Verdict.OK for r in results)
    assert checker.requests == {"rest": 8, "graphql": 0}


async def test_graphql_failure_falls_back_to_rest(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    server.routes["/graphql"] = Reply(502, b"Bad Gateway")
    names = [f"owner{i}/repo{i}" for i in range(6)]
    for name in names:
        body = json.loads(LLM_COURSE)
        body["full_name"] = name
        api.repo(name, Reply(200, json.dumps(body).encode(), limits()))
    checker = GithubChecker()
    results = await check_all(
        checker, [res(f"https://github.com/{n}", n) for n in names], server.url()
    )
    assert all(r.verdict is Verdict.OK for r in results)
    assert checker.requests == {"rest": 6, "graphql": 1}


def test_graphql_query_shape() -> None:
    query = graphql_query(
        [parse_repo("https://github.com/a/b"), parse_repo('https://github.com/x/y"z')]
    )  # type: ignore[list-item]
    assert 'r0: repository(owner: "a", name: "b")' in query
    assert 'r1: repository(owner: "x", name: "y\\"z")' in query
    assert "stargazerCount" in query and "issues(states: OPEN) { totalCount }" in query


async def test_a_repository_page_link_checks_the_repo_and_names_the_path(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits()))
    url = "https://github.com/mlabonne/llm-course/issues"
    [result] = await check_all(GithubChecker(), [res(url)], server.url())
    assert [s.path for s in api.rest_calls()] == ["/repos/mlabonne/llm-course"]
    assert result.verdict is Verdict.OK
    assert result.note == "path in repository: issues"


# ------------------------------------------------------------------------------ deep links

REPO = "https://github.com/mlabonne/llm-course"


def _llm_course_api(api: GithubApi) -> None:
    """llm-course as GitHub would resolve what lives inside it."""
    key = "mlabonne/llm-course"
    api.graphql_nodes[key] = _node("mlabonne/llm-course")
    api.objects[key] = {"main:README.md", "feature/x:docs", "feature/x:docs/a.md", "a1b2c3d"}
    api.refs[key] = {"main", "feature/x", "v1.0"}
    api.numbers[key] = {12, 3}
    api.releases[key] = {"v1.0"}


@pytest.mark.parametrize(
    ("path", "verdict", "error"),
    [
        ("/blob/main/README.md", Verdict.OK, None),
        ("/blob/main/missing.md", Verdict.BROKEN, "file main:missing.md not found in "),
        ("/tree/feature/x/docs", Verdict.OK, None),  # a branch name with a slash
        (
            "/blob/feature/x/docs/gone.md",
            Verdict.BROKEN,
            "file feature:x/docs/gone.md not found in ",
        ),
        ("/tree/main", Verdict.OK, None),
        ("/tree/no-such-branch", Verdict.BROKEN, "ref no-such-branch not found in "),
        ("/commit/a1b2c3d", Verdict.OK, None),
        ("/issues/12", Verdict.OK, None),
        ("/issues/99999", Verdict.BROKEN, "issue #99999 not found in "),
        ("/pull/3", Verdict.OK, None),
        ("/pull/4", Verdict.BROKEN, "pull request #4 not found in "),
        ("/releases/tag/v1.0", Verdict.OK, None),
        ("/releases/tag/v9.9", Verdict.BROKEN, "release v9.9 not found in "),
    ],
)
async def test_deep_links_check_their_target_in_the_graphql_batch(
    api: GithubApi, server: LoopbackServer, token: str, path: str, verdict: Verdict, error: str
) -> None:
    _llm_course_api(api)
    [result] = await check_all(GithubChecker(), [res(REPO + path)], server.url())
    assert len(api.graphql_calls()) == 1 and api.rest_calls() == []
    assert result.verdict is verdict
    if error:
        assert result.error == error + "mlabonne/llm-course"


async def test_many_deep_links_and_repos_share_one_query(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    _llm_course_api(api)
    api.graphql_nodes["o/other"] = _node("o/other")
    resources = [
        res(REPO + "/blob/main/README.md", "a"),
        res(REPO + "/issues/99999", "b"),
        res("https://github.com/o/other", "c"),
        res("https://github.com/ghost/gone/blob/main/x.md", "d"),
    ]
    checker = GithubChecker()
    results = {r.resource_id: r for r in await check_all(checker, resources, server.url())}
    assert checker.requests == {"rest": 0, "graphql": 1}
    assert results["a"].verdict is Verdict.OK
    # a missing issue's NOT_FOUND error is the issue's, not the repository's
    assert results["b"].verdict is Verdict.BROKEN
    assert results["b"].error == "issue #99999 not found in mlabonne/llm-course"
    assert results["c"].verdict is Verdict.OK
    assert results["d"].verdict is Verdict.BROKEN
    assert results["d"].error == "repository ghost/gone not found (GraphQL NOT_FOUND)"


async def check_web(
    resources: list[Resource], web: LoopbackServer, api_url: str
) -> list[CheckResult]:
    """github.com itself served by a loopback server (--remap), the API by another."""
    settings = EngineSettings(allow_private=True, retries=0)
    remap = [(re.compile(r"^https://github\.com"), web.url(""))]
    async with HttpEngine(settings, remap=remap) as http:
        ctx = CheckContext(http=http, github=GithubSettings(api_url=api_url))
        results = []
        for resource in resources:
            checker = checker_for(resource)
            assert checker is not None
            prepare = getattr(checker, "prepare", None)
            if prepare is not None:
                await prepare([resource], ctx)
            results.append(await checker.check(resource, ctx))
        return results


@pytest.fixture
def github_web() -> Iterator[LoopbackServer]:
    srv = LoopbackServer(host="127.0.0.3").start()
    try:
        yield srv
    finally:
        srv.stop()


PAGE = b"<html><head><title>llm-course</title></head><body><h1>llm-course</h1></body></html>"


async def test_without_a_token_deep_links_are_checked_on_their_web_page(
    api: GithubApi, server: LoopbackServer, no_token: None, github_web: LoopbackServer
) -> None:
    github_web.routes["/mlabonne/llm-course/blob/main/README.md"] = Reply(200, PAGE)
    # any other path: the loopback server's 404, as github.com answers a missing file
    results = await check_web(
        [res(REPO + "/blob/main/README.md", "a"), res(REPO + "/blob/main/missing.md", "b")],
        github_web,
        server.url(),
    )
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.BROKEN]
    assert results[1].error == "HTTP 404"
    assert api.rest_calls() == [] and api.graphql_calls() == []
    assert [s.path for s in github_web.requests] == [
        "/mlabonne/llm-course/blob/main/README.md",
        "/mlabonne/llm-course/blob/main/missing.md",
    ]


async def test_wiki_pages_go_to_the_web_checker_even_with_a_token(
    api: GithubApi, server: LoopbackServer, token: str, github_web: LoopbackServer
) -> None:
    _llm_course_api(api)
    github_web.routes["/mlabonne/llm-course/wiki/Home"] = Reply(200, PAGE)
    [ok, gone] = await check_web(
        [res(REPO + "/wiki/Home", "a"), res(REPO + "/wiki/Nope", "b")], github_web, server.url()
    )
    assert (ok.verdict, gone.verdict) == (Verdict.OK, Verdict.BROKEN)
    assert ok.checker == "web" and api.graphql_calls() == []


@pytest.mark.parametrize(
    "path",
    [
        "/user-attachments/assets/0b5f6c7e-3a4b-4c6d-9e8f-1a2b3c4d5e6f",
        "/advisories/GHSA-jfh8-c2jp-5v3q",
        "/orgs/huggingface/repositories",
        "/settings/tokens",
        "/sponsors/mlabonne",
        "/marketplace/actions/checkout",
        "/mlabonne",  # a profile page: no repository at all
    ],
)
async def test_github_site_pages_are_web_links_never_broken_repositories(
    api: GithubApi, server: LoopbackServer, no_token: None, github_web: LoopbackServer, path: str
) -> None:
    github_web.routes[path] = Reply(200, PAGE)
    url = "https://github.com" + path
    assert infer_kind(url) is Kind.WEB
    # even a catalog that says kind = "github" gets the web checker
    [result] = await check_web([res(url)], github_web, server.url())
    assert result.verdict is Verdict.OK and result.checker == "web"
    assert api.rest_calls() == []


def test_reserved_names_come_from_githubs_list_not_a_short_one() -> None:
    from monitor.config.github_names import GITHUB_RESERVED

    assert len(GITHUB_RESERVED) > 300
    assert {"user-attachments", "advisories", "orgs", "settings", "assets"} <= GITHUB_RESERVED


# ------------------------------------------------------------------------------ rate limits


async def test_a_rate_limit_that_lifts_in_seconds_is_waited_out(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    # An earlier answer announced the hour's window...
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits(4999, time.time() + 3600)))
    answers = iter([Reply(403, (GH / "rate_limited_403.json").read_bytes(),
                          limits(0, time.time() + 2)),
                    Reply(200, HANDS_ON, limits(4998, time.time() + 3600))])  # fmt: skip
    api.repo("o/next", lambda seen: next(answers))
    api.repo("o/third", Reply(200, LLM_COURSE, limits(4997, time.time() + 3600)))
    resources = [res(REPO, "a"), res("https://github.com/o/next", "b")]
    resources.append(res("https://github.com/o/third", "c"))
    results = await check_all(GithubChecker(), resources, server.url(), retry_after_cap_s=30)
    # ...and the 403 whose reset is 2 s away is waited out, not deferred for that hour, and
    # the bookkeeping does not keep the hour's reset with the 403's zero either
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.MOVED, Verdict.MOVED]
    assert not any(r.deferred for r in results)
    calls = [c for c in api.rest_calls() if c.path == "/repos/o/next"]
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 1.0


async def test_a_rate_limit_beyond_the_wait_budget_is_blocked_not_waited(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    body = (GH / "rate_limited_403.json").read_bytes()
    api.repo("o/next", Reply(403, body, limits(0, time.time() + 600)))
    started = time.monotonic()
    [result] = await check_all(
        GithubChecker(), [res("https://github.com/o/next")], server.url(), retry_after_cap_s=5
    )
    assert result.verdict is Verdict.BLOCKED and time.monotonic() - started < 5
    assert len(api.rest_calls()) == 1


@pytest.mark.parametrize(
    ("reply_file", "status", "error"),
    [
        ("dmca_451.json", 451, "unavailable for legal reasons"),
        ("not_found_404.json", 404, "repository taken/down not found"),
    ],
)
async def test_a_deferred_second_opinion_keeps_the_definitive_answer(
    api: GithubApi, server: LoopbackServer, no_token: None, reply_file: str, status: int, error: str
) -> None:
    from monitor.run.pipeline import run_checks

    # The definitive answer also says the hour's budget is spent: the recheck can send nothing.
    api.repo("taken/down", Reply(status, (GH / reply_file).read_bytes(),
                                 limits(0, time.time() + 3600)))  # fmt: skip
    settings = EngineSettings(allow_private=True, retries=0, recheck_interval_ms=0)
    async with HttpEngine(settings) as http:
        ctx = CheckContext(http=http, github=GithubSettings(api_url=server.url()))
        outcome = await run_checks([res("https://github.com/taken/down")], ctx)
    [result] = outcome.results
    assert len(api.rest_calls()) == 1  # the second opinion sent nothing
    assert result.verdict is Verdict.BROKEN and result.status == status
    assert result.error is not None and result.error.startswith(error)
    assert "second check not made (deferred: rate limit" in (result.note or "")
